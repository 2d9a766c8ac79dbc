"""text: TextVectorization -> Embedding -> GlobalAveragePooling1D -> Dense -> softmax (end to end)."""
from __future__ import annotations

from workers.trainers.base import TrainInput, TrainResult
from workers.trainers.keras_common import (
    fit_and_save,
    l2,
    prepare,
    seed_everything,
    text_column,
    vocabulary_state,
    write_vocabulary,
)
from workers.trainers.text_layers import fitted_vectorizer


def train(inp: TrainInput) -> TrainResult:
    import keras

    p = inp.params
    seed_everything(p["seed"])
    prep = prepare(inp, text_column(inp.data.texts))
    vectorizer = fitted_vectorizer(p, prep.x_train)
    layers: list = [
        keras.Input(shape=(1,), dtype="string"), vectorizer,
        keras.layers.Embedding(len(vectorizer.get_vocabulary()), p["embedding_dim"]),
        keras.layers.GlobalAveragePooling1D(),
    ]
    if p["dropout"] > 0:
        layers.append(keras.layers.Dropout(p["dropout"]))
    if p["dense_units"]:
        layers.append(keras.layers.Dense(p["dense_units"], activation="relu", kernel_regularizer=l2(p)))
    layers.append(keras.layers.Dense(len(inp.data.class_names), activation="softmax"))
    result = fit_and_save(inp, keras.Sequential(layers), prep, inp.data.class_names,
                          vocabulary_state(vectorizer))
    result.files.append(write_vocabulary(vectorizer, inp.workdir / "vocabulary.txt"))
    return result

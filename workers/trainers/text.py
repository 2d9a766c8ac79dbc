"""text: TextVectorization -> Embedding -> GlobalAveragePooling1D -> Dense -> softmax (end to end)."""
from __future__ import annotations

from workers.trainers.context import TrainContext
from workers.trainers.keras_common import l2
from workers.trainers.text_layers import fit_text_model, prepare_text


def train(ctx: TrainContext) -> None:
    import keras

    p = ctx.params
    prep, vectorizer = prepare_text(ctx)
    layers: list = [
        keras.Input(shape=(1,), dtype="string"), vectorizer,
        keras.layers.Embedding(len(vectorizer.get_vocabulary()), p["embedding_dim"]),
        keras.layers.GlobalAveragePooling1D(),
    ]
    if p["dropout"] > 0:
        layers.append(keras.layers.Dropout(p["dropout"]))
    if p["dense_units"]:
        layers.append(keras.layers.Dense(p["dense_units"], activation="relu", kernel_regularizer=l2(p)))
    layers.append(keras.layers.Dense(len(ctx.data.class_names), activation="softmax"))
    fit_text_model(ctx, keras.Sequential(layers), prep, vectorizer)

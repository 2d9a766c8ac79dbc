"""rnn: TextVectorization -> Embedding -> LSTM/GRU stack -> softmax, for text.

The vectorizer (vocabulary fitted on training texts) is the model's first layer,
so ``model.keras`` takes raw strings.
"""
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
from workers.trainers.text_layers import fitted_vectorizer, recurrent_stack


def train(inp: TrainInput) -> TrainResult:
    import keras

    p = inp.params
    seed_everything(p["seed"])
    prep = prepare(inp, text_column(inp.data.texts))
    vectorizer = fitted_vectorizer(p, prep.x_train)
    model = keras.Sequential([
        keras.Input(shape=(1,), dtype="string"), vectorizer,
        keras.layers.Embedding(len(vectorizer.get_vocabulary()), p["embedding_dim"], mask_zero=True),
        *recurrent_stack(p, l2(p)),
        keras.layers.Dense(len(inp.data.class_names), activation="softmax"),
    ])
    result = fit_and_save(inp, model, prep, inp.data.class_names, vocabulary_state(vectorizer))
    result.files.append(write_vocabulary(vectorizer, inp.workdir / "vocabulary.txt"))
    return result

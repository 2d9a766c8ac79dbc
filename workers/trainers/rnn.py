"""rnn: TextVectorization -> Embedding -> LSTM/GRU stack -> softmax, for text.

The vectorizer (vocabulary fitted on training texts) is the model's first layer,
so ``model.keras`` takes raw strings.
"""
from __future__ import annotations

from workers.trainers.context import TrainContext
from workers.trainers.keras_common import l2
from workers.trainers.text_layers import fit_text_model, prepare_text, recurrent_stack


def train(ctx: TrainContext) -> None:
    import keras

    p = ctx.params
    prep, vectorizer = prepare_text(ctx)
    model = keras.Sequential([
        keras.Input(shape=(1,), dtype="string"), vectorizer,
        keras.layers.Embedding(len(vectorizer.get_vocabulary()), p["embedding_dim"], mask_zero=True),
        *recurrent_stack(p, l2(p)),
        keras.layers.Dense(len(ctx.data.class_names), activation="softmax"),
    ])
    fit_text_model(ctx, model, prep, vectorizer)

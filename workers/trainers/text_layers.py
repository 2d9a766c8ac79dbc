"""Building blocks of the text kinds: a vectorizer fitted on training texts, recurrent stacks."""
from __future__ import annotations

from typing import Any

import numpy as np


def fitted_vectorizer(params: dict[str, Any], train_texts: np.ndarray, vocabulary: list[str] | None = None):
    """TextVectorization fitted on the training split only (or given a vocabulary), saved with the model."""
    import keras

    vectorizer = keras.layers.TextVectorization(max_tokens=params["max_tokens"], output_mode="int",
                                                output_sequence_length=params["sequence_length"])
    if vocabulary is not None:
        vectorizer.set_vocabulary(vocabulary)
    else:
        vectorizer.adapt(train_texts)
    return vectorizer


def recurrent_stack(params: dict[str, Any], kernel_regularizer) -> list:
    """LSTM or GRU layers, optionally bidirectional; every layer but the last returns sequences."""
    import keras

    cell = keras.layers.LSTM if params["cell"] == "lstm" else keras.layers.GRU
    layers = []
    for i in range(params["rnn_layers"]):
        last = i == params["rnn_layers"] - 1
        layer = cell(params["units"], return_sequences=not last, kernel_regularizer=kernel_regularizer,
                     dropout=params.get("dropout", 0.0))
        layers.append(keras.layers.Bidirectional(layer) if params["bidirectional"] else layer)
    return layers


def prepare_text(ctx):
    """Seed, split the texts, fit the vectorizer on the training split: what every text kind starts with."""
    from workers.trainers.keras_common import seed_everything

    seed_everything(ctx.params["seed"])
    prep = ctx.split()
    return prep, fitted_vectorizer(ctx.params, prep.x_train)


def fit_text_model(ctx, model, prep, vectorizer, extra_metrics: dict[str, Any] | None = None) -> None:
    """Fit and save a text model; its vocabulary goes with the artifacts."""
    from workers.trainers.keras_common import fit_and_save, vocabulary_state, write_vocabulary

    fit_and_save(ctx, model, prep, ctx.data.class_names, vocabulary_state(vectorizer), extra_metrics)
    ctx.add_artifact(write_vocabulary(vectorizer, ctx.workdir / "vocabulary.txt"))

"""mlp: Normalization -> Dense x N (+ dropout, L2) -> softmax, for tabular data.

The Normalization layer is fitted on the training rows only and saved inside the
model, so ``model.keras`` takes raw feature rows.
"""
from __future__ import annotations

from workers.trainers.context import TrainContext
from workers.trainers.keras_common import fit_and_save, l2, prepare, seed_everything


def train(ctx: TrainContext) -> None:
    import keras

    p = ctx.params
    seed_everything(p["seed"])
    prep = prepare(ctx, ctx.data.X)
    norm = keras.layers.Normalization()
    norm.adapt(prep.x_train)
    layers: list = [keras.Input(shape=(prep.x_train.shape[1],)), norm]
    for _ in range(p["hidden_layers"]):
        layers.append(keras.layers.Dense(p["hidden_units"], activation="relu", kernel_regularizer=l2(p)))
        if p["dropout"] > 0:
            layers.append(keras.layers.Dropout(p["dropout"]))
    layers.append(keras.layers.Dense(len(ctx.data.class_names), activation="softmax"))
    model = keras.Sequential(layers)
    preprocessing = {"type": "Normalization", "fitted_on": "train split",
                     "features": ctx.data.feature_names,
                     "mean": [float(x) for x in norm.mean.numpy().ravel()],
                     "variance": [float(x) for x in norm.variance.numpy().ravel()]}
    fit_and_save(ctx, model, prep, ctx.data.class_names, preprocessing)

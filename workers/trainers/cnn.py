"""cnn: [Conv2D -> MaxPooling2D] x N -> Dense -> softmax, for small images.

Pixel scaling (a Normalization layer fitted on the training images) is inside the
model, so ``model.keras`` takes raw image arrays.
"""
from __future__ import annotations

from workers.trainers.context import TrainContext
from workers.trainers.keras_common import fit_and_save, l2, prepare, seed_everything


def train(ctx: TrainContext) -> None:
    import keras

    p = ctx.params
    seed_everything(p["seed"])
    prep = prepare(ctx, ctx.data.X)
    norm = keras.layers.Normalization(axis=None)
    norm.adapt(prep.x_train)
    layers: list = [keras.Input(shape=prep.x_train.shape[1:]), norm]
    height, width = prep.x_train.shape[1:3]
    filters = p["filters"]
    for _ in range(p["conv_layers"]):
        layers.append(keras.layers.Conv2D(filters, p["kernel_size"], padding="same", activation="relu",
                                          kernel_regularizer=l2(p)))
        if min(height, width) >= 2:  # pool while the feature map is big enough
            layers.append(keras.layers.MaxPooling2D(2))
            height, width = height // 2, width // 2
        filters *= 2
    layers += [keras.layers.Flatten(),
               keras.layers.Dense(p["dense_units"], activation="relu", kernel_regularizer=l2(p))]
    if p["dropout"] > 0:
        layers.append(keras.layers.Dropout(p["dropout"]))
    layers.append(keras.layers.Dense(len(ctx.data.class_names), activation="softmax"))
    preprocessing = {"type": "Normalization", "fitted_on": "train split",
                     "image_shape": list(prep.x_train.shape[1:]),
                     "mean": float(norm.mean.numpy().ravel()[0]),
                     "variance": float(norm.variance.numpy().ravel()[0])}
    fit_and_save(ctx, keras.Sequential(layers), prep, ctx.data.class_names, preprocessing)

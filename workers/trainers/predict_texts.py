"""Predict with the model.keras beside this file on plain strings. Shipped as ``predict.py`` with every
model that takes text, so a downloaded model needs nothing from Trainyard, only keras and tensorflow:

    import predict                                   # this file, downloaded next to model.keras
    model = predict.load("model.keras")              # the Keras model itself, loaded in safe mode
    model.predict(["a fine film", "dull and slow"])  # a Python list of strings
    model.predict(np.array(["a fine film", "dull"])) # a NumPy string array (str, bytes or object; any shape)

or from a shell: ``python predict.py model.keras "a fine film" "dull and slow"`` (prints one row of class
probabilities per text). Keras's ``predict`` refuses a Python list of strings and NumPy object arrays;
``load`` wraps only that one method of the loaded model, turning strings into the string tensor the model's
input (TextVectorization inside it) takes. Everything else is the plain Keras model.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def as_strings(texts: Any) -> Any:
    """A string, a list of strings or a NumPy array of them as the ``(n, 1)`` tf.string tensor the model takes.

    One text per element, in order; bytes are taken as UTF-8. A TensorFlow tensor is passed on unchanged.
    """
    import numpy as np
    import tensorflow as tf

    if isinstance(texts, tf.Tensor):
        return texts
    if isinstance(texts, str | bytes):
        texts = [texts]
    flat = np.asarray(texts, dtype=object).reshape(-1)
    return tf.constant([[t.decode("utf-8") if isinstance(t, bytes) else str(t)] for t in flat], dtype=tf.string)


def load(path: str | Path = Path(__file__).with_name("model.keras")) -> Any:
    """The Keras model at ``path`` (safe mode), whose ``predict`` also takes plain strings."""
    import keras

    model = keras.models.load_model(path, safe_mode=True)
    keras_predict = model.predict

    def predict(x: Any, *args: Any, **kwargs: Any) -> Any:
        return keras_predict(as_strings(x), *args, **{"verbose": 0, **kwargs})

    model.predict = predict  # this model only
    return model


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: python predict.py model.keras TEXT [TEXT ...]")
    for row in load(sys.argv[1]).predict(sys.argv[2:]):
        print(" ".join(f"{p:.6f}" for p in row))

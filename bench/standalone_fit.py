"""Fit and save the mlp/digits model in a fresh process, as a user's own script would.

The same model, data split, seed and settings as ``workers/trainers/mlp.py`` with
its defaults (Normalization + Dense(64, relu) + softmax, Adam 0.001, batch 32,
validation 0.1, seed 42), plus the same held-out prediction and ``model.keras`` save.
Usage: ``python bench/standalone_fit.py [--epochs 20] [--out DIR]``.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    """Load digits, split like the platform, train, predict the held-out rows, save."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    import keras
    import numpy as np
    import tensorflow as tf
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    seed = 42
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    bunch = load_digits()
    X, y = bunch.data.astype(np.float32), bunch.target.astype(np.int64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    X_train, X_val, y_train, y_val = train_test_split(X_train, y_train, test_size=0.1, random_state=seed,
                                                      stratify=y_train)
    norm = keras.layers.Normalization()
    norm.adapt(X_train)
    model = keras.Sequential([keras.Input(shape=(X_train.shape[1],)), norm,
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(X_train, y_train, validation_data=(X_val, y_val), epochs=args.epochs, batch_size=32,
              verbose=0, shuffle=True)
    accuracy = float(np.mean(np.argmax(model.predict(X_test, verbose=0), axis=1) == y_test))
    out = args.out or Path(tempfile.mkdtemp(prefix="standalone-fit-"))
    model.save(out / "model.keras")
    print(f"test_accuracy={accuracy:.4f} saved={out / 'model.keras'}")


if __name__ == "__main__":
    main()

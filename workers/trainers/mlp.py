"""mlp: Normalization -> Dense x N (+ dropout) -> softmax, for tabular data.

The Normalization layer is part of the saved model, so ``model.keras`` takes raw
feature rows: what a user downloads predicts without our preprocessing code.
"""
from __future__ import annotations

import numpy as np

from app.data.builtin import holdout_split
from workers.trainers.base import TrainInput, TrainResult, framework_versions, write_history, write_metrics
from workers.trainers.evaluate import classification_metrics


def train(inp: TrainInput) -> TrainResult:
    import keras
    import tensorflow as tf
    from sklearn.model_selection import train_test_split

    p = inp.params
    keras.utils.set_random_seed(p["seed"])
    tf.config.experimental.enable_op_determinism()
    data = inp.data
    X_train, X_test, y_train, y_test = holdout_split(data)
    val = None
    if p["validation_split"] > 0:
        X_train, X_val, y_train, y_val = train_test_split(
            X_train, y_train, test_size=p["validation_split"], random_state=p["seed"], stratify=y_train)
        val = (X_val, y_val)
    n_classes = len(data.class_names)

    norm = keras.layers.Normalization()
    norm.adapt(X_train)
    layers: list = [keras.Input(shape=(X_train.shape[1],)), norm]
    for _ in range(p["hidden_layers"]):
        layers.append(keras.layers.Dense(p["hidden_units"], activation="relu"))
        if p["dropout"] > 0:
            layers.append(keras.layers.Dropout(p["dropout"]))
    layers.append(keras.layers.Dense(n_classes, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(p["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    from workers.trainers.keras_progress import ReportProgress

    steps = int(np.ceil(len(X_train) / p["batch_size"]))
    history = model.fit(X_train, y_train, validation_data=val, epochs=p["epochs"],
                        batch_size=p["batch_size"], verbose=0, shuffle=True,
                        callbacks=[ReportProgress(inp.report, p["epochs"], steps)])

    metrics = classification_metrics(model, X_test, y_test, n_classes)
    metrics.update({f"final_{k}": float(v[-1]) for k, v in history.history.items()})
    metrics.update({"epochs_run": len(history.history["loss"]), "n_train": len(X_train),
                    "n_validation": len(val[0]) if val else 0, "n_test": len(X_test)})
    out = inp.workdir
    model.save(out / "model.keras")
    return TrainResult(
        metrics=metrics,
        files=[out / "model.keras", write_metrics(out / "metrics.json", metrics),
               write_history(out / "history.csv", history.history)],
        framework=framework_versions(),
    )

"""The pipeline every Keras classifier kind shares: split, fit, evaluate, save, report.

A kind module only builds its network (with its preprocessing layers inside, so
the saved model takes raw rows, images or text) and hands it here.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.data.split import Split, split_indices
from workers.trainers.base import TrainInput, TrainResult, framework_versions, write_history, write_json
from workers.trainers.evaluate import classification_metrics
from workers.trainers.plots import plot_confusion, plot_history


@dataclass(frozen=True)
class Prepared:
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    split: Split


def seed_everything(seed: int) -> None:
    """Same seed, params and data -> same weights and metrics on CPU."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def prepare(inp: TrainInput, x: np.ndarray) -> Prepared:
    """Cut ``x`` (rows aligned with the data's labels) into train / validation / test."""
    y = inp.data.y
    s = split_indices(y, seed=inp.params["seed"], validation_fraction=inp.params["validation_split"])

    def rows(idx: np.ndarray):
        if x.dtype.kind in "OU":  # Keras takes strings as tf tensors, not numpy string arrays
            import tensorflow as tf

            values = x[idx].astype(object).tolist() if len(idx) else np.zeros((0, 1), dtype=str)
            return tf.constant(values, dtype=tf.string)
        return x[idx]

    return Prepared(rows(s.train), y[s.train], rows(s.validation), y[s.validation], rows(s.test),
                    y[s.test], s)


def text_column(texts: list[str]) -> np.ndarray:
    """Texts as the (n, 1) string array a TextVectorization input expects."""
    return np.array(texts, dtype=str).reshape(-1, 1)


def l2(params: dict[str, Any]):
    import keras

    return keras.regularizers.L2(params["l2"]) if params.get("l2") else None


@dataclass(frozen=True)
class _Fitted:
    model: Any
    history: dict[str, list[float]]
    initial_epoch: int
    resumed: bool
    train_seconds: float


def fit_and_save(inp: TrainInput, model, prep: Prepared, class_names: list[str],
                 preprocessing: dict[str, Any], extra_metrics: dict[str, Any] | None = None) -> TrainResult:
    """Compile, fit with progress (and early stopping), evaluate on the test split, write artifacts."""
    fitted = _fit(inp, model, prep)
    metrics = _metrics(inp, fitted, prep, class_names)
    metrics.update(extra_metrics or {})
    files = _save(inp, fitted, prep, class_names, preprocessing, metrics)
    return TrainResult(metrics=metrics, files=files,
                       framework=framework_versions("tensorflow", "keras", "numpy"))


def _fit(inp: TrainInput, model, prep: Prepared) -> _Fitted:
    """Compile (or come back from the latest checkpoint) and fit, reporting progress per epoch."""
    import keras

    from workers.trainers.keras_progress import JobCallback

    p = inp.params
    resume = inp.checkpoints.latest() if inp.checkpoints is not None else None
    initial_epoch, prior = 0, {}
    if resume is not None:
        # Weights, optimizer state and preprocessing come back from the checkpoint.
        model = keras.models.load_model(resume.model_path, safe_mode=True)  # never runs stored lambdas
        initial_epoch, prior = min(resume.epoch, p["epochs"]), resume.history
    else:
        model.compile(optimizer=keras.optimizers.Adam(p["learning_rate"]),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    has_val = len(prep.y_val) > 0
    steps = int(np.ceil(len(prep.y_train) / p["batch_size"]))
    job_callback = JobCallback(inp.report, p["epochs"], steps, inp.checkpoints, inp.checkpoint_every_steps,
                               prior)
    callbacks: list = [job_callback]
    if p.get("patience") and has_val:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=p["patience"],
                                                       restore_best_weights=True))
    started = time.perf_counter()
    if initial_epoch < p["epochs"]:
        model.fit(prep.x_train, prep.y_train, epochs=p["epochs"], initial_epoch=initial_epoch,
                  batch_size=p["batch_size"], validation_data=(prep.x_val, prep.y_val) if has_val else None,
                  verbose=0, shuffle=True, callbacks=callbacks)
    return _Fitted(model, job_callback.history, initial_epoch, resume is not None, time.perf_counter() - started)


def _metrics(inp: TrainInput, fitted: _Fitted, prep: Prepared, class_names: list[str]) -> dict[str, Any]:
    """The test split's scores, the last epoch's, and how the run went."""
    p, history = inp.params, fitted.history
    epochs_run = len(history.get("loss", []))
    metrics = classification_metrics(fitted.model, prep.x_test, prep.y_test, class_names)
    metrics.update({f"final_{k}": float(v[-1]) for k, v in history.items() if v})
    metrics.update({
        "epochs_run": epochs_run,
        "stopped_early": epochs_run < p["epochs"],
        "train_seconds": round(fitted.train_seconds, 3),
        "samples_per_second": round(len(prep.y_train) * (epochs_run - fitted.initial_epoch)
                                    / max(fitted.train_seconds, 1e-9), 1),
        "resumed_from_epoch": fitted.initial_epoch if fitted.resumed else None,
        "param_count": int(fitted.model.count_params()),
        "split": prep.split.describe(p["seed"], p["validation_split"]),
    })
    if history.get("val_loss"):
        metrics["best_epoch"] = int(np.argmin(history["val_loss"])) + 1
    return metrics


def _save(inp: TrainInput, fitted: _Fitted, prep: Prepared, class_names: list[str],
          preprocessing: dict[str, Any], metrics: dict[str, Any]) -> list[Path]:
    """The model (and its TFLite export when asked), then the files describing the run; ``metrics`` grows."""
    out, model, history = inp.workdir, fitted.model, fitted.history
    files = [out / "model.keras"]
    model.save(files[0])
    if inp.params.get("tflite"):
        from workers.trainers.tflite import export_tflite

        tfl = export_tflite(model, prep.x_test, prep.y_test, out / "model.tflite")
        metrics.update(tfl)
        if (out / "model.tflite").exists():
            files.append(out / "model.tflite")
    metrics["model_bytes"] = files[0].stat().st_size
    files += [
        write_json(out / "preprocessing.json", preprocessing),
        write_json(out / "metrics.json", metrics),
        write_history(out / "history.csv", history),
        plot_history(history, out / "training_curves.png"),
        plot_confusion(metrics["confusion_matrix"], class_names, out / "confusion_matrix.png"),
    ]
    return files


def vocabulary_state(vectorizer) -> dict[str, Any]:
    """What the text models' preprocessing learned (also saved inside model.keras)."""
    vocab = vectorizer.get_vocabulary()
    return {"type": "TextVectorization", "vocabulary_size": len(vocab),
            "sequence_length": int(vectorizer._output_sequence_length or 0),
            "standardize": "lower_and_strip_punctuation", "vocabulary_head": vocab[:50]}


def write_vocabulary(vectorizer, path: Path) -> Path:
    path.write_text("\n".join(vectorizer.get_vocabulary()), encoding="utf-8")
    return path

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
from workers.trainers.base import write_history, write_json
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


def prepare(inp, x: np.ndarray) -> Prepared:
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
class Fitted:
    model: Any
    history: dict[str, list[float]]
    initial_epoch: int
    resumed: bool
    train_seconds: float

    def summary(self, params: dict[str, Any], train_rows: int) -> dict[str, Any]:
        """How the run went: epochs, early stop, speed, where it resumed from."""
        epochs_run = len(self.history.get("loss", []))
        out = {f"final_{k}": float(v[-1]) for k, v in self.history.items() if v}
        out.update({
            "epochs_run": epochs_run,
            "stopped_early": epochs_run < params["epochs"],
            "train_seconds": round(self.train_seconds, 3),
            "samples_per_second": round(train_rows * (epochs_run - self.initial_epoch)
                                        / max(self.train_seconds, 1e-9), 1),
            "resumed_from_epoch": self.initial_epoch if self.resumed else None,
            "param_count": int(self.model.count_params()),
        })
        if self.history.get("val_loss"):
            out["best_epoch"] = int(np.argmin(self.history["val_loss"])) + 1
        return out


def default_features(data: Any) -> np.ndarray:
    """What a classifier reads from each kind of dataset: feature rows, images, or texts as a column."""
    if hasattr(data, "texts"):
        return text_column(data.texts)
    if hasattr(data, "X"):
        return data.X
    raise ValueError(f"{type(data).__name__} has no labelled examples to split")


def fit_and_save(ctx, model, prep: Prepared, class_names: list[str],
                 preprocessing: dict[str, Any], extra_metrics: dict[str, Any] | None = None) -> None:
    """Compile, fit with progress (and early stopping), evaluate on the test split, keep the artifacts."""
    model = ctx.fit(model, prep)
    ctx.evaluate_classifier(model, prep, class_names)
    ctx.add_metrics(split=prep.split.describe(ctx.params["seed"], ctx.params["validation_split"]),
                    **(extra_metrics or {}))
    _save(ctx, model, prep, class_names, preprocessing)


def fit_model(ctx, model, prep: Prepared, *, loss: str, metrics: list[str]) -> Fitted:
    """Compile (or come back from the latest checkpoint) and fit, reporting progress per epoch."""
    import keras

    p = ctx.params
    resume = ctx.restore()
    initial_epoch = 0
    if resume is not None:
        # Weights, optimizer state and preprocessing come back from the checkpoint.
        model = resume.load_keras()
        initial_epoch = min(resume.epoch, p["epochs"])
    else:
        model.compile(optimizer=keras.optimizers.Adam(p["learning_rate"]), loss=loss, metrics=metrics)
    has_val = len(prep.y_val) > 0
    steps = int(np.ceil(len(prep.y_train) / p["batch_size"]))
    callbacks: list = ctx.keras_callbacks(steps)
    if p.get("patience") and has_val:
        from workers.trainers.keras_progress import ResumedEarlyStopping

        callbacks.append(ResumedEarlyStopping(ctx.history, monitor="val_loss", patience=p["patience"],
                                              restore_best_weights=True))
    started = time.perf_counter()
    if initial_epoch < p["epochs"]:
        model.fit(prep.x_train, prep.y_train, epochs=p["epochs"], initial_epoch=initial_epoch,
                  batch_size=p["batch_size"], validation_data=(prep.x_val, prep.y_val) if has_val else None,
                  verbose=0, shuffle=True, callbacks=callbacks)
    return Fitted(model, callbacks[0].history, initial_epoch, resume is not None, time.perf_counter() - started)


def _save(ctx, model, prep: Prepared, class_names: list[str], preprocessing: dict[str, Any]) -> None:
    """The model (and its TFLite export when asked), then the files describing the run."""
    out = ctx.workdir
    ctx.save_model(model)
    if ctx.params.get("tflite"):
        from workers.trainers.tflite import export_tflite

        ctx.add_metrics(**export_tflite(model, prep.x_test, prep.y_test, out / "model.tflite"))
        if (out / "model.tflite").exists():
            ctx.add_artifact(out / "model.tflite")
    ctx.add_artifact(write_json(out / "preprocessing.json", preprocessing))
    ctx.add_artifact(write_history(out / "history.csv", ctx.history))
    ctx.add_artifact(plot_history(ctx.history, out / "training_curves.png"))
    ctx.add_artifact(plot_confusion(ctx.metrics["confusion_matrix"], class_names, out / "confusion_matrix.png"))


def vocabulary_state(vectorizer) -> dict[str, Any]:
    """What the text models' preprocessing learned (also saved inside model.keras)."""
    vocab = vectorizer.get_vocabulary()
    return {"type": "TextVectorization", "vocabulary_size": len(vocab),
            "sequence_length": int(vectorizer._output_sequence_length or 0),
            "standardize": "lower_and_strip_punctuation", "vocabulary_head": vocab[:50]}


def write_vocabulary(vectorizer, path: Path) -> Path:
    path.write_text("\n".join(vectorizer.get_vocabulary()), encoding="utf-8")
    return path

"""The trainer contract: one function, ``train(ctx: TrainContext) -> None``, for built-in and installed kinds.

The context hands a trainer everything it may use (parameters, the loaded data and the
platform's split, Keras callbacks that report progress and honour cancel / hand-back / fencing
and write checkpoints, checkpoints for hand-written loops, a logger into the job log, the
standard classifier evaluation) and collects what it makes (``save_model``, ``add_artifact``,
``add_metrics``). A trainer never sees the database, Redis or the store's layout; the runner
turns what the context collected into a version. Public through ``trainyard.training``.
"""
from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workers.trainers.base import (
    HandBack,
    Progress,
    TimeLimit,
    TrainResult,
    framework_versions,
    write_history,
    write_json,
)
from workers.trainers.checkpointing import CheckpointAccess, Restored

_quiet = logging.getLogger("trainyard.kind")


class TrainContext:
    """What one training run of a kind gets, and where its outputs go."""

    def __init__(self, params: dict[str, Any], data: Any, workdir: Path,
                 progress: Callable[[Progress], None] | None = None, *, inputs: dict[str, Path] | None = None,
                 checkpoints: Any = None, checkpoint_every_steps: int = 0, checkpoint_every_s: float = 0.0,
                 log: logging.Logger | None = None) -> None:
        self.params = params
        self.data = data  # TabularData | ImageData | TextData | CorpusData (app.data.types)
        self.workdir = Path(workdir)
        self.inputs = inputs or {}  # verified artifacts of the version this job builds on, by file name
        self.progress = progress or (lambda _p: None)
        self.checkpoints = checkpoints  # the runner's store of checkpoints (None: a local run keeps none)
        self.checkpoint_every_steps = checkpoint_every_steps
        self.log = log or _quiet  # lines land in the job's log
        self.checkpoint = CheckpointAccess(checkpoints, checkpoint_every_s)  # 0 s: after every epoch
        self.metrics: dict[str, Any] = {}
        self.history: dict[str, list[float]] = {}
        self.files: list[Path] = []
        self.framework: dict[str, str] = {}

    # ----- data -----
    def split(self, x: Any = None):
        """Train / validation / test by the platform's rules (stratified, seeded by ``seed``, test 20 %,
        validation from ``validation_split``): a ``Prepared`` with x_/y_ train, val and test.
        ``x`` defaults to the data's features (rows, images, or texts as an (n, 1) string column)."""
        from workers.trainers.keras_common import default_features, prepare

        return prepare(self, default_features(self.data) if x is None else x)

    @property
    def _epochs(self) -> int:
        return int(self.params.get("epochs", 1)) or 1

    # ----- training -----
    def keras_callbacks(self, steps_per_epoch: int, total_epochs: int | None = None) -> list:
        """Callbacks for ``model.fit``: progress, stops at batch boundaries, checkpoints by the job's policy."""
        from workers.trainers.keras_progress import JobCallback

        return [JobCallback(self.progress, total_epochs or self._epochs, steps_per_epoch,
                            self.checkpoint, self.checkpoint_every_steps, self.history)]

    def fit(self, model, split, *, loss: str = "sparse_categorical_crossentropy", metrics=("accuracy",)):
        """Compile and fit ``model`` with the standard params (epochs, batch_size, learning_rate, patience),
        resuming from the last checkpoint; returns the trained model (the restored one after a resume)."""
        from workers.trainers.keras_common import fit_model

        fitted = fit_model(self, model, split, loss=loss, metrics=list(metrics))
        self.history = fitted.history
        self.add_metrics(**fitted.summary(self.params, len(split.y_train)))
        return fitted.model

    def step(self, epoch: int, fraction_of_epoch: float) -> None:
        """For hand-written loops, between steps: reports progress and raises to stop when cancelled,
        handed back or fenced (let it propagate)."""
        total = self._epochs
        self.progress(Progress(epoch, total, min(1.0, (epoch + fraction_of_epoch) / total)))

    def report(self, epoch: int, metrics: dict[str, float] | None = None, checkpoint: Any = None) -> None:
        """For hand-written loops, after epoch ``epoch`` (1-based) completes: per-epoch metrics, and the
        state to resume from (a Keras model or a dict of numpy arrays), saved when the job's checkpoint
        interval has run out, after the last epoch, and before a stop this report raises."""
        clean = {k: float(v) for k, v in (metrics or {}).items()}
        for k, v in clean.items():
            self.history.setdefault(k, []).append(v)
        total = self._epochs
        saved = checkpoint is not None and (epoch >= total or self.checkpoint.due())
        if saved:
            self.save_checkpoint(epoch, checkpoint)
        try:
            self.progress(Progress(epoch, total, min(1.0, epoch / total), clean, epoch_end=True))
        except (HandBack, TimeLimit):
            if checkpoint is not None and not saved:
                self.save_checkpoint(epoch, checkpoint)
            raise

    def restore(self) -> Restored | None:
        """The newest checkpoint an earlier attempt of this job left (None: start from scratch)."""
        found = self.checkpoint.restore()
        if found is not None:
            self.history = {k: list(v) for k, v in found.history.items()}
        return found

    def save_checkpoint(self, epoch: int, state: Any, step: int = 0) -> None:
        """Checkpoint after ``epoch`` completed epochs (and ``step`` into the next), with the history so far:
        a Keras model, or a dict of numpy arrays. At an epoch's end, ``report(..., checkpoint=)`` does it."""
        self.checkpoint.save(state, epoch, self.history, step)

    # ----- results -----
    def evaluate_classifier(self, model, split, class_names: list[str] | None = None) -> dict[str, Any]:
        """Accuracy, macro precision/recall/F1, log loss, confusion matrix on the test split (kept as metrics)."""
        from workers.trainers.evaluate import classification_metrics

        found = classification_metrics(model, split.x_test, split.y_test,
                                       class_names or list(self.data.class_names))
        self.metrics.update(found)
        return found

    def add_metrics(self, **metrics: Any) -> None:
        self.metrics.update(metrics)

    def save_model(self, model, name: str = "model.keras") -> Path:
        """Save a Keras model as the version's model file (``model.keras`` is what serving loads)."""
        path = self.workdir / name
        model.save(path)
        self.metrics.setdefault("model_bytes", path.stat().st_size)
        if name.endswith(".keras"):
            self.uses("tensorflow", "keras", "numpy")
        if any(getattr(t, "dtype", None) == "string" for t in getattr(model, "inputs", None) or []):
            # Keras's predict refuses a list or NumPy array of strings: the wrapper that takes them goes along
            self.add_artifact("predict.py", (Path(__file__).parent / "predict_texts.py").read_text(encoding="utf-8"))
        return self.add_artifact(path)

    def add_artifact(self, source: Path | str, content: str | bytes | None = None) -> Path:
        """Keep a file with the version: a path (copied in when outside the work folder), or a name and
        its ``content``. Names are plain file names; a second file of the same name replaces the first."""
        if content is not None:
            path = self.workdir / Path(str(source)).name
            path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        else:
            path = Path(source)
            if path.parent.resolve() != self.workdir.resolve():
                path = Path(shutil.copy2(path, self.workdir / path.name))
        self.files = [f for f in self.files if f.name != path.name] + [path]
        return path

    def uses(self, *frameworks: str) -> None:
        """Record the versions of frameworks this run used (with the version's lineage)."""
        self.framework.update(framework_versions(*frameworks))

    def result(self) -> TrainResult:
        """What the runner registers: the files, plus metrics.json and history.csv when not written."""
        names = {f.name for f in self.files}
        files = list(self.files)
        if "metrics.json" not in names:
            files.append(write_json(self.workdir / "metrics.json", self.metrics))
        if "history.csv" not in names and self.history:
            files.append(write_history(self.workdir / "history.csv", self.history))
        return TrainResult(self.metrics, files, self.framework or framework_versions())

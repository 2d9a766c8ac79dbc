"""The Keras callback between a fit and the job: progress, checkpoints and stops.

Stops are raised at batch boundaries by the progress callback. Checkpoints are taken when the
interval of ``CheckpointAccess.due`` has run out (at an epoch's end, or inside a long epoch), after
the last epoch, and before a hand-back or a time-limit stop, so the next attempt loses at most the
current partial epoch's steps after a stop (it restarts that epoch from these weights) and at most
one interval after a crash.
"""
from __future__ import annotations

from collections.abc import Callable

import keras

from workers.trainers.base import HandBack, Progress, TimeLimit
from workers.trainers.checkpointing import CheckpointAccess


class JobCallback(keras.callbacks.Callback):
    def __init__(self, report: Callable[[Progress], None], total_epochs: int, steps: int,
                 checkpoints: CheckpointAccess | None = None, every_steps: int = 0,
                 prior_history: dict[str, list[float]] | None = None) -> None:
        super().__init__()
        self.report, self.total, self.steps = report, total_epochs, max(1, steps)
        self.checkpoints, self.every_steps = checkpoints or CheckpointAccess(), every_steps
        self.history: dict[str, list[float]] = {k: list(v) for k, v in (prior_history or {}).items()}
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        done = self._epoch + (batch + 1) / self.steps
        try:
            self.report(Progress(self._epoch, self.total, done / self.total))
        except (HandBack, TimeLimit):
            self._save(self._epoch, step=batch + 1)
            raise
        if batch + 1 < self.steps and ((self.every_steps and (batch + 1) % self.every_steps == 0)
                                       or self.checkpoints.due_mid_epoch()):
            self._save(self._epoch, step=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        metrics = {k: float(v) for k, v in (logs or {}).items()}
        for k, v in metrics.items():
            self.history.setdefault(k, []).append(v)
        saved = epoch + 1 >= self.total or self.checkpoints.due()  # by time, and always after the last epoch
        if saved:
            self._save(epoch + 1)
        try:
            self.report(Progress(epoch + 1, self.total, (epoch + 1) / self.total, metrics, epoch_end=True))
        except (HandBack, TimeLimit):
            if not saved:
                self._save(epoch + 1)
            raise

    def _save(self, epoch: int, step: int = 0) -> None:
        self.checkpoints.save(self.model, epoch, self.history, step)


class ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """Early stopping that goes on counting across a resume: the best validation loss and the epochs
    since it come from the restored history, so an interrupted run stops where an uninterrupted one would.

    (The best epoch's weights are not in the checkpoint, only the latest's: when the best epoch came
    before the interruption, ``restore_best_weights`` keeps the best seen since the resume.)
    """

    def __init__(self, prior_history: dict[str, list[float]] | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.prior = list((prior_history or {}).get(self.monitor, []))

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.prior:
            best = min(range(len(self.prior)), key=self.prior.__getitem__)
            self.best, self.best_epoch, self.wait = self.prior[best], best, len(self.prior) - 1 - best

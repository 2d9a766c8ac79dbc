"""The Keras callback between a fit and the job: progress, checkpoints and stops.

Stops are raised at batch boundaries by the progress callback. Before a hand-back
or a time-limit stop the callback checkpoints, so the next attempt loses at most
the current partial epoch's steps (it restarts that epoch from these weights).
"""
from __future__ import annotations

from collections.abc import Callable

import keras

from workers.trainers.base import HandBack, Progress, TimeLimit


class JobCallback(keras.callbacks.Callback):
    def __init__(self, report: Callable[[Progress], None], total_epochs: int, steps: int,
                 checkpoints=None, every_steps: int = 0,
                 prior_history: dict[str, list[float]] | None = None) -> None:
        super().__init__()
        self.report, self.total, self.steps = report, total_epochs, max(1, steps)
        self.checkpoints, self.every_steps = checkpoints, every_steps
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
        if self.every_steps and (batch + 1) % self.every_steps == 0 and batch + 1 < self.steps:
            self._save(self._epoch, step=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        metrics = {k: float(v) for k, v in (logs or {}).items()}
        for k, v in metrics.items():
            self.history.setdefault(k, []).append(v)
        self._save(epoch + 1)
        self.report(Progress(epoch + 1, self.total, (epoch + 1) / self.total, metrics, epoch_end=True))

    def _save(self, epoch: int, step: int = 0) -> None:
        if self.checkpoints is not None:
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

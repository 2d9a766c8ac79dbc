"""A Keras callback that reports epoch and batch progress through the trainer contract."""
from __future__ import annotations

from collections.abc import Callable

import keras

from workers.trainers.base import Progress


class ReportProgress(keras.callbacks.Callback):
    def __init__(self, report: Callable[[Progress], None], total_epochs: int, steps: int) -> None:
        super().__init__()
        self.report, self.total, self.steps = report, total_epochs, max(1, steps)
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        done = self._epoch + (batch + 1) / self.steps
        self.report(Progress(self._epoch, self.total, done / self.total))

    def on_epoch_end(self, epoch, logs=None):
        metrics = {k: float(v) for k, v in (logs or {}).items()}
        self.report(Progress(epoch + 1, self.total, (epoch + 1) / self.total, metrics, epoch_end=True))

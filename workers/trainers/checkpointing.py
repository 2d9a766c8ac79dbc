"""Checkpoints as a trainer sees them: save a Keras model or a dict of numpy arrays, get the newest back.

Where they are kept (the artifact store, per job and attempt, fenced) is the runner's business
(``workers.jobs.checkpoints``); a local run (``trainyard.testing``) keeps none.

Checkpoints are taken by time, not by epoch (``CHECKPOINT_EVERY_S``): a 20-70 ms save after an epoch of
0.2 s cost the short-epoch kinds up to a quarter of their speed (bench/RESULTS.md). The last epoch, a
hand-back and a soft time limit always checkpoint; a hard crash loses at most one interval.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Restored:
    """The newest checkpoint of an earlier attempt: ``epoch`` completed epochs (``step`` into the next)."""

    path: Path
    epoch: int
    step: int = 0
    history: dict[str, list[float]] = field(default_factory=dict)
    attempt: int = 0

    def load_keras(self):
        """The checkpointed Keras model, weights and optimizer state included (never runs stored code)."""
        import keras

        return keras.models.load_model(self.path, safe_mode=True)

    def arrays(self) -> dict[str, Any]:
        """The checkpointed dict of numpy arrays (never unpickles)."""
        import numpy as np

        with np.load(self.path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}


class CheckpointAccess:
    """``save`` and ``restore`` over the runner's checkpoint store (or nothing when there is none), and
    ``due``: whether ``every_s`` seconds have passed since the last save (or the start); 0 = always."""

    def __init__(self, store: Any = None, every_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.every_s, self.clock = store, float(every_s), clock
        self.last = clock()
        self.saved = 0

    def due(self) -> bool:
        return self.store is not None and (self.every_s <= 0 or self.clock() - self.last >= self.every_s)

    def due_mid_epoch(self) -> bool:
        """A timed interval ran out inside an epoch (never with ``every_s`` 0: that means at each epoch's end)."""
        return self.every_s > 0 and self.due()

    def save(self, state: Any, epoch: int, history: dict[str, list[float]], step: int = 0) -> None:
        if self.store is not None:
            self.store.save(state, epoch, history, step)
            self.last, self.saved = self.clock(), self.saved + 1

    def restore(self) -> Restored | None:
        found = self.store.latest() if self.store is not None else None
        if found is None:
            return None
        return Restored(Path(found.model_path), found.epoch, found.step, found.history, found.attempt)

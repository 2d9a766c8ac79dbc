"""Checkpoints as a trainer sees them: save a Keras model or a dict of numpy arrays, get the newest back.

Where they are kept (the artifact store, per job and attempt, fenced) is the runner's business
(``workers.jobs.checkpoints``); a local run (``trainyard.testing``) keeps none.
"""
from __future__ import annotations

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
    """``save`` and ``restore`` over the runner's checkpoint store, or nothing when there is none."""

    def __init__(self, store: Any = None) -> None:
        self.store = store

    def save(self, state: Any, epoch: int, history: dict[str, list[float]], step: int = 0) -> None:
        if self.store is not None:
            self.store.save(state, epoch, history, step)

    def restore(self) -> Restored | None:
        found = self.store.latest() if self.store is not None else None
        if found is None:
            return None
        return Restored(Path(found.model_path), found.epoch, found.step, found.history, found.attempt)

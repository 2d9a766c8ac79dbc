"""Training checkpoints in the artifact store, per job and attempt, written atomically.

A checkpoint is a full Keras model file (weights and optimizer state) plus a small
state file naming it, published last; a retried attempt resumes from the newest
checkpoint of an earlier attempt. Checkpoints are removed when the job ends.
"""
from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from app.storage import ArtifactStore, UnsafePath
from workers.trainers.base import Fenced


@dataclass(frozen=True)
class Resume:
    model_path: Path
    epoch: int  # completed epochs; a mid-epoch checkpoint restarts this epoch with its weights
    history: dict[str, list[float]] = field(default_factory=dict)
    attempt: int = 0
    step: int = 0


class Checkpoints:
    def __init__(self, store: ArtifactStore, job_id: str, attempt: int,
                 still_owner: Callable[[], bool | None]) -> None:
        self.store, self.job_id, self.attempt, self.still_owner = store, job_id, attempt, still_owner
        self.root = f"checkpoints/{job_id}"
        self.saved = 0

    def latest(self) -> Resume | None:
        """The newest checkpoint left by an earlier attempt of this job, if any."""
        try:
            files = set(self.store.list(self.root))
        except UnsafePath:
            return None
        best: Resume | None = None
        for state_rel in sorted(f for f in files if f.endswith("/state.json")):
            folder = state_rel.rsplit("/", 1)[0]
            try:
                attempt = int(folder.rsplit("/", 1)[1][1:])
                with self.store.open(state_rel) as fh:
                    state = json.loads(fh.read())
            except (ValueError, OSError, IndexError):
                continue
            model_rel = f"{folder}/{state['model']}"
            if attempt >= self.attempt or model_rel not in files:
                continue
            candidate = Resume(model_rel, int(state["epoch"]), state.get("history", {}), attempt,
                               int(state.get("step", 0)))
            if best is None or (candidate.attempt, candidate.epoch) > (best.attempt, best.epoch):
                best = candidate
        if best is not None:  # only the winner is fetched (a URL store downloads it to its cache)
            best = replace(best, model_path=self.store.local(best.model_path))
        return best

    def save(self, model: Any, epoch: int, history: dict[str, list[float]], step: int = 0) -> None:
        """Publish ``model`` (a Keras model, or a dict of numpy arrays), then the state naming it (last, so
        it never names a missing file); fenced first.

        With the database away (ownership unknown) the checkpoint is skipped, not the training.
        """
        owner = self.still_owner()
        if owner is False:
            raise Fenced(f"job {self.job_id} attempt {self.attempt} no longer owns the job")
        if owner is None:
            return
        arrays = isinstance(model, dict)  # a hand-written loop's state: numpy arrays, saved without pickle
        name = f"model-e{epoch}-s{step}.{'npz' if arrays else 'keras'}"
        folder = f"{self.root}/a{self.attempt}"
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / name
            if arrays:
                import numpy as np

                with open(local, "wb") as fh:
                    np.savez(fh, **model)
            else:
                model.save(local)
            self.store.publish(local, f"{folder}/{name}")
            state = Path(tmp) / "state.json"
            state.write_text(json.dumps({"model": name, "epoch": epoch, "step": step, "history": history}))
            self.store.publish(state, f"{folder}/state.json")
        for old in self.store.list(folder):
            old_name = old.rsplit("/", 1)[-1]
            if old_name.startswith("model-") and old_name.endswith((".keras", ".npz")) and old_name != name:
                self.store.delete(old)
        self.saved += 1

    def clear(self) -> None:
        self.store.remove_tree(self.root)

"""Training checkpoints in the artifact store, per job and attempt, written atomically.

A checkpoint is a full Keras model file (weights and optimizer state) plus a small
state file naming it, published last; a retried attempt resumes from the newest
checkpoint of an earlier attempt. Checkpoints are removed when the job ends.
"""
from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.storage import LocalStore, UnsafePath
from workers.trainers.base import Fenced


@dataclass(frozen=True)
class Resume:
    model_path: Path
    epoch: int  # completed epochs; a mid-epoch checkpoint restarts this epoch with its weights
    history: dict[str, list[float]] = field(default_factory=dict)
    attempt: int = 0
    step: int = 0


class Checkpoints:
    def __init__(self, store: LocalStore, job_id: str, attempt: int,
                 still_owner: Callable[[], bool | None]) -> None:
        self.store, self.job_id, self.attempt, self.still_owner = store, job_id, attempt, still_owner
        self.root = f"checkpoints/{job_id}"
        self.saved = 0

    def latest(self) -> Resume | None:
        """The newest checkpoint left by an earlier attempt of this job, if any."""
        try:
            root = self.store.resolve(self.root)
        except UnsafePath:
            return None
        best: Resume | None = None
        for state_file in root.glob("a*/state.json") if root.exists() else []:
            try:
                state = json.loads(state_file.read_text())
                attempt = int(state_file.parent.name[1:])
            except (ValueError, OSError):
                continue
            model = state_file.parent / state["model"]
            if attempt >= self.attempt or not model.exists():
                continue
            candidate = Resume(model, int(state["epoch"]), state.get("history", {}), attempt,
                               int(state.get("step", 0)))
            if best is None or (candidate.attempt, candidate.epoch) > (best.attempt, best.epoch):
                best = candidate
        return best

    def save(self, model: Any, epoch: int, history: dict[str, list[float]], step: int = 0) -> None:
        """Publish model then state (state last, so it never names a missing file); fenced first.

        With the database away (ownership unknown) the checkpoint is skipped, not the training.
        """
        owner = self.still_owner()
        if owner is False:
            raise Fenced(f"job {self.job_id} attempt {self.attempt} no longer owns the job")
        if owner is None:
            return
        name = f"model-e{epoch}-s{step}.keras"
        folder = f"{self.root}/a{self.attempt}"
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / name
            model.save(local)
            self.store.publish(local, f"{folder}/{name}")
            state = Path(tmp) / "state.json"
            state.write_text(json.dumps({"model": name, "epoch": epoch, "step": step, "history": history}))
            self.store.publish(state, f"{folder}/state.json")
        for old in self.store.resolve(folder).glob("model-*.keras"):
            if old.name != name:
                old.unlink(missing_ok=True)
        self.saved += 1

    def clear(self) -> None:
        self.store.remove_tree(self.root)

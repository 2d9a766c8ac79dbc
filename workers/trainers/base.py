"""The contract between the job runner and a trainer."""
from __future__ import annotations

import csv
import json
import platform
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Stop(Exception):
    """Raised at a batch boundary (from the progress callback) to end training early."""


class Fenced(Stop):
    """This attempt lost the job (taken over after a pause or partition): stop, write nothing."""


class Cancelled(Stop):
    """A user cancelled the job: stop, write no version."""


class HandBack(Stop):
    """The worker is shutting down: checkpoint and return the job to the queue."""


class TimeLimit(Stop):
    """The job ran past its soft time limit: checkpoint and fail with the reason."""


@dataclass(frozen=True)
class Progress:
    epoch: int
    total_epochs: int
    fraction: float
    metrics: Mapping[str, float] | None = None
    epoch_end: bool = False


@dataclass(frozen=True)
class TrainInput:
    params: dict[str, Any]
    data: Any  # TabularData | ImageData | TextData | CorpusData (app.data.types)
    workdir: Path
    report: Callable[[Progress], None]
    # Verified artifact files of the version this job builds on (e.g. {"vectors.txt": path}).
    inputs: dict[str, Path] = field(default_factory=dict)
    # Where training checkpoints go and come back from (None: no checkpoints, e.g. in unit tests).
    checkpoints: Any = None
    checkpoint_every_steps: int = 0


@dataclass(frozen=True)
class TrainResult:
    metrics: dict[str, Any]
    files: list[Path]
    framework: dict[str, str] = field(default_factory=dict)


def write_json(path: Path, payload: Mapping[str, Any]) -> Path:
    path.write_text(json.dumps(dict(payload), indent=2, sort_keys=True, default=str))
    return path


def write_history(path: Path, history: Mapping[str, list[float]]) -> Path:
    """history.csv: one row per epoch, one column per metric."""
    keys = list(history)
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["epoch", *keys])
        for i in range(len(history[keys[0]]) if keys else 0):
            writer.writerow([i + 1, *(f"{history[k][i]:.6g}" for k in keys)])
    return path


def framework_versions(*names: str) -> dict[str, str]:
    """Versions of the frameworks a trainer used, recorded with the version."""
    import importlib

    out = {"python": platform.python_version()}
    for name in names:
        out[name] = importlib.import_module(name).__version__
    return out

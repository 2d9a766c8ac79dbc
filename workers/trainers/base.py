"""What the runner and a trainer share: the stops a run can be ended with, progress, the result."""
from __future__ import annotations

import csv
import json
import platform
from collections.abc import Mapping
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
class TrainResult:
    """What a run made, as the runner registers it (collected by ``TrainContext.result``)."""

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

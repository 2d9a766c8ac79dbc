"""Train a kind in this process, without the platform: for a kind package's own tests and a first try.

The trainer gets the same ``TrainContext`` a worker gives it (same split, same callbacks), minus
what needs the platform: progress goes nowhere and no checkpoint is kept.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.data.builtin import BUILTINS, load_builtin
from app.data.types import CorpusData, ImageData, TabularData, TextData
from app.kinds.spec import KindSpec
from workers.trainers import trainer_of
from workers.trainers.context import TrainContext

__all__ = ["CorpusData", "ImageData", "LocalRun", "TabularData", "TextData", "text_data", "train_locally"]


@dataclass(frozen=True)
class LocalRun:
    metrics: dict[str, Any]
    files: dict[str, Path]  # file name -> path in the run's folder
    framework: dict[str, str]


def text_data(texts: list[str], labels: list[str]) -> TextData:
    """Labelled texts as the platform loads them (class names sorted, as an upload's are)."""
    names = sorted(set(labels))
    return TextData(list(texts), np.array([names.index(x) for x in labels], dtype=np.int64), names)


def train_locally(spec: KindSpec, data: Any, params: dict[str, Any] | None = None,
                  workdir: Path | None = None) -> LocalRun:
    """Validate ``params`` against ``spec`` (defaults filled in), then run its trainer on ``data``
    (a data object, or a built-in dataset's name such as ``"iris"``)."""
    clean, errors = spec.validate(params or {})
    if errors:
        raise ValueError(f"invalid params: {errors}")
    if isinstance(data, str):
        data = load_builtin(BUILTINS[data].source)
    trainer = trainer_of(spec)  # the same resolution a worker makes
    folder = Path(workdir) if workdir is not None else Path(tempfile.mkdtemp(prefix=f"{spec.name}-"))
    folder.mkdir(parents=True, exist_ok=True)
    ctx = TrainContext(clean, data, folder)
    trainer(ctx)
    result = ctx.result()
    return LocalRun(result.metrics, {f.name: f for f in result.files}, result.framework)

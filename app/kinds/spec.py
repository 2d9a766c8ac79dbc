"""The kind contract: everything the platform asks of a model kind, importable without a framework.

Serving, batch scoring, job submission, the form, the API and the docs read these fields
instead of a kind's name, so a kind is declared once: its spec here, its trainer in workers.
Written to become public (kinds from installed packages), so it names no built-in kind.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.domain.params import Param

TRAINER_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class Input(StrEnum):
    """What prediction and batch scoring take; each answers in its own way, whatever the kind."""

    ROWS = "rows"  # feature rows of numbers (a list, or an object keyed by feature name)
    IMAGES = "images"  # arrays of the training images' shape
    TEXT = "text"  # plain strings
    WORDS = "words"  # words looked up in word vectors: neighbours or vectors, not class labels

    @property
    def datasets(self) -> tuple[str, ...]:
        """The dataset kinds batch scoring reads for this input."""
        return _INPUT_DATASETS[self]

    @property
    def artifact(self) -> str:
        """The artifact serving and batch scoring load."""
        return "vectors.txt" if self is Input.WORDS else "model.keras"


_INPUT_DATASETS = {Input.ROWS: ("tabular",), Input.IMAGES: ("images",), Input.TEXT: ("text",),
                   Input.WORDS: ("corpus",)}


@dataclass(frozen=True)
class Stage:
    """A job that runs first; its version is what this kind's own job builds on (e.g. embeddings)."""

    kind: str  # the stage's kind
    dataset_param: str  # the parameter naming the stage's dataset
    reuse_param: str  # the parameter naming an existing version to use instead of training the stage
    params: Callable[[dict[str, Any]], dict[str, Any]]  # this kind's params -> the stage's params
    model_suffix: str = "-stage"  # the stage's model is "<model name><suffix>"


@dataclass(frozen=True)
class KindSpec:
    """One model kind, declared once."""

    name: str
    title: str
    data_kinds: tuple[str, ...]  # the dataset kinds it trains on
    trainer: str  # "package.module:function", imported by workers only when a job runs
    params: tuple[Param, ...] = field(default_factory=tuple)
    input: Input | None = None  # what prediction and batch scoring take (None: neither)
    stages: tuple[Stage, ...] = ()  # jobs that run before this kind's own trainer
    # The metrics its trainer reports at each epoch's end (what a sweep may optimise and stop early on).
    epoch_metrics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not TRAINER_PATH.match(self.trainer):
            raise ValueError(f"kind {self.name!r}: trainer must be 'module.path:function', got {self.trainer!r}")
        if len(self.stages) > 1:
            raise ValueError(f"kind {self.name!r}: at most one stage runs before the kind's own job")

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def to_json(self) -> dict[str, Any]:
        """The declaration as the API serves it."""
        return {"name": self.name, "title": self.title, "data_kinds": list(self.data_kinds),
                "input": self.input.value if self.input else None,
                "stages": [s.kind for s in self.stages] + [self.name],
                "params": [p.to_json() for p in self.params], "epoch_metrics": list(self.epoch_metrics)}

    def validate(self, raw: Any, prefix: str = "params") -> tuple[dict[str, Any], dict[str, str]]:
        """Return (clean params with defaults filled, field errors). Unknown names are errors."""
        errors: dict[str, str] = {}
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            return {}, {prefix: "must be an object"}
        known = {p.name: p for p in self.params}
        for name in raw:
            if name not in known:
                errors[f"{prefix}.{name}"] = f"unknown parameter for kind {self.name!r}"
        clean: dict[str, Any] = {}
        for p in self.params:
            if p.name not in raw or raw[p.name] is None or raw[p.name] == "":
                clean[p.name] = p.default
                continue
            try:
                clean[p.name] = p.coerce(raw[p.name])
            except ValueError as exc:
                errors[f"{prefix}.{p.name}"] = str(exc)
        return clean, errors


__all__ = ["Input", "KindSpec", "Param", "Stage"]

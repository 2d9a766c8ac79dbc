"""Trainers: each kind's spec names its trainer ("module:function"); this finds it on first use.

A trainer knows TensorFlow or gensim and nothing about HTTP or the database: it gets a
``TrainContext`` (params, data, callbacks, checkpoints) and keeps its outputs there.
Frameworks are imported inside ``train``, and trainer modules only when a job needs
one, so importing this package stays cheap and there is no second registry to keep.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from functools import cache

from app.kinds import KINDS, KindSpec
from workers.trainers.base import Fenced, Progress, TrainResult
from workers.trainers.context import TrainContext

Trainer = Callable[[TrainContext], None]


@cache
def trainer_for(kind: str) -> Trainer:
    """The trainer the kind's spec names; LookupError for a kind not installed here, ImportError for a bad path."""
    if kind not in KINDS:
        broken = next((b for b in KINDS.broken if b.name == kind), None)
        why = f"it is broken here: {broken.error}" if broken else "no installed package declares it"
        raise LookupError(f"kind {kind!r} cannot run on this worker: {why}. Install its package on every "
                          f"worker of this queue and restart them (docs/kinds.md)")
    return trainer_of(KINDS[kind])


def trainer_of(spec: KindSpec) -> Trainer:
    """The function a spec's ``trainer`` path ("module:function") names; ImportError for a bad path."""
    module, _, attr = spec.trainer.partition(":")
    found = getattr(importlib.import_module(module), attr, None)
    if not callable(found):
        raise ImportError(f"kind {spec.name!r}: {spec.trainer} is not a function")
    return found


def lineage(kind: str) -> dict[str, str]:
    """The kind's package and its version, recorded with every version the kind trains."""
    found = KINDS.installed(kind)
    return {"kind_package": found.package, "kind_version": found.version}


class _Trainers(Mapping[str, Trainer]):
    """Kind name -> trainer, read from the specs (resolved lazily)."""

    def __getitem__(self, kind: str) -> Trainer:
        return trainer_for(kind)

    def __iter__(self) -> Iterator[str]:
        return iter(KINDS)

    def __len__(self) -> int:
        return len(KINDS)


TRAINERS: Mapping[str, Trainer] = _Trainers()

__all__ = ["TRAINERS", "Fenced", "Progress", "TrainContext", "TrainResult", "lineage", "trainer_for", "trainer_of"]

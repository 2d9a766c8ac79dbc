"""The catalog of model kinds: name -> spec (no framework imports).

Each spec says everything the platform asks of its kind (see ``app.kinds.spec``),
including where its trainer lives. Adding a kind: one spec module here, one trainer
module in ``workers/trainers``, and one entry in the tuple below.
"""
from __future__ import annotations

from app.kinds import cnn, hierarchical, mlp, rnn, text, word2vec
from app.kinds.spec import Input, KindSpec, Stage


def _catalog(*specs: KindSpec) -> dict[str, KindSpec]:
    """Name -> spec, refusing a taken name or a stage of an unknown kind."""
    out: dict[str, KindSpec] = {}
    for spec in specs:
        if spec.name in out:
            raise ValueError(f"two kinds are named {spec.name!r}")
        out[spec.name] = spec
    for spec in specs:
        for stage in spec.stages:
            if stage.kind not in out:
                raise ValueError(f"kind {spec.name!r} has a stage of unknown kind {stage.kind!r}")
    return out


KINDS: dict[str, KindSpec] = _catalog(mlp.SPEC, cnn.SPEC, rnn.SPEC, text.SPEC, word2vec.SPEC, hierarchical.SPEC)


def input_of(kind: str) -> Input | None:
    """What versions of ``kind`` take for prediction and batch scoring (None: an unknown kind, or nothing)."""
    spec = KINDS.get(kind)
    return spec.input if spec is not None else None


def suggested_kind(data_kind: str) -> str | None:
    """The simplest kind (no stages, fewest parameters) that trains on ``data_kind``: a form's first guess."""
    fits = [s for s in KINDS.values() if data_kind in s.data_kinds and not s.stages]
    return min(fits, key=lambda s: len(s.params)).name if fits else None


def kinds_taking(taken: Input) -> list[str]:
    """The kinds whose versions take ``taken``, for help texts."""
    return [name for name, spec in KINDS.items() if spec.input is taken]

__all__ = ["KINDS", "Input", "KindSpec", "Stage", "input_of", "kinds_taking", "suggested_kind"]

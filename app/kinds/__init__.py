"""The catalog of model kinds: name -> parameter declaration (no framework imports).

Workers pair each entry with a trainer in ``workers/trainers``; a test checks the
two registries name the same kinds.
"""
from __future__ import annotations

from app.domain.params import KindSpec
from app.kinds import mlp

KINDS: dict[str, KindSpec] = {spec.name: spec for spec in (mlp.SPEC,)}

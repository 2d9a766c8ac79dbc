"""The catalog of model kinds: name -> parameter declaration (no framework imports).

Workers pair each entry with a trainer in ``workers/trainers``; a test checks the
two registries name the same kinds. Adding a kind: one module here, one there,
one line in each registry.
"""
from __future__ import annotations

from app.domain.params import KindSpec
from app.kinds import cnn, hierarchical, mlp, rnn, text, word2vec

KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (mlp.SPEC, cnn.SPEC, rnn.SPEC, text.SPEC, word2vec.SPEC, hierarchical.SPEC)
}

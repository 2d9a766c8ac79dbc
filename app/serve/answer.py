"""One request's answer from a loaded version: its instances checked, batched with others, labelled."""
from __future__ import annotations

from typing import Any

from app.kinds import Input
from app.serve.inputs import parse_instances
from app.serve.predictor import labelled, words_answer
from app.serve.state import Loaded


def answer(loaded: Loaded, body: dict[str, Any], limit: int) -> dict[str, Any]:
    """``{"predictions": [...]}``, or the neighbours and vectors a word-vectors version answers."""
    if loaded.takes is Input.WORDS:
        return words_answer(loaded.obj, body, limit)
    x = parse_instances(loaded.takes, loaded.schema, body.get("instances"), limit)
    assert loaded.batcher is not None
    return {"predictions": labelled(loaded.batcher.submit(x), loaded.class_names)}

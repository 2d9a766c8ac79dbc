"""Request parsing helpers that turn bad input into field errors, not 500s."""
from __future__ import annotations

from typing import Any

from flask import request

from app.domain.errors import Invalid


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or a 400/422 that says what is wrong with it."""
    body = request.get_json(silent=True)
    if body is None:
        raise Invalid({"body": "must be a JSON object (Content-Type: application/json)"},
                      "request body is not JSON")
    if not isinstance(body, dict):
        raise Invalid({"body": "must be a JSON object"}, "request body is not an object")
    return body


def int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid({name: f"must be an integer, got {raw!r}"}) from None
    if not -(2**31) < value < 2**31:
        raise Invalid({name: "out of range"})
    return value

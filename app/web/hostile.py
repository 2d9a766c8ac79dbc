"""Hostile input refused in one place, before the guard and every route: NUL bytes and JSON nested too deep.

PostgreSQL cannot store a NUL byte in a text column (the driver raises, which was a 500 on about 30
routes), and Python's JSON parser recurses, so a body nested 1,000 deep was a RecursionError. Checking
each request here keeps every route, present and future, free of both, with a 422 naming the field.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask, request

from app.domain.errors import Invalid

# Deeper than any body the API takes (a kind's params are two levels down): refused, naming where.
MAX_JSON_DEPTH = 32
NUL = "\x00"
NUL_MESSAGE = "must not contain a NUL byte (\\x00)"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _name(path: str, key: object) -> str:
    """A printable field name (a key may itself be hostile)."""
    text = str(key).replace(NUL, "\\x00")[:100]
    return f"{path}.{text}" if path else text


def check_json(value: Any, root: str = "") -> None:
    """Raise Invalid naming the first field that holds a NUL byte or lies deeper than MAX_JSON_DEPTH.

    Iterative, so a deep value cannot exhaust the stack here either.
    """
    todo: list[tuple[Any, str, int]] = [(value, root, 0)]
    while todo:
        item, path, depth = todo.pop()
        if depth > MAX_JSON_DEPTH:
            raise Invalid({path or "body": f"nested deeper than {MAX_JSON_DEPTH} levels"})
        if isinstance(item, str) and NUL in item:
            raise Invalid({path or "body": NUL_MESSAGE})
        if isinstance(item, dict):
            for key, child in item.items():
                if NUL in key:
                    raise Invalid({_name(path, key): "the field name " + NUL_MESSAGE})
                todo.append((child, _name(path, key), depth + 1))
        elif isinstance(item, list):
            todo.extend((child, _name(path, i), depth + 1) for i, child in enumerate(item))


def _check_pairs(pairs: Iterable[tuple[str, str]], prefix: str = "") -> None:
    for key, value in pairs:
        if NUL in key or NUL in value:
            raise Invalid({prefix + _name("", key): NUL_MESSAGE})


def _check_headers(environ: dict[str, Any]) -> None:
    """Headers as the server put them in the environ (no Headers object built on every request)."""
    for key, value in environ.items():
        if isinstance(value, str) and NUL in value and (key.startswith("HTTP_") or key.startswith("CONTENT_")):
            name = key[5:] if key.startswith("HTTP_") else key
            raise Invalid({"header " + _name("", name.replace("_", "-").title()): NUL_MESSAGE})


def check_request(skip_body: tuple[str, ...]) -> None:
    """The path, query, headers, form and JSON body of this request: no NUL bytes, no deep JSON."""
    if NUL in request.path:
        raise Invalid({"path": NUL_MESSAGE})
    query = request.environ.get("QUERY_STRING", "")
    if "%00" in query or NUL in query:  # the only ways a NUL reaches the parsed query: parse only then
        _check_pairs(request.args.items(multi=True))
    _check_headers(request.environ)
    if request.endpoint in skip_body:  # uploads stream to disk: their body is the file, read once, there
        return
    if request.mimetype in FORMS:
        _check_pairs(request.form.items(multi=True))
    elif request.is_json:
        try:
            body = request.get_json(silent=True)  # cached: the route reads this same parse
        except RecursionError:
            raise Invalid({"body": f"nested deeper than {MAX_JSON_DEPTH} levels"}) from None
        check_json(body)


def install(app: Flask, skip_body: tuple[str, ...]) -> None:
    """Run the checks first, before the access guard reads the session or any route reads the input."""
    app.before_request(lambda: check_request(skip_body))

"""JSON response bodies through orjson, for the web's and the serve process's Flask apps.

Flask's own provider (the standard library's encoder, keys sorted) took 550-780 µs to write the 50
newest jobs and 35-47 µs for one job; orjson takes 40-80 and 8-10 (bench/RESULTS.md). The values a body
holds do not change: dates still go out as Flask writes them (HTTP dates), and what orjson refuses (an
integer past 64 bits) falls back to the standard library. Three things do: keys keep the order the code
wrote them in (Flask sorted them), text is UTF-8 (Flask escaped non-ASCII as \\uXXXX), and NaN and
±Infinity become ``null``, which is JSON, where the standard library wrote ``NaN``, which no parser takes.
"""
from __future__ import annotations

from typing import Any

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider

# Dates go to Flask's default (HTTP dates, as before); dict keys that are not strings are written as strings,
# as the standard library wrote them; numpy arrays as lists (Flask's provider refused them).
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class OrjsonProvider(DefaultJSONProvider):
    """``jsonify`` and ``app.json`` through orjson; a call with encoder options goes to the standard library."""

    sort_keys = False  # insertion order: what the code builds is what a reader sees (id first, links last)
    ensure_ascii = False  # UTF-8 bodies; True sends everything through the standard library again

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs:  # indent, separators...: only the standard library takes them
            return super().dumps(obj, **kwargs)
        return self._bytes(obj, pretty=False, newline=False).decode()

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        pretty = self.compact is False or (self.compact is None and self._app.debug)
        return self._app.response_class(self._bytes(obj, pretty, newline=True), mimetype=self.mimetype)

    def _bytes(self, obj: Any, pretty: bool, newline: bool) -> bytes:
        """Compact (or indented by two, as Flask does in debug mode), ending in a newline as Flask's bodies do."""
        option = (_OPTIONS | (orjson.OPT_INDENT_2 if pretty else 0) | (orjson.OPT_APPEND_NEWLINE if newline else 0)
                  | (orjson.OPT_SORT_KEYS if self.sort_keys else 0))
        if not self.ensure_ascii:
            try:
                return orjson.dumps(obj, default=self.default, option=option)
            except orjson.JSONEncodeError as exc:
                if exc.__cause__ is not None:  # ``default`` refused a type: a TypeError, as the standard library's
                    raise
        # an integer past 64 bits, say, or ASCII asked for: what the standard library writes
        text = super().dumps(obj, indent=2 if pretty else None, separators=None if pretty else (",", ":"))
        return (text + "\n" if newline else text).encode()


def use_orjson(app: Flask) -> None:
    """Make ``app``'s JSON bodies go through orjson."""
    app.json = OrjsonProvider(app)

"""Integer path segments (``<int:...>``) bounded to what the database stores.

Ids and version numbers are 32-bit columns (PostgreSQL INTEGER), so a larger number in a URL names
nothing. Unbounded, it reached the database: SQLite raised OverflowError ("Python int too large to convert
to SQLite INTEGER") and PostgreSQL "integer out of range", each a 500 (found by the API fuzzing in
tests/api). Now it is a 404 that says why, before any route runs.
"""
from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class DatabaseInt(IntegerConverter):
    """Flask's ``int`` converter, refusing numbers no row can have."""

    def to_python(self, value: str) -> int:
        number = int(super().to_python(value))
        if number > MAX_ID:
            raise NotFound(f"no object has the number {value[:40]}: ids and versions go up to {MAX_ID}")
        return number

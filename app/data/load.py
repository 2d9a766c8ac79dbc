"""Load a registered dataset into memory, whatever its origin (built-in or uploaded)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from app.data.builtin import Data, load_builtin


def load_dataset(kind: str, source: str, path: Path | None, schema: dict[str, Any]) -> Data:
    """Built-ins come from their package; uploads are parsed with the schema found at upload time."""
    if source.startswith("builtin:"):
        return load_builtin(source)
    if path is None:
        raise ValueError(f"dataset from {source!r} has no file")
    from app.data.uploads import load_upload

    return load_upload(path, kind, schema)

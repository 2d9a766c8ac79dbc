"""Reading a dataset in chunks for batch inference: memory stays flat however long the file is.

A chunk carries the 1-based row ids of its rows, the key column's values (if any), the
model input of the rows that parsed, and (row id, reason) for the rows that did not: a
bad row is reported, never fatal. Tabular and text CSV uploads are streamed; built-in
datasets are small and come from memory; image archives (.npz) are loaded whole.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.data.formats.textio import _codec

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Chunk:
    index: int
    ids: list[int] = field(default_factory=list)  # row ids of the rows that parsed, aligned with x
    keys: list[str] | None = None
    x: Any = None  # np.ndarray of features / images, or (n, 1) strings for text models
    errors: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0  # rows read, good and bad


def tabular_chunks(path: Path, schema: Mapping[str, Any], features: Sequence[str], key_column: str | None,
                   chunk_rows: int) -> Iterator[Chunk]:
    """Chunks of a delimited file; rows with a wrong field count or a bad number go to ``errors``."""
    with open(path, encoding=_codec(schema.get("encoding", "utf-8")), errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=schema.get("delimiter") or ",")
        header = [h.strip() for h in next(reader, [])]
        missing = [f for f in features if f not in header]
        if missing:
            raise ValueError(f"the file has no column(s) {', '.join(missing)}")
        positions = [header.index(f) for f in features]
        key_at = header.index(key_column) if key_column else None
        width = len(header)
        row_id, index = 0, 0
        batch: list[list[str]] = []
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            batch.append(row)
            if len(batch) == chunk_rows:
                yield _tabular_chunk(index, row_id, batch, positions, key_at, width, features)
                row_id, index, batch = row_id + len(batch), index + 1, []
        if batch:
            yield _tabular_chunk(index, row_id, batch, positions, key_at, width, features)


def _tabular_chunk(index: int, first_id: int, rows: list[list[str]], positions: list[int], key_at: int | None,
                   width: int, features: Sequence[str]) -> Chunk:
    chunk = Chunk(index, rows=len(rows), keys=[] if key_at is not None else None)
    try:  # fast path: every row well-formed and numeric, converted in C
        if any(len(r) != width for r in rows):
            raise ValueError
        x = np.array([[r[p] for p in positions] for r in rows], dtype=np.float32)
        if not np.isfinite(x).all():
            raise ValueError
        chunk.ids = list(range(first_id + 1, first_id + len(rows) + 1))
        chunk.x = x
        if key_at is not None:
            chunk.keys = [r[key_at] for r in rows]
        return chunk
    except ValueError:
        pass
    good: list[list[float]] = []
    for offset, row in enumerate(rows):
        row_id = first_id + offset + 1
        problem = _row_problem(row, positions, width, features)
        if isinstance(problem, str):
            chunk.errors.append((row_id, problem))
            continue
        good.append(problem)
        chunk.ids.append(row_id)
        if key_at is not None:
            chunk.keys.append(row[key_at])
    chunk.x = np.array(good, dtype=np.float32).reshape(-1, len(positions))
    return chunk


def _row_problem(row: list[str], positions: list[int], width: int, features: Sequence[str]) -> list[float] | str:
    """The row's numbers, or why it cannot be scored."""
    if len(row) != width:
        return f"has {len(row)} fields, the header has {width}"
    values = []
    for p, name in zip(positions, features, strict=True):
        text = row[p].strip()
        try:
            value = float(text)
        except ValueError:
            return f"column {name!r}: {text[:40]!r} is not a number" if text else f"column {name!r} is empty"
        if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
            return f"column {name!r}: {text[:40]!r} is not a finite float32 number"
        values.append(value)
    return values


def text_chunks(path: Path, schema: Mapping[str, Any], key_column: str | None, chunk_rows: int) -> Iterator[Chunk]:
    """Chunks of a text dataset (CSV with a text column, or fastText lines); empty texts are errors."""
    from app.data.formats.text import _open_records
    from app.data.formats.textio import open_lines

    with open_lines(path, schema["encoding"]) as lines:
        records, _found = _open_records(lines, schema)
        batch: list[str] = []
        row_id, index = 0, 0
        for _line, text, _label in records:
            batch.append(text)
            if len(batch) == chunk_rows:
                yield _text_chunk(index, row_id, batch)
                row_id, index, batch = row_id + len(batch), index + 1, []
        if batch:
            yield _text_chunk(index, row_id, batch)
    del key_column  # text uploads have no key column: row ids identify rows


def _text_chunk(index: int, first_id: int, texts: list[str]) -> Chunk:
    chunk = Chunk(index, rows=len(texts))
    good = []
    for offset, text in enumerate(texts):
        if text.strip():
            good.append(text)
            chunk.ids.append(first_id + offset + 1)
        else:
            chunk.errors.append((first_id + offset + 1, "the text is empty"))
    chunk.x = np.array(good, dtype=object).reshape(-1, 1)
    return chunk


def memory_chunks(x: Any, chunk_rows: int) -> Iterator[Chunk]:
    """Chunks of data already in memory (built-in datasets, image archives)."""
    n = len(x)
    for index, start in enumerate(range(0, n, chunk_rows)):
        part = x[start:start + chunk_rows]
        yield Chunk(index, ids=list(range(start + 1, start + len(part) + 1)), x=part, rows=len(part))

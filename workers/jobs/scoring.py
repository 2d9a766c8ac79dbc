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

from app.data.formats.text import _open_records
from app.data.formats.textio import _codec, open_lines

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Chunk:
    index: int
    ids: Any = field(default_factory=list)  # row ids of the rows that parsed, aligned with x
    keys: Any = None  # list or pyarrow array of the key column's values, aligned with x
    x: Any = None  # np.ndarray of features / images, or (n, 1) strings for text models
    errors: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0  # rows read, good and bad


def tabular_chunks(path: Path, schema: Mapping[str, Any], features: Sequence[str], key_column: str | None,
                   chunk_rows: int) -> Iterator[Chunk]:
    """Chunks of exactly ``chunk_rows`` rows (the last one shorter) of a delimited file.

    Lines are read and split by Arrow in C++; a chunk whose lines are all plain (no quotes, the
    right field count, every feature a finite number) is converted without a Python loop. Any
    other chunk goes through the csv module row by row, so a bad row is named, never fatal. If
    Arrow cannot read the file at all (an odd encoding), the csv module reads the rest of it.
    """
    header_lines, header = _header(path, schema)
    missing = [f for f in features if f not in header]
    if missing:
        raise ValueError(f"the file has no column(s) {', '.join(missing)}")
    layout = _Layout([header.index(f) for f in features], header.index(key_column) if key_column else None,
                     len(header), list(features), schema.get("delimiter") or ",", schema.get("decimal") or ".")
    done = 0
    if layout.decimal != ".":  # decimal commas: the csv module reads every row
        yield from _python_chunks(path, schema, layout, chunk_rows, skip_chunks=0)
        return
    try:
        for chunk in _arrow_chunks(path, schema, header_lines, layout, chunk_rows):
            done += 1
            yield chunk
        return
    except Exception as exc:  # pyarrow raises several kinds; the csv module takes over
        import pyarrow as pa

        if not isinstance(exc, pa.ArrowException | UnicodeError):
            raise
    yield from _python_chunks(path, schema, layout, chunk_rows, skip_chunks=done)


@dataclass(frozen=True)
class _Layout:
    positions: list[int]
    key_at: int | None
    width: int
    features: list[str]
    delimiter: str
    decimal: str = "."


def _header(path: Path, schema: Mapping[str, Any]) -> tuple[int, list[str]]:
    """(lines up to and including the header, the header's column names)."""
    with open(path, encoding=_codec(schema.get("encoding", "utf-8")), errors="replace", newline="") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                row = next(csv.reader([line], delimiter=schema.get("delimiter") or ","))
                return number, [h.strip() for h in row]
    return 0, []


def _arrow_chunks(path: Path, schema: Mapping[str, Any], header_lines: int, layout: _Layout,
                  chunk_rows: int) -> Iterator[Chunk]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    encoding = schema.get("encoding", "utf-8")
    reader = pacsv.open_csv(
        path, read_options=pacsv.ReadOptions(column_names=["line"], skip_rows=header_lines, block_size=8 << 20,
                                             encoding="utf8" if encoding == "utf-8" else encoding),
        # One column per line: a separator that never occurs in text files, and no quoting.
        parse_options=pacsv.ParseOptions(delimiter="\x1e", quote_char=False, escape_char=False,
                                         ignore_empty_lines=True),
        convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}, strings_can_be_null=False))
    pending: list[Any] = []
    held, index, first_id = 0, 0, 0
    for batch in reader:
        pending.append(batch.column(0))
        held += batch.num_rows
        while held >= chunk_rows:
            lines = pa.concat_arrays(pending)
            yield _lines_chunk(index, first_id, lines.slice(0, chunk_rows), layout)
            rest = lines.slice(chunk_rows)
            pending, held = [rest], len(rest)
            index, first_id = index + 1, first_id + chunk_rows
    if held:
        yield _lines_chunk(index, first_id, pa.concat_arrays(pending), layout)


NUMBER = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"


def _lines_chunk(index: int, first_id: int, lines, layout: _Layout) -> Chunk:
    """A chunk from raw lines: plain, numeric lines are converted in C++; the few others (quoted
    fields, a wrong field count, a value that is not a number) go through the csv module one by
    one, so each bad row gets its own reason."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(lines)
    plain = pc.invert(pc.match_substring(lines, '"'))
    parts = pc.split_pattern(lines, layout.delimiter)
    ok = pc.and_(plain, pc.equal(pc.list_value_length(parts), layout.width)).to_numpy(zero_copy_only=False)
    shaped = parts.filter(pa.array(ok))
    columns = []
    for p in layout.positions:
        values = pc.list_element(shaped, p)
        numeric = pc.match_substring_regex(values, NUMBER).to_numpy(zero_copy_only=False)
        columns.append((values, numeric))
    numeric_rows = np.logical_and.reduce([numeric for _, numeric in columns]) if columns else np.ones(0, bool)
    x = np.empty((int(numeric_rows.sum()), len(columns)), dtype=np.float32)
    keep = pa.array(numeric_rows)
    with np.errstate(over="ignore"):
        for j, (values, _) in enumerate(columns):
            x[:, j] = pc.utf8_trim_whitespace(values.filter(keep)).cast(pa.float64()).to_numpy(zero_copy_only=False)
    finite = np.isfinite(x).all(axis=1)
    fast_positions = np.flatnonzero(ok)[numeric_rows][finite]  # positions in the chunk of rows done in C++
    chunk = Chunk(index, rows=n)
    slow = np.setdiff1d(np.arange(n), fast_positions, assume_unique=True)
    if len(slow) == 0:
        chunk.ids = first_id + 1 + fast_positions
        chunk.x = x[finite]
        chunk.keys = pc.list_element(shaped.filter(keep).filter(pa.array(finite)), layout.key_at) \
            if layout.key_at is not None else None
        return chunk
    # Some rows need the csv module: parse those, then merge with the fast ones in row order.
    fast_keys = (pc.list_element(shaped.filter(keep).filter(pa.array(finite)), layout.key_at).to_pylist()
                 if layout.key_at is not None else None)
    slow_lines = lines.take(pa.array(slow)).to_pylist()
    order, xs, keys = list(fast_positions), [x[finite]], list(fast_keys or [])
    slow_good: list[list[float]] = []
    # Each line on its own: a quoted field that spans lines becomes bad rows with reasons, never a crash.
    rows = [next(csv.reader([line], delimiter=layout.delimiter), []) for line in slow_lines]
    for position, line, row in zip(slow, slow_lines, rows, strict=True):
        problem = ("a quoted field spans lines (not supported in files to score)" if line.count('"') % 2
                   else _row_problem(row, layout.positions, layout.width, layout.features))
        if isinstance(problem, str):
            chunk.errors.append((first_id + 1 + int(position), problem))
            continue
        order.append(int(position))
        slow_good.append(problem)
        if layout.key_at is not None:
            keys.append(row[layout.key_at])
    xs.append(np.array(slow_good, dtype=np.float32).reshape(-1, len(layout.positions)))
    sort = np.argsort(np.array(order, dtype=np.int64), kind="stable")
    chunk.ids = first_id + 1 + np.array(order, dtype=np.int64)[sort]
    chunk.x = np.concatenate(xs)[sort]
    chunk.keys = [keys[i] for i in sort] if layout.key_at is not None else None
    chunk.errors.sort()
    return chunk


def _python_chunks(path: Path, schema: Mapping[str, Any], layout: _Layout, chunk_rows: int,
                   skip_chunks: int) -> Iterator[Chunk]:
    """The csv module's reading, for files Arrow cannot decode; skips chunks already yielded."""
    with open(path, encoding=_codec(schema.get("encoding", "utf-8")), errors="replace", newline="") as fh:
        reader = csv.reader(fh, delimiter=layout.delimiter)
        for row in reader:  # up to and including the header
            if row and not (len(row) == 1 and not row[0].strip()):
                break
        row_id, index = 0, 0
        batch: list[list[str]] = []
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            batch.append(row)
            if len(batch) == chunk_rows:
                if index >= skip_chunks:
                    yield _tabular_chunk(index, row_id, batch, layout)
                row_id, index, batch = row_id + len(batch), index + 1, []
        if batch and index >= skip_chunks:
            yield _tabular_chunk(index, row_id, batch, layout)


def _tabular_chunk(index: int, first_id: int, rows: list[list[str]], layout: _Layout) -> Chunk:
    positions, key_at, width = layout.positions, layout.key_at, layout.width
    chunk = Chunk(index, rows=len(rows), keys=[] if key_at is not None else None)
    try:  # fast path: every row well-formed and numeric, converted in C
        if layout.decimal != "." or any(len(r) != width for r in rows):
            raise ValueError
        x = np.array([[r[p] for p in positions] for r in rows], dtype=np.float32)
        if not np.isfinite(x).all():
            raise ValueError
        chunk.ids = np.arange(first_id + 1, first_id + len(rows) + 1, dtype=np.int64)
        chunk.x = x
        if key_at is not None:
            chunk.keys = [r[key_at] for r in rows]
        return chunk
    except ValueError:
        pass
    good: list[list[float]] = []
    for offset, row in enumerate(rows):
        row_id = first_id + offset + 1
        problem = _row_problem(row, positions, width, layout.features, layout.decimal)
        if isinstance(problem, str):
            chunk.errors.append((row_id, problem))
            continue
        good.append(problem)
        chunk.ids.append(row_id)
        if key_at is not None:
            chunk.keys.append(row[key_at])
    chunk.x = np.array(good, dtype=np.float32).reshape(-1, len(positions))
    return chunk


def _row_problem(row: list[str], positions: list[int], width: int, features: Sequence[str],
                 decimal: str = ".") -> list[float] | str:
    """The row's numbers (decimal commas read when ``decimal`` is ','), or why it cannot be scored."""
    if len(row) != width:
        return f"has {len(row)} fields, the header has {width}"
    values = []
    for p, name in zip(positions, features, strict=True):
        text = row[p].strip()
        try:
            if decimal != "." and "." in text:
                raise ValueError(text)
            value = float(text.replace(",", ".") if decimal != "." else text)
        except ValueError:
            return f"column {name!r}: {text[:40]!r} is not a number" if text else f"column {name!r} is empty"
        if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
            return f"column {name!r}: {text[:40]!r} is not a finite float32 number"
        values.append(value)
    return values


def text_chunks(path: Path, schema: Mapping[str, Any], chunk_rows: int) -> Iterator[Chunk]:
    """Chunks of a text dataset (CSV with a text column, or fastText lines); empty texts are errors.

    Text uploads have no key column: row ids identify the rows."""
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

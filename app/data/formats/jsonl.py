"""JSON Lines uploads: one JSON object per line, for tabular and text datasets.

Text sets often come as JSONL (``{"text": "a great film", "label": "pos"}``). Lines are read one at a
time through the same capped reader as CSVs, so a line is at most 1 MiB and the file is never read
whole. Tabular lines must all have the first line's keys, each feature a JSON number; text lines need
the text and label keys and may carry others (ignored). Errors name the line and the key.
"""
from __future__ import annotations

import json
import math
from array import array
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from app.data.formats.labels import LabelCounts, class_index, label_id
from app.data.formats.textio import (
    MAX_COLUMNS,
    Lines,
    _codec,
    first_content_line,
    no_data,
    open_lines,
    problem,
    short,
)
from app.data.types import TabularData
from app.domain.errors import Invalid

JSONL = "jsonl"


def looks_like_jsonl(path: Path, encoding: str) -> bool:
    """A file whose first non-blank line starts with ``{`` is JSON Lines (a CSV header never does)."""
    with open_lines(path, encoding) as lines:
        try:
            return first_content_line(lines).lstrip().startswith("{")
        except Invalid:  # an empty file: the format's own check says so
            return False


def records(lines: Lines) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) of each non-blank line; a line that is not a JSON object is refused."""
    for line in lines:
        if not line.strip():
            continue
        try:
            value = json.loads(line, parse_constant=_no_constant)
        except ValueError as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
            where = f" at character {exc.pos + 1}" if isinstance(exc, json.JSONDecodeError) else ""
            raise problem(f"line {lines.number} is not valid JSON ({reason}{where})") from None
        if not isinstance(value, dict):
            raise problem(f"line {lines.number} is a JSON {type(value).__name__}, not an object: each line of a "
                          'JSON Lines file is one record such as {"text": "...", "label": "..."}')
        yield lines.number, value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows (NaN and infinity are not allowed)")


def label_text(value: Any, line: int, key: str) -> str:
    """A label as the string a CSV would hold: strings as they are, integers as digits."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None:
        return ""
    raise problem(f"line {line}, key {key!r}: {short(json.dumps(value))} is not a class label (a string or an "
                  "integer)")


# -- tabular -------------------------------------------------------------------------------------------

def inspect_jsonl_tabular(path: Path, options: Mapping[str, str], encoding: str) -> tuple[int, dict[str, Any]]:
    """Every line's keys, numbers and label checked; the first line's keys are the columns."""
    label_column = options.get("label_column", "label")
    counts = LabelCounts(f"the label key {label_column!r}")
    rows, columns = 0, None
    with open_lines(path, encoding) as lines:
        for line, record in records(lines):
            if columns is None:
                columns = _columns(record, label_column, line)
            _features(record, columns, label_column, line)
            counts.add(label_text(record[label_column], line, label_column), f"line {line}")
            rows += 1
        if columns is None:
            raise no_data(lines)
    names = [c for c in columns if c != label_column]
    return rows, {
        "format": JSONL, "encoding": encoding, "label_column": label_column, "columns": columns, "rows": rows,
        "features": [{"name": name, "type": "number"} for name in names],
        "label": {"name": label_column, **counts.summary()},
    }


def load_jsonl_tabular(path: Path, schema: Mapping[str, Any]) -> TabularData:
    """Parse the lines again into float32 features and class indices."""
    columns, label_column = list(schema["columns"]), schema["label_column"]
    index = class_index(schema)
    values, labels = array("f"), array("q")
    with open_lines(path, schema["encoding"]) as lines:
        for line, record in records(lines):
            values.extend(_features(record, columns, label_column, line))
            labels.append(label_id(index, label_text(record[label_column], line, label_column), f"line {line}"))
    names = [c for c in columns if c != label_column]
    X = np.frombuffer(values, dtype=np.float32).reshape(-1, len(names))
    return TabularData(X, np.frombuffer(labels, dtype=np.int64), names, list(schema["label"]["classes"]))


def _columns(record: dict[str, Any], label_column: str, line: int) -> list[str]:
    """The first line's keys: the label and at least one feature, not absurdly many."""
    columns = list(record)
    if label_column not in record:
        shown = ", ".join(columns[:20]) + (", ..." if len(columns) > 20 else "")
        raise problem(f"line {line} has no key {label_column!r} (keys: {shown}); pass label_column=...",
                      "label_column")
    if len(columns) > MAX_COLUMNS:
        raise problem(f"line {line} has {len(columns):,} keys; at most {MAX_COLUMNS:,} are supported")
    if len(columns) == 1:
        raise problem(f"line {line} has only the label key {label_column!r}; a tabular file needs at least one "
                      "numeric feature")
    return columns


def _features(record: dict[str, Any], columns: list[str], label_column: str, line: int) -> list[float]:
    """One line's feature values in column order; a missing or extra key or a non-number is named."""
    if len(record) != len(columns) or any(key not in record for key in columns):
        missing = [key for key in columns if key not in record]
        if missing:
            raise problem(f"line {line} has no key {missing[0]!r} (every line needs the keys of the first)")
        extra = next(key for key in record if key not in columns)
        raise problem(f"line {line} has a key {extra!r} that the first line does not have")
    from app.data.formats.tabular import FLOAT32_MAX

    out = []
    for key in columns:
        if key == label_column:
            continue
        value = record[key]
        if value is None:
            raise problem(f"line {line}, key {key!r} is null (missing values are not supported)")
        if isinstance(value, str):
            raise problem(f"line {line}, key {key!r}: the string {short(value)} is not a number (JSON numbers "
                          "are written without quotes)")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise problem(f"line {line}, key {key!r}: {short(json.dumps(value))} is not a number")
        if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
            raise problem(f"line {line}, key {key!r}: {short(str(value))} is not a finite float32 number")
        out.append(float(value))
    return out


# -- text ----------------------------------------------------------------------------------------------

def text_records(lines: Lines, text_column: str, label_column: str) -> Iterator[tuple[int, str, str]]:
    """(line, text, label) of each line; the text must be a non-empty string, other keys are ignored."""
    for line, record in records(lines):
        for key, option in ((text_column, "text_column"), (label_column, "label_column")):
            if key not in record:
                shown = ", ".join(list(record)[:20])
                raise problem(f"line {line} has no key {key!r} (keys: {shown}); pass {option}=...", option)
        text = record[text_column]
        if not isinstance(text, str):
            raise problem(f"line {line}, key {text_column!r}: {short(json.dumps(text))} is not a string")
        if not text.strip():
            raise problem(f"line {line}: the text key {text_column!r} is empty")
        yield line, text.strip(), label_text(record[label_column], line, label_column)


def preview_jsonl(path: Path, encoding: str, columns: list[str], rows: int) -> dict[str, Any]:
    """The first ``rows`` lines as a table of the given columns."""
    shown: list[list[str]] = []
    with open(path, encoding=_codec(encoding), errors="replace") as fh:
        for text in fh:
            if len(shown) >= rows:
                break
            if text.strip():
                try:
                    record = json.loads(text)
                except ValueError:
                    break
                shown.append([_cell(record.get(c)) for c in columns])
    return {"columns": columns, "rows": shown}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return (value if isinstance(value, str) else json.dumps(value))[:300]

"""Text classification uploads: a CSV with text and label columns, or fastText lines.

fastText lines look like ``__label__pos a great film`` (gensim's pang_lee_polarity.cor).
"""
from __future__ import annotations

from array import array
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from app.data.formats.jsonl import JSONL, text_records
from app.data.formats.labels import LabelCounts, class_index, label_id
from app.data.formats.textio import (
    CsvFile,
    Lines,
    column_index,
    first_content_line,
    no_data,
    open_lines,
    problem,
    read_header,
    resolve_encoding,
)
from app.data.types import TextData
from app.domain.errors import Invalid

FASTTEXT = "fasttext"
PREFIX = "__label__"
FORMATS = ("csv", FASTTEXT, JSONL)
Record = tuple[int, str, str]  # (line, text, label)


def inspect_text(path: Path, options: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """Check every record streaming and describe the file: format, columns, classes, text lengths."""
    encoding = resolve_encoding(path, options.get("encoding", "utf-8"))
    params = _params(options, options.get("format") or detect_format(path, encoding))
    counts = LabelCounts(_label_subject(params))
    rows = chars = longest = 0
    with open_lines(path, encoding) as lines:
        records, found = _open_records(lines, params)
        for line, text, label in records:
            counts.add(label, f"line {line}")
            rows, chars, longest = rows + 1, chars + len(text), max(longest, len(text))
        if rows == 0:
            raise problem("the file has a header but no data rows") if found else no_data(lines)
    return rows, {
        **params, **found, "encoding": encoding, "rows": rows,
        "label": {"name": params.get("label_column", PREFIX), **counts.summary()},
        "text_length": {"mean": round(chars / rows, 1), "max": longest, "unit": "characters"},
    }


def load_text(path: Path, schema: Mapping[str, Any]) -> TextData:
    """Parse the records again into texts and class indices."""
    index = class_index(schema)
    texts: list[str] = []
    labels = array("q")
    with open_lines(path, schema["encoding"]) as lines:
        records, found = _open_records(lines, schema)
        if found and found["columns"] != list(schema["columns"]):
            raise problem("the file's header is not the one that was inspected; upload it again")
        for line, text, label in records:
            texts.append(text)
            labels.append(label_id(index, label, f"line {line}"))
    return TextData(texts, np.frombuffer(labels, dtype=np.int64), list(schema["label"]["classes"]))


def detect_format(path: Path, encoding: str) -> str:
    """fastText when the first non-blank line starts with __label__, JSON Lines with {, else CSV."""
    with open_lines(path, encoding) as lines:
        first = first_content_line(lines).lstrip()
    return FASTTEXT if first.startswith(PREFIX) else JSONL if first.startswith("{") else "csv"


def _params(options: Mapping[str, str], fmt: str) -> dict[str, Any]:
    """What parsing needs besides the encoding; CSV options do not apply to fastText lines."""
    if fmt not in FORMATS:
        raise problem(f"{fmt!r} is not a format of text files: use csv, fasttext or jsonl", "format")
    if fmt == FASTTEXT:
        return {"format": FASTTEXT}
    params = {"format": fmt, "delimiter": options.get("delimiter"),
              "text_column": options.get("text_column", "text"),
              "label_column": options.get("label_column", "label")}
    if fmt == JSONL:
        if "delimiter" in options:
            raise problem("applies to CSV files only; this file is JSON Lines", "delimiter")
        del params["delimiter"]
    if params["text_column"] == params["label_column"]:
        raise problem(f"the text and label columns must differ (both are {params['text_column']!r})",
                      "label_column")
    return params


def _label_subject(params: Mapping[str, Any]) -> str:
    """How messages name where labels come from."""
    if params["format"] == FASTTEXT:
        return "the file's labels"
    if params["format"] == JSONL:
        return f"the label key {params['label_column']!r}"
    return f"the label column {params['label_column']!r}"


def _open_records(lines: Lines, params: Mapping[str, Any]) -> tuple[Iterator[Record], dict[str, Any]]:
    """The records of either format, and what the CSV header told (delimiter, columns)."""
    if params["format"] == FASTTEXT:
        return _fasttext_records(lines), {}
    if params["format"] == JSONL:
        return text_records(lines, params["text_column"], params["label_column"]), {}
    csv_file = read_header(lines, params.get("delimiter"))
    text_at = column_index(csv_file, params["text_column"], "text_column")
    label_at = column_index(csv_file, params["label_column"], "label_column")
    missing = {option: found for option, found in (("text_column", text_at), ("label_column", label_at))
               if isinstance(found, str)}
    if missing:
        raise Invalid(missing, message="invalid upload")
    found = {"delimiter": csv_file.delimiter, "columns": csv_file.header}
    return _csv_records(csv_file, int(text_at), int(label_at), params["text_column"]), found


def _csv_records(csv_file: CsvFile, text_at: int, label_at: int, text_column: str) -> Iterator[Record]:
    """(line, text, label) of each CSV row; an empty text is refused (an empty label is counted then)."""
    for line, row in csv_file.rows():
        text = row[text_at].strip()
        if not text:
            raise problem(f"line {line}: the text column {text_column!r} is empty")
        yield line, text, row[label_at].strip()


def _fasttext_records(lines: Lines) -> Iterator[Record]:
    """(line, text, label) of each non-blank ``__label__<label> <text>`` line."""
    for line in lines:
        stripped = line.strip()
        if stripped:
            yield _fasttext_record(lines.number, stripped)


def _fasttext_record(number: int, line: str) -> Record:
    """Split one fastText line, refusing lines without a label, with an empty one, several, or no text."""
    if not line.startswith(PREFIX):
        raise problem(f"line {number} does not start with {PREFIX}<label> "
                      f"(fastText lines look like '{PREFIX}pos a great film')")
    rest = line[len(PREFIX):]
    if not rest or rest[0].isspace():
        raise problem(f"line {number}: the label after {PREFIX} is empty")
    parts = rest.split(None, 1)
    label, text = parts[0], (parts[1].strip() if len(parts) > 1 else "")
    if text.startswith(PREFIX):
        raise problem(f"line {number} has several labels; one label per line is supported")
    if not text:
        raise problem(f"line {number}: the text after the label is empty")
    return number, text, label

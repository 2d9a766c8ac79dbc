"""Tabular uploads: a CSV with a header row, one label column and numeric feature columns."""
from __future__ import annotations

import math
import re
from array import array
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from app.data.formats.fastcsv import fast_tabular
from app.data.formats.labels import LabelCounts, class_index, label_id
from app.data.formats.textio import (
    CsvFile,
    column_index,
    open_lines,
    problem,
    read_header,
    resolve_encoding,
    short,
)
from app.data.types import TabularData
from app.domain.errors import Invalid

FLOAT32_MAX = float(np.finfo(np.float32).max)
DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d*,\d+(?:[eE][+-]?\d+)?\s*$")


def inspect_tabular(path: Path, options: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """Check every row; a ';' file whose numbers fail only for decimal commas is read again with ','."""
    try:
        return _inspect_training(path, options, options.get("decimal", "."))
    except DecimalComma as exc:
        if "decimal" in options or exc.delimiter == ",":
            raise
    rows, schema = _inspect_training(path, options, ",")
    return rows, {**schema, "decimal_detected": True}


def _inspect_training(path: Path, options: Mapping[str, str], decimal: str) -> tuple[int, dict[str, Any]]:
    """Check every row streaming (fields, numbers, labels) and describe the file for the loader."""
    encoding = resolve_encoding(path, options.get("encoding", "utf-8"))
    label_column = options.get("label_column", "label")
    counts = LabelCounts(f"the label column {label_column!r}")
    rows = 0
    with open_lines(path, encoding) as lines:
        csv_file = read_header(lines, options.get("delimiter"))
        label, features = _layout(csv_file, label_column)
        fast = fast_tabular(path, encoding, csv_file, label, features, FLOAT32_MAX, decimal)
        if fast is not None:  # pyarrow vouched for every row; otherwise the exact check names the problem
            rows, counts = fast
        try:
            for line, row in ([] if fast is not None else csv_file.rows()):
                _features(row, features, csv_file.header, line, decimal)
                counts.add(row[label].strip(), f"line {line}")
                rows += 1
        except DecimalComma as exc:
            exc.delimiter = csv_file.delimiter
            raise
    if rows == 0:
        raise problem("the file has a header but no data rows")
    names = [csv_file.header[i] for i in features]
    return rows, {
        "format": "csv", "delimiter": csv_file.delimiter, "encoding": encoding, "decimal": decimal,
        "label_column": label_column, "columns": csv_file.header, "rows": rows,
        "features": [{"name": name, "type": "number"} for name in names],
        "label": {"name": label_column, **counts.summary()},
    }


def inspect_scoring(path: Path, options: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """A file to score, not to train on: header and columns are checked, rows only counted.

    Rows are checked when a batch job reads them; a bad one goes to that job's errors file
    instead of refusing the whole file. A label column, if present, is ignored.
    """
    encoding = resolve_encoding(path, options.get("encoding", "utf-8"))
    label_column = options.get("label_column", "label")
    key_column = options.get("key_column")
    rows, sample = 0, []
    with open_lines(path, encoding) as lines:
        csv_file = read_header(lines, options.get("delimiter"))
        if key_column is not None:
            found = column_index(csv_file, key_column, "key_column")
            if isinstance(found, str):
                raise problem(found, "key_column")
        while (row := csv_file._next_row(lines.number + 1)) is not None:
            if row and not (len(row) == 1 and not row[0].strip()):
                rows += 1
                if len(sample) < 100:
                    sample.append(row)
    if rows == 0:
        raise problem("the file has a header but no data rows")
    header = csv_file.header
    names = [c for c in header if c not in (label_column, key_column)]
    decimal = options.get("decimal") or _sampled_decimal(csv_file.delimiter, sample,
                                                         [header.index(n) for n in names])
    return rows, {
        "format": "csv", "delimiter": csv_file.delimiter, "encoding": encoding, "purpose": "scoring",
        "decimal": decimal, **({"decimal_detected": True} if decimal != options.get("decimal", ".") else {}),
        "columns": header, "rows": rows, "key_column": key_column,
        "label_column": label_column if label_column in header else None,
        "features": [{"name": name, "type": "number"} for name in names],
    }


def _sampled_decimal(delimiter: str, sample: list[list[str]], features: list[int]) -> str:
    """',' when a file not delimited by ',' writes its first rows' numbers with decimal commas, else '.'.

    A file to score is not checked row by row at upload (its bad rows are reported by the batch job),
    so the first 100 rows decide: some value must have a decimal comma and every value must read as a
    number with one.
    """
    values = [row[i] for row in sample for i in features if i < len(row) and row[i].strip()]
    if delimiter == "," or not any(DECIMAL_COMMA.match(v) for v in values):
        return "."
    try:
        [_comma_float(v) for v in values]
    except ValueError:
        return "."
    return ","


def load_tabular(path: Path, schema: Mapping[str, Any]) -> TabularData:
    """Parse the rows again into float32 features and class indices (compact arrays, no row lists)."""
    values, labels = array("f"), array("q")
    index = class_index(schema)
    decimal = schema.get("decimal", ".")
    with open_lines(path, schema["encoding"]) as lines:
        csv_file = read_header(lines, schema["delimiter"])
        if csv_file.header != list(schema["columns"]):
            raise problem("the file's header is not the one that was inspected; upload it again")
        label, features = _layout(csv_file, schema["label_column"])
        for line, row in csv_file.rows():
            values.extend(_features(row, features, csv_file.header, line, decimal))
            labels.append(label_id(index, row[label].strip(), f"line {line}"))
    X = np.frombuffer(values, dtype=np.float32).reshape(-1, len(features))
    names = [csv_file.header[i] for i in features]
    return TabularData(X, np.frombuffer(labels, dtype=np.int64), names, list(schema["label"]["classes"]))


def _layout(csv_file: CsvFile, label_column: str) -> tuple[int, list[int]]:
    """(label position, feature positions); the label column must exist and leave features."""
    found = column_index(csv_file, label_column, "label_column")
    if isinstance(found, str):
        raise problem(found, "label_column")
    features = [i for i in range(len(csv_file.header)) if i != found]
    if not features:
        raise problem(f"the header has only the label column {label_column!r}; a tabular file needs at "
                      "least one numeric feature column (is the delimiter right? pass delimiter=...)")
    return found, features


def parse_decimal(value: str) -> str:
    """``.`` (the default) or ``,`` (European CSVs, usually ';'-delimited), given as itself or by name."""
    decimal = {"point": ".", "dot": ".", "comma": ","}.get(value.strip().lower(), value.strip())
    if decimal not in (".", ","):
        raise problem(f"{value!r} is not a decimal separator: use '.' or ','", "decimal")
    return decimal


class DecimalComma(Invalid):
    """A value that would be a number with a decimal point instead of its comma."""

    delimiter = ","


def _comma_float(text: str) -> float:
    """A number written with a decimal comma; a '.' (a thousands separator?) is refused."""
    if "." in text:
        raise ValueError(text)
    return float(text.replace(",", "."))


def _features(row: list[str], features: list[int], header: list[str], line: int,
              decimal: str = ".") -> list[float]:
    """One row's feature values; a fast path for good rows, a slow one that names the bad value."""
    parse = float if decimal == "." else _comma_float
    try:
        numbers = [parse(row[i]) for i in features]
    except ValueError:
        numbers = []
    if numbers and all(map(math.isfinite, numbers)) and max(map(abs, numbers)) <= FLOAT32_MAX:
        return numbers
    return [_number(row[i], line, header[i], decimal) for i in features]


def _number(text: str, line: int, column: str, decimal: str = ".") -> float:
    """One feature value as a float32-sized finite number, or the error a person can act on."""
    where = f"line {line}, column {column!r}"
    if not text.strip():
        raise problem(f"{where} is empty (missing values are not supported)")
    try:
        value = float(text) if decimal == "." else _comma_float(text)
    except ValueError:
        if decimal == "." and DECIMAL_COMMA.match(text):
            raise DecimalComma({"file": f"{where}: {short(text)} is not a number with decimal=. (a decimal "
                                        "comma: pass decimal=',')"}, message="invalid upload") from None
        hint = " (with decimal=',' a '.' is not allowed)" if decimal == "," and "." in text else ""
        raise problem(f"{where}: {short(text)} is not a number{hint}") from None
    if not math.isfinite(value):
        raise problem(f"{where}: {short(text)} is not a finite number (NaN and infinity are not allowed)")
    if abs(value) > FLOAT32_MAX:
        raise problem(f"{where}: {short(text)} is too large (float32 holds up to about 3.4e38)")
    return value

"""Tabular uploads as Parquet: numeric feature columns and one label column, read a row group at a time.

A data team's tables are often Parquet. The checks are the CSV ones (a label column with two to 1,000
classes, every feature a finite float32-sized number, nothing missing), each error naming the row and
column. Memory stays bounded: the footer is checked first (columns, rows, and what each row group
unpacks to) and rows are then read in batches of ``BATCH_ROWS``, never the whole table at once.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from app.data.formats.labels import LabelCounts, class_index
from app.data.formats.textio import MAX_COLUMNS, problem, short
from app.data.types import TabularData

MAGIC = b"PAR1"
BATCH_ROWS = 65_536
MAX_ROW_GROUP_BYTES = 512 * 1024 * 1024  # one row group is what a reader holds at once
MAX_VALUES = 268_435_456  # rows x features: 1 GiB as float32, the bound .npz uploads have too
NUMERIC = "int, float, decimal or bool"


def is_parquet(path: Path) -> bool:
    """A Parquet file starts (and ends) with PAR1."""
    with open(path, "rb") as fh:
        return fh.read(4) == MAGIC


def inspect_parquet(path: Path, options: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """Check the footer, then every row batch: types, missing values, finite numbers, labels."""
    file = _open(path)
    label_column = options.get("label_column", "label")
    names = file.schema_arrow.names
    features = _layout(file.schema_arrow, label_column)
    counts = LabelCounts(f"the label column {label_column!r}")
    rows = 0
    for batch in _batches(file, [*features, label_column]):
        for name in features:
            _check_numbers(batch.column(name), name, rows)
        labels = _labels(batch.column(label_column))
        if labels.null_count:
            raise problem(f"row {rows + _first(labels.is_null()) + 1}: the label is empty "
                          f"(the label column {label_column!r})")
        _count_labels(counts, labels, rows)
        rows += batch.num_rows
    if rows == 0:
        raise problem("the Parquet file has no rows")
    return rows, {
        "format": "parquet", "label_column": label_column, "columns": names, "rows": rows,
        "row_groups": file.metadata.num_row_groups,
        "features": [{"name": name, "type": "number"} for name in features],
        "label": {"name": label_column, **counts.summary()},
    }


def inspect_parquet_scoring(path: Path, options: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """A Parquet file to score: its footer and column types are checked, rows only counted.

    As with a CSV to score, a bad row (a missing or non-finite value) is reported by the batch job that
    reads it; a column that is not numeric at all cannot be scored and is refused now.
    """
    file = _open(path)
    names = file.schema_arrow.names
    label_column, key_column = options.get("label_column", "label"), options.get("key_column")
    if key_column is not None and key_column not in names:
        raise problem(f"no column {key_column!r} in the Parquet file (columns: {', '.join(names[:20])}); "
                      "pass key_column=...", "key_column")
    features = [name for name in names if name not in (label_column, key_column)]
    _check_types(file.schema_arrow, features)
    if file.metadata.num_rows == 0:
        raise problem("the Parquet file has no rows")
    return file.metadata.num_rows, {
        "format": "parquet", "purpose": "scoring", "columns": names, "rows": file.metadata.num_rows,
        "row_groups": file.metadata.num_row_groups, "key_column": key_column,
        "label_column": label_column if label_column in names else None,
        "features": [{"name": name, "type": "number"} for name in features],
    }


def load_parquet(path: Path, schema: Mapping[str, Any]) -> TabularData:
    """Read the batches again into float32 features and class indices."""
    import pyarrow as pa
    import pyarrow.compute as pc

    file = _open(path)
    if file.schema_arrow.names != list(schema["columns"]):
        raise problem("the file's columns are not the ones that were inspected; upload it again")
    features = [f["name"] for f in schema["features"]]
    index = class_index(schema)
    classes = pa.array(list(index), pa.string())
    X = np.empty((file.metadata.num_rows, len(features)), dtype=np.float32)
    y = np.empty(file.metadata.num_rows, dtype=np.int64)
    at = 0
    for batch in _batches(file, [*features, schema["label_column"]]):
        n = batch.num_rows
        for j, name in enumerate(features):
            X[at:at + n, j] = batch.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        ids = pc.index_in(pc.utf8_trim_whitespace(_labels(batch.column(schema["label_column"]))), classes)
        if ids.null_count:
            raise problem(f"row {at + _first(ids.is_null()) + 1}: a label that was not in the file when it was "
                          "inspected")
        y[at:at + n] = ids.to_numpy(zero_copy_only=False)
        at += n
    return TabularData(X[:at], y[:at], features, list(schema["label"]["classes"]))


def preview_parquet(path: Path, rows: int) -> dict[str, Any]:
    """The first ``rows`` rows as strings, reading one small batch."""
    file = _open(path)
    batch = next(file.iter_batches(batch_size=max(rows, 1)), None)
    shown = [] if batch is None else batch.slice(0, rows).to_pylist()
    names = file.schema_arrow.names
    return {"columns": names, "rows": [[_cell(row[name]) for name in names] for row in shown]}


def _open(path: Path):
    """The file's footer, checked against the bounds before any row is read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise problem(f"the Parquet file cannot be read ({short(str(exc), 200)})") from None
    meta = file.metadata
    if meta.num_columns > MAX_COLUMNS:
        raise problem(f"the Parquet file has {meta.num_columns:,} columns; at most {MAX_COLUMNS:,} are supported")
    if meta.num_rows * max(meta.num_columns - 1, 1) > MAX_VALUES:
        raise problem(f"the Parquet file holds {meta.num_rows:,} rows of {meta.num_columns:,} columns, more than "
                      f"{MAX_VALUES:,} values (1 GiB as float32)")
    for group in range(meta.num_row_groups):
        size = meta.row_group(group).total_byte_size
        if size > MAX_ROW_GROUP_BYTES:
            raise problem(f"row group {group + 1} of the Parquet file unpacks to {size:,} bytes, more than "
                          f"{MAX_ROW_GROUP_BYTES:,}: write it with smaller row groups (row_group_size=100000)")
    return file


def _layout(schema, label_column: str) -> list[str]:
    """The feature columns; the label column must exist and every other column be numeric."""
    import pyarrow as pa

    if label_column not in schema.names:
        shown = ", ".join(schema.names[:20]) + (", ..." if len(schema.names) > 20 else "")
        raise problem(f"no column {label_column!r} in the Parquet file (columns: {shown}); pass label_column=...",
                      "label_column")
    features = [name for name in schema.names if name != label_column]
    if not features:
        raise problem(f"the Parquet file has only the label column {label_column!r}; a tabular file needs at "
                      "least one numeric feature column")
    _check_types(schema, features)
    label_type = schema.field(label_column).type
    if not (_numeric(pa, label_type) or pa.types.is_string(label_type) or pa.types.is_large_string(label_type)
            or pa.types.is_dictionary(label_type)):
        raise problem(f"the label column {label_column!r} has type {label_type}; labels are strings or integers",
                      "label_column")
    return features


def _check_types(schema, features: list[str]) -> None:
    """Every feature column numeric; the first that is not is named with its type."""
    import pyarrow as pa

    if len(set(schema.names)) != len(schema.names):
        raise problem("the Parquet file has two columns of the same name")
    for name in features:
        if not _numeric(pa, schema.field(name).type):
            raise problem(f"column {name!r} has type {schema.field(name).type}; feature columns must be numbers "
                          f"({NUMERIC})")


def _numeric(pa, t) -> bool:
    return pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t) or pa.types.is_boolean(t)


def _batches(file, columns: list[str]) -> Iterator[Any]:
    """Row batches of the named columns; a damaged page is a 422, not a crash."""
    import pyarrow as pa

    try:
        yield from file.iter_batches(batch_size=BATCH_ROWS, columns=columns)
    except (pa.ArrowException, OSError) as exc:
        raise problem(f"the Parquet file is damaged ({short(str(exc), 200)})") from None


def _check_numbers(column, name: str, before: int) -> None:
    """Nothing missing, every value finite and within float32's range; the first bad row is named."""
    import pyarrow as pa

    from app.data.formats.tabular import FLOAT32_MAX

    if column.null_count:
        raise problem(f"row {before + _first(column.is_null()) + 1}, column {name!r} is empty (missing values "
                      "are not supported)")
    values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    bad = ~np.isfinite(values)
    if bad.any():
        at = int(np.flatnonzero(bad)[0])
        raise problem(f"row {before + at + 1}, column {name!r}: {values[at]} is not a finite number (NaN and "
                      "infinity are not allowed)")
    big = np.abs(values) > FLOAT32_MAX
    if big.any():
        at = int(np.flatnonzero(big)[0])
        raise problem(f"row {before + at + 1}, column {name!r}: {values[at]:g} is too large (float32 holds up "
                      "to about 3.4e38)")


def _count_labels(counts: LabelCounts, labels, before: int) -> None:
    """Count a batch's labels in bulk; a batch with a doubtful label is counted row by row to name it."""
    import pyarrow.compute as pc

    found = [(v["values"], v["counts"]) for v in pc.value_counts(labels).to_pylist()]
    if all(_plain_label(label) for label, _ in found):
        for label, n in found:
            counts.add(label.strip(), f"row {before + 1}")
            counts.counts[label.strip()] += n - 1
        return
    for offset, label in enumerate(labels.to_pylist()):
        counts.add(label.strip(), f"row {before + offset + 1}")


def _plain_label(label: str) -> bool:
    from app.data.formats.labels import MAX_LABEL_CHARS

    stripped = label.strip()
    return bool(stripped) and "\n" not in stripped and "\r" not in stripped and len(stripped) <= MAX_LABEL_CHARS


def _labels(column):
    """Labels as strings, whatever their Parquet type (integers read as '3', as in a CSV)."""
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return column.cast(pa.string())


def _first(mask) -> int:
    """The position of the first true value of a boolean Arrow array."""
    return int(np.flatnonzero(mask.to_numpy(zero_copy_only=False))[0])


def _cell(value: Any) -> str:
    return "" if value is None else str(value)[:300]

"""Reading a Parquet table in chunks for batch inference: row groups streamed, memory flat.

Chunks have exactly ``chunk_rows`` rows (the last one shorter) whatever the file's row groups, so a
retried attempt finds the same chunk boundaries. A row with a missing, non-finite or too large
feature value is reported (row id, reason) and the others are scored, as in a CSV.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from workers.jobs.scoring import FLOAT32_MAX, Chunk

READ_ROWS = 65_536


def parquet_chunks(path: Path, features: Sequence[str], key_column: str | None, chunk_rows: int) -> Iterator[Chunk]:
    """Chunks of the feature columns (and the key column, as strings) of a Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    missing = [f for f in features if f not in file.schema_arrow.names]
    if missing:
        raise ValueError(f"the file has no column(s) {', '.join(missing)}")
    columns = [*features, *([key_column] if key_column and key_column not in features else [])]
    pending: list[Any] = []
    held = index = 0
    for batch in file.iter_batches(batch_size=min(chunk_rows, READ_ROWS), columns=columns):
        pending.append(batch)
        held += batch.num_rows
        while held >= chunk_rows:
            table = pa.Table.from_batches(pending)
            yield _chunk(index, index * chunk_rows, table.slice(0, chunk_rows), features, key_column)
            rest = table.slice(chunk_rows)
            pending, held, index = rest.to_batches(), rest.num_rows, index + 1
    if held:
        yield _chunk(index, index * chunk_rows, pa.Table.from_batches(pending), features, key_column)


def _chunk(index: int, first_id: int, table, features: Sequence[str], key_column: str | None) -> Chunk:
    """One chunk: the good rows' features as float32, a reason for each bad row."""
    import pyarrow as pa

    n = table.num_rows
    x = np.empty((n, len(features)), dtype=np.float64)
    good = np.ones(n, dtype=bool)
    reasons: dict[int, str] = {}
    for j, name in enumerate(features):
        column = table.column(name).cast(pa.float64())
        empty = column.is_null().to_numpy(zero_copy_only=False)
        values = column.fill_null(0.0).to_numpy(zero_copy_only=False)
        with np.errstate(invalid="ignore"):
            bad = empty | ~np.isfinite(values) | (np.abs(values) > FLOAT32_MAX)
        for i in np.flatnonzero(bad & good):
            reasons[int(i)] = (f"column {name!r} is empty" if empty[i]
                               else f"column {name!r}: {values[i]:g} is not a finite float32 number")
        good &= ~bad
        x[:, j] = values
    chunk = Chunk(index, rows=n)
    chunk.ids = first_id + 1 + np.flatnonzero(good)
    chunk.x = x[good].astype(np.float32)
    chunk.errors = [(first_id + 1 + i, reason) for i, reason in sorted(reasons.items())]
    if key_column:
        chunk.keys = table.column(key_column).cast(pa.string()).combine_chunks().filter(pa.array(good))
    return chunk

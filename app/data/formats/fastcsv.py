"""A fast check of a tabular training CSV with pyarrow's streaming reader, for the common good file.

Python's csv module checks about 8 MiB of short numeric fields a second, so a 200 MiB upload took
longer than the web's 30 s timeout. pyarrow parses the same file in blocks on its own threads (the GIL
released) at a few hundred MiB a second. It only says "this file is good, here are its rows and label
counts" or "not sure" (``None``): any error, empty value, NaN, infinity, out-of-range number or odd
label sends the caller to the exact Python check, which names the line and the problem. So the fast
path can never accept a file the exact one refuses, and messages stay the same.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from app.data.formats.labels import MAX_CLASSES, MAX_LABEL_CHARS, LabelCounts
from app.data.formats.textio import CsvFile

# Small blocks keep Arrow's memory flat, whatever the file's size: with 16 MiB blocks a 100 MiB file held
# 345 MiB and a 300 MiB one 545 MiB (the parsed float64 columns of several blocks in flight); with 1 MiB
# blocks both hold about 50 MiB, and the check is no slower (bench/RESULTS.md, 2026-11-28). A row longer
# than a block is an Arrow error, so the exact check decides: it refuses lines over 1 MiB anyway.
BLOCK = 1024 * 1024
FAST_ENCODINGS = ("utf-8", "utf-8-sig", "ascii")
MAX_RAW_LABELS = 4 * MAX_CLASSES  # distinct labels before stripping; beyond it the exact path decides


def fast_tabular(path: Path, encoding: str, csv_file: CsvFile, label: int, features: list[int],
                 float_max: float, decimal: str = ".") -> tuple[int, LabelCounts] | None:
    """(rows, label counts) when pyarrow finds every row good; None when the exact check must decide."""
    if encoding not in FAST_ENCODINGS or csv_file.header_line != 1:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(len(csv_file.header))]
    types = {names[i]: pa.float64() for i in features} | {names[label]: pa.string()}
    raw: Counter[str] = Counter()
    rows = 0
    try:
        reader = pacsv.open_csv(
            path, read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=BLOCK),
            parse_options=pacsv.ParseOptions(delimiter=csv_file.delimiter),
            convert_options=pacsv.ConvertOptions(column_types=types, decimal_point=decimal, null_values=[""],
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        for batch in reader:
            for i in features:
                column = batch.column(i)
                if column.null_count or not _finite_within(pc, column, float_max):
                    return None
            for value in pc.value_counts(batch.column(label)).to_pylist():
                raw[value["values"]] += value["counts"]
            if len(raw) > MAX_RAW_LABELS:
                return None
            rows += batch.num_rows
    except (pa.ArrowException, ValueError, OSError):
        return None
    counts = _label_counts(raw, csv_file.header[label])
    return (rows, counts) if rows and counts is not None else None


def _finite_within(pc, column, float_max: float) -> bool:
    """Every value finite and within float32's range (what the exact check demands)."""
    if len(column) == 0:
        return True
    if not pc.all(pc.is_finite(column)).as_py():
        return False
    return pc.max(pc.abs(column)).as_py() <= float_max


def _label_counts(raw: Counter[str], label_column: str) -> LabelCounts | None:
    """Labels stripped and counted as the exact check does; None if any would be refused there."""
    counts = LabelCounts(f"the label column {label_column!r}")
    for value, n in raw.items():
        label = value.strip()
        if not label or "\n" in label or "\r" in label or len(label) > MAX_LABEL_CHARS:
            return None
        counts.counts[label] += n
    return counts if len(counts.counts) <= MAX_CLASSES else None

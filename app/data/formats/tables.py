"""Tabular uploads in any of their three formats: CSV, Parquet or JSON Lines, told apart by content.

Parquet files start with ``PAR1``; a file whose first non-blank line starts with ``{`` is JSON Lines;
anything else is a CSV. ``format=`` names it instead (and is then checked). The schema records the
format, so the worker and the preview read the stored file the same way.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.data.formats.jsonl import JSONL, inspect_jsonl_tabular, load_jsonl_tabular, looks_like_jsonl
from app.data.formats.parquet import inspect_parquet, is_parquet, load_parquet
from app.data.formats.tabular import inspect_tabular, load_tabular
from app.data.formats.textio import problem, resolve_encoding
from app.data.types import TabularData

PARQUET = "parquet"
FORMATS = ("csv", PARQUET, JSONL)
CSV_ONLY = {"delimiter": "CSV files", "decimal": "CSV files", "encoding": "CSV and JSON Lines files"}
SHOWN = {PARQUET: "Parquet", JSONL: "JSON Lines", "csv": "CSV"}


def table_format(path: Path, options: Mapping[str, str]) -> str:
    """The file's format: the one given (checked against the content) or the one its content shows."""
    given = options.get("format")
    if given is not None and given not in FORMATS:
        raise problem(f"{given!r} is not a format of tabular files: use csv, parquet or jsonl", "format")
    if is_parquet(path):
        found = PARQUET
    elif given == PARQUET:
        raise problem("format=parquet, but the file is not Parquet (it does not start with PAR1)", "format")
    else:
        found = JSONL if looks_like_jsonl(path, resolve_encoding(path, options.get("encoding", "utf-8"))) else "csv"
    if given is not None and given != found:
        raise problem(f"format={given}, but the file is {SHOWN[found]}", "format")
    return found


def inspect_table(path: Path, options: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """Check a tabular training file in whichever format it is."""
    fmt = table_format(path, options)
    if fmt == "csv":
        return inspect_tabular(path, options)
    refuse_csv_options(fmt, options)
    if fmt == PARQUET:
        return inspect_parquet(path, options)
    return inspect_jsonl_tabular(path, options, resolve_encoding(path, options.get("encoding", "utf-8")))


def load_table(path: Path, schema: Mapping[str, Any]) -> TabularData:
    """Parse a checked tabular file with the format its schema records."""
    fmt = schema.get("format", "csv")
    if fmt == PARQUET:
        return load_parquet(path, schema)
    if fmt == JSONL:
        return load_jsonl_tabular(path, schema)
    return load_tabular(path, schema)


def refuse_csv_options(fmt: str, options: Mapping[str, str]) -> None:
    """delimiter and decimal mean nothing outside a CSV (nor encoding in Parquet): say so, not ignore them."""
    for name, applies in CSV_ONLY.items():
        if name in options and not (name == "encoding" and fmt == JSONL):
            raise problem(f"applies to {applies} only; this file is {SHOWN[fmt]}", name)

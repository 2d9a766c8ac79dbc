"""Validating and loading uploaded dataset files: one inspect/load pair per dataset kind.

``inspect_upload`` runs in the web process: it streams the file (never reading it whole), raises
``Invalid`` naming the first problem and its line, and returns the schema that ``load_upload``
needs in the worker to parse the same file again. numpy and the stdlib only.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.data.formats.corpus import inspect_corpus, load_corpus
from app.data.formats.images import inspect_images, load_images
from app.data.formats.parquet import inspect_parquet_scoring
from app.data.formats.tables import SHOWN, inspect_table, load_table, refuse_csv_options, table_format
from app.data.formats.tabular import inspect_scoring, parse_decimal
from app.data.formats.text import inspect_text, load_text
from app.data.formats.textio import parse_delimiter, parse_encoding, problem
from app.data.types import DATA_KINDS, CorpusData, ImageData, TabularData, TextData
from app.domain.errors import Invalid

UPLOAD_OPTIONS: dict[str, tuple[str, ...]] = {
    "tabular": ("format", "delimiter", "encoding", "decimal", "label_column", "purpose", "key_column"),
    "images": (),
    "text": ("format", "delimiter", "encoding", "text_column", "label_column"),
    "corpus": ("encoding",),
}

FORMATS = ("csv", "parquet", "jsonl", "fasttext")  # which kind takes which: app/data/formats/tables.py, text.py
Data = TabularData | ImageData | TextData | CorpusData
_INSPECTORS: dict[str, Callable[[Path, Mapping[str, str]], tuple[int, dict[str, Any]]]] = {
    "tabular": inspect_table, "images": inspect_images, "text": inspect_text, "corpus": inspect_corpus,
}
_LOADERS: dict[str, Callable[[Path, Mapping[str, Any]], Any]] = {
    "tabular": load_table, "images": load_images, "text": load_text, "corpus": load_corpus,
}


@dataclass(frozen=True)
class Inspection:
    """What validating an upload found: its kind, data rows and a JSON-serialisable schema."""

    kind: str  # tabular | images | text | corpus
    rows: int
    schema: dict[str, Any]  # how to parse the file again, plus what a person wants to see


def inspect_upload(path: Path, kind: str, options: Mapping[str, str]) -> Inspection:
    """Validate a file already on disk; raise Invalid({field: message}) naming the problem."""
    _check_kind(kind)
    cleaned = clean_options(kind, options)
    path = Path(path)
    if not path.is_file():
        raise problem("no file was uploaded (or it is not a regular file)")
    if cleaned.pop("purpose", "training") == "scoring":
        rows, schema = _inspect_scoring(path, cleaned)
    else:
        if "key_column" in cleaned:
            raise Invalid({"key_column": "only files uploaded with purpose=scoring have a key column"},
                          message="invalid upload")
        rows, schema = _INSPECTORS[kind](path, cleaned)
    return Inspection(kind, rows, schema)


def _inspect_scoring(path: Path, options: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """A file to score: a CSV or a Parquet table (JSON Lines is for training only, for now)."""
    fmt = table_format(path, options)
    options.pop("format", None)
    if fmt == "parquet":
        refuse_csv_options(fmt, options)
        return inspect_parquet_scoring(path, options)
    if fmt != "csv":
        raise problem(f"files to score (purpose=scoring) are CSV or Parquet files; this file is {SHOWN[fmt]}",
                      "purpose")
    return inspect_scoring(path, options)


def load_upload(path: Path, kind: str, schema: Mapping[str, Any]) -> Data:
    """Parse a validated file into the in-memory shape from app/data/types.py."""
    _check_kind(kind)
    return _LOADERS[kind](Path(path), schema)


def clean_options(kind: str, options: Mapping[str, str]) -> dict[str, str]:
    """Options normalised (names resolved, blanks dropped); every bad one is reported at once."""
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for name, value in options.items():
        if name not in UPLOAD_OPTIONS[kind]:
            accepted = ", ".join(UPLOAD_OPTIONS[kind]) or "none"
            errors[name] = f"not an option of {kind} uploads (options: {accepted})"
        elif value is not None and not isinstance(value, str):
            errors[name] = "must be a string"
        elif value and (name == "delimiter" or value.strip()):
            try:
                cleaned[name] = _PARSERS.get(name, str.strip)(value)
            except Invalid as exc:
                errors.update(exc.fields)
    if errors:
        raise Invalid(errors, message="invalid upload")
    return cleaned


def _parse_format(value: str) -> str:
    """``csv``, ``parquet`` or ``jsonl`` (tabular); ``csv``, ``fasttext`` or ``jsonl`` (text)."""
    fmt = value.strip().lower()
    if fmt not in FORMATS:
        raise problem(f"{value!r} is not a format: use one of {', '.join(FORMATS)}", "format")
    return fmt


def _parse_purpose(value: str) -> str:
    """``training`` (every row checked, labels required) or ``scoring`` (for batch inference)."""
    purpose = value.strip().lower()
    if purpose not in ("training", "scoring"):
        raise problem(f"{value!r} is not a purpose: use training or scoring", "purpose")
    return purpose


_PARSERS: dict[str, Callable[[str], str]] = {
    "delimiter": parse_delimiter, "encoding": parse_encoding, "decimal": parse_decimal, "format": _parse_format,
    "purpose": _parse_purpose,
}


def _check_kind(kind: str) -> None:
    """Only the four dataset kinds have parsers."""
    if kind not in UPLOAD_OPTIONS:
        raise Invalid({"kind": f"unknown dataset kind {kind!r} (kinds: {', '.join(DATA_KINDS)})"},
                      message="invalid upload")

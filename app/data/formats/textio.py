"""Reading uploaded text files as a stream: encodings, capped lines, delimiters, CSV rows.

Nothing here reads a whole file: lines come one at a time from a text stream, each
capped at ``MAX_LINE_CHARS``, so a pathological upload cannot exhaust the web process.
"""
from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from app.domain.errors import Invalid

MAX_LINE_CHARS = 1024 * 1024
MAX_COLUMNS = 10_000
CHUNK = 1024 * 1024
AUTO = "auto"

DELIMITER_NAMES = {"comma": ",", "semicolon": ";", "tab": "\t", "pipe": "|"}
DELIMITERS = (",", ";", "\t", "|")  # the order breaks ties when sniffing
SHOWN = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
BINARY_STARTS = {
    b"PK\x03\x04": "a zip archive (an Excel workbook?): export it as CSV or plain text",
    b"\x1f\x8b": "gzip-compressed twice (or inside a zip): compress it once, with gzip, bzip2, xz or zip",
    b"\x93NUMPY": "a numpy .npy array: images come as an .npz archive with X and y",
    b"%PDF": "a PDF document, not text",
    b"PAR1": "a Parquet table: Parquet is accepted for tabular datasets (kind=tabular)",
}
WIDE_ENCODINGS = ("utf-16", "utf-32")  # where NUL bytes are normal
BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def problem(message: str, field: str = "file") -> Invalid:
    """The one error type of uploads: a field (usually ``file``) and what a person should do."""
    return Invalid({field: message}, message="invalid upload")


def plural(n: int, word: str) -> str:
    """'1 field' / '4 fields', so messages read naturally."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


# -- options -------------------------------------------------------------------------------------------

def parse_delimiter(value: str) -> str:
    """One of the four supported delimiters, given as itself or by name."""
    delimiter = DELIMITER_NAMES.get(value.strip().lower(), value)
    if delimiter not in DELIMITERS:
        raise problem(f"{value!r} is not supported: use one of ',', ';', tab, '|' "
                      "(or comma, semicolon, tab, pipe)", "delimiter")
    return delimiter


def parse_encoding(value: str) -> str:
    """A normalised text codec name, or ``auto``; unknown or non-text codecs are refused."""
    value = value.strip()
    if value.lower() == AUTO:
        return AUTO
    try:
        name = codecs.lookup(value).name
        "".encode(name)  # refuses bytes-to-bytes codecs such as base64
    except LookupError as exc:
        known = "unknown" not in str(exc)
        message = f"{value!r} is not a text encoding" if known else f"unknown encoding {value!r}"
        raise problem(message, "encoding") from None
    return "latin-1" if name == "iso8859-1" else name


def resolve_encoding(path: Path, encoding: str) -> str:
    """Refuse binary files; ``auto``: a UTF-16/32 byte-order mark, else utf-8 if valid, else latin-1."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if encoding == AUTO:
        encoding = next((name for bom, name in BOMS if head.startswith(bom)), AUTO)
    _refuse_binary(head, encoding)
    if encoding != AUTO:
        return encoding
    return "utf-8" if find_decode_error(path, "utf-8") is None else "latin-1"


def _refuse_binary(head: bytes, encoding: str) -> None:
    """Spreadsheets, archives and NUL bytes would otherwise surface as puzzling parse errors."""
    for start, what in BINARY_STARTS.items():
        if head.startswith(start):
            raise problem(f"the file is {what}")
    if b"\x00" in head and not encoding.startswith(WIDE_ENCODINGS):
        raise problem("the file contains NUL bytes: it is binary, or UTF-16 text (then pass encoding=utf-16)")


def _codec(encoding: str) -> str:
    """The codec to open with: utf-8 also skips a byte-order mark, which Excel likes to write."""
    return "utf-8-sig" if encoding == "utf-8" else encoding


# -- decoding errors -----------------------------------------------------------------------------------

def find_decode_error(path: Path, encoding: str) -> tuple[int, int, int] | None:
    """(1-based line, 0-based byte position in that line, bad byte) of the first undecodable byte."""
    decoder = codecs.getincrementaldecoder(_codec(encoding))()
    line, column = 1, 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return _error_position(exc, chunk, line, column)
            if not chunk:
                return None
            line, column = _advance(chunk, line, column)


def _advance(chunk: bytes, line: int, column: int) -> tuple[int, int]:
    """Line and column after ``chunk``, counting newline bytes."""
    newlines = chunk.count(b"\n")
    if not newlines:
        return line, column + len(chunk)
    return line + newlines, len(chunk) - chunk.rfind(b"\n") - 1


def _error_position(exc: UnicodeDecodeError, chunk: bytes, line: int, column: int) -> tuple[int, int, int]:
    """Where ``exc`` happened, given the position before ``chunk`` (bytes held back by the decoder too)."""
    in_chunk = exc.start - (len(exc.object) - len(chunk))
    bad = exc.object[exc.start]
    if in_chunk < 0:  # the decoder was holding bytes of an unfinished character from the last chunk
        return line, column + in_chunk, bad
    line, column = _advance(chunk[:in_chunk], line, column)
    return line, column, bad


def decode_problem(path: Path, encoding: str) -> Invalid:
    """The message for a file that is not in ``encoding``, naming the line and what to pass instead."""
    hint = "pass encoding=latin-1 (or the file's encoding)"
    try:
        where = find_decode_error(path, encoding)
    except UnicodeError as exc:  # not about one byte, e.g. "UTF-16 stream does not start with BOM"
        if "BOM" in str(exc):
            hint = f"pass encoding={encoding}-le or {encoding}-be"
        return problem(f"the file is not valid {encoding} ({exc}); {hint}")
    if where is None:  # the stream failed but a rescan did not: report it without a position
        return problem(f"the file is not valid {encoding}; {hint}")
    line, position, byte = where
    return problem(f"line {line} is not valid {encoding} (byte 0x{byte:02x} at position {position}); {hint}")


# -- lines ---------------------------------------------------------------------------------------------

class Lines:
    """The lines of a text stream, numbered from 1, each refused when longer than MAX_LINE_CHARS."""

    def __init__(self, fh: TextIO) -> None:
        self._fh = fh
        self.number = 0

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        line = self._fh.readline(MAX_LINE_CHARS + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > MAX_LINE_CHARS and line[-1] not in "\r\n":
            raise problem(f"line {self.number} is longer than 1 MiB ({MAX_LINE_CHARS:,} characters)")
        return line


@contextmanager
def open_lines(path: Path, encoding: str) -> Iterator[Lines]:
    """Numbered lines of ``path`` decoded with ``encoding``; a decoding error becomes an Invalid."""
    try:
        with open(path, encoding=_codec(encoding), newline="") as fh:
            yield Lines(fh)
    except UnicodeError:  # UnicodeDecodeError, or a codec's own complaint such as a missing BOM
        raise decode_problem(path, encoding) from None


def no_data(lines: Lines) -> Invalid:
    """The error for a file with nothing in it but (maybe) blank lines."""
    what = "the file is empty" if lines.number == 0 else "the file has only blank lines"
    return problem(f"{what}: no data rows")


def first_content_line(lines: Lines) -> str:
    """The first non-blank line; an empty file or one of blank lines only has no data rows."""
    for line in lines:
        if line.strip():
            return line
    raise no_data(lines)


def short(text: str, limit: int = 40) -> str:
    """A value quoted for a message, cut when long so one bad cell cannot flood the page."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


# -- CSV -----------------------------------------------------------------------------------------------

@dataclass
class CsvFile:
    """A CSV stream positioned after its header: the delimiter used, the header and its line number."""

    lines: Lines
    reader: Iterator[list[str]]
    delimiter: str
    header: list[str]
    header_line: int

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) of each non-blank data row, each with as many fields as the header."""
        width = len(self.header)
        while True:
            line = self.lines.number + 1
            row = self._next_row(line)
            if row is None:
                return
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise problem(f"line {line} has {plural(len(row), 'field')}, the header has {width:,}")
            yield line, row

    def _next_row(self, line: int) -> list[str] | None:
        """The next parsed row, or None at the end; the csv module's errors name the row's first line."""
        try:
            return next(self.reader, None)
        except csv.Error as exc:
            text = str(exc)
            if "field larger than field limit" in text:
                text = (f"a field is longer than {csv.field_size_limit():,} characters, the most a CSV "
                        "field may hold (is a quote left open on this line?)")
            raise problem(f"line {line}: {text}") from None


def read_header(lines: Lines, delimiter: str | None) -> CsvFile:
    """Find the header (first non-blank line), choose or check the delimiter and parse it."""
    first = first_content_line(lines)
    chosen = delimiter or sniff_delimiter(first)
    if delimiter is not None:
        _check_given_delimiter(first, delimiter)
    reader = csv.reader(itertools.chain([first], lines), delimiter=chosen)
    csv_file = CsvFile(lines, reader, chosen, [], lines.number)
    csv_file.header = [name.strip() for name in csv_file._next_row(csv_file.header_line) or []]
    _check_header(csv_file.header, csv_file.header_line)
    return csv_file


def _field_count(line: str, delimiter: str) -> int:
    """Fields of ``line`` split by ``delimiter`` (quotes respected); 0 past the csv module's field limit."""
    try:
        return len(next(csv.reader([line], delimiter=delimiter), []))
    except csv.Error:
        return 0


def sniff_delimiter(header: str) -> str:
    """The candidate delimiter that splits the header into the most fields (',' on a tie)."""
    return max(DELIMITERS, key=lambda d: _field_count(header, d))


def _check_given_delimiter(header: str, delimiter: str) -> None:
    """A header that stays one column with the given delimiter but splits with another is a wrong choice."""
    if _field_count(header, delimiter) > 1:
        return
    better = sniff_delimiter(header)
    if _field_count(header, better) > 1:
        raise problem(f"the header has one column; the file looks {SHOWN[better]}-delimited: "
                      f"pass delimiter={SHOWN[better]}", "delimiter")


def _check_header(header: list[str], line: int) -> None:
    """Column names must be present, distinct and not absurdly many."""
    if len(header) > MAX_COLUMNS:
        raise problem(f"line {line} (the header) has {len(header):,} columns; at most {MAX_COLUMNS:,} "
                      "are supported")
    seen: set[str] = set()
    for index, name in enumerate(header, start=1):
        if not name:
            raise problem(f"line {line} (the header): column {index} has no name")
        if name in seen:
            raise problem(f"line {line} (the header): column {name!r} appears more than once")
        seen.add(name)


def column_index(csv_file: CsvFile, name: str, option: str) -> int | str:
    """The position of column ``name``, or the message saying it is missing (so callers can collect)."""
    if name in csv_file.header:
        return csv_file.header.index(name)
    names = [n if len(n) <= 40 else n[:40] + "..." for n in csv_file.header[:20]]
    shown = ", ".join(names) + (", ..." if len(csv_file.header) > 20 else "")
    hint = ""
    if len(csv_file.header) == 1:
        hint = " (the header has one column: is the delimiter right? pass delimiter=...)"
    return f"no column {name!r} in the header (columns: {shown}); pass {option}=...{hint}"

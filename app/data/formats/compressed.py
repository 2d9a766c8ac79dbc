"""Compressed uploads (.gz, .bz2, .xz, a .zip of one file): unpacked as a stream before validation.

People export large tables compressed. The stored file is the unpacked one, so every reader (the
exact check, the pyarrow fast path, the worker) stays as it is. What a small file may unpack to is
bounded before anything is written: at most the upload limit (a 413) and, beyond ``RATIO_FLOOR``,
at most ``MAX_RATIO`` times its compressed size (a 422: real CSVs deflate 3-20 times, bombs 1000).
Stdlib only.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from app.domain.errors import Invalid

MAX_RATIO = 100
RATIO_FLOOR = 16 * 1024 * 1024  # below this many unpacked bytes the ratio is not checked
MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"PK\x03\x04": "zip"}
COMPRESSED_KINDS = ("tabular", "text", "corpus")  # an .npz is a zip by design: images are never unpacked


class TooLargeUnpacked(Invalid):
    """The file unpacks to more than the upload limit."""

    status_code = 413


def compression_of(head: bytes) -> str | None:
    """The compression a file's first bytes announce, or None for a plain file."""
    return next((name for magic, name in MAGIC.items() if head.startswith(magic)), None)


def unpacked_limit(compressed_bytes: int, max_bytes: int) -> int:
    """How many bytes a file of ``compressed_bytes`` may unpack to."""
    return min(max_bytes, max(RATIO_FLOOR, MAX_RATIO * compressed_bytes))


@contextmanager
def open_unpacked(fh: BinaryIO, compression: str) -> Iterator[BinaryIO]:
    """A stream of the unpacked bytes; a zip must hold exactly one file."""
    if compression == "zip":
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError) as exc:
            raise Invalid({"file": f"the zip archive is damaged ({exc})"}, message="invalid upload") from None
        with archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise Invalid({"file": f"the zip archive holds {len(members)} files: a zip upload must hold "
                                       "exactly one (an Excel workbook? export it as CSV)"},
                              message="invalid upload")
            with archive.open(members[0]) as member:
                yield member
        return
    opener = {"gzip": lambda f: gzip.GzipFile(fileobj=f, mode="rb"), "bzip2": bz2.BZ2File,
              "xz": lzma.LZMAFile}[compression]
    with opener(fh) as stream:
        yield stream


class Capped:
    """A read-only stream that refuses to give more than ``limit`` bytes (and says why)."""

    def __init__(self, stream: BinaryIO, limit: int, compressed_bytes: int, max_bytes: int,
                 compression: str) -> None:
        self._stream, self._limit, self.read_bytes = stream, limit, 0
        self._compressed, self._max, self._compression = compressed_bytes, max_bytes, compression

    def read(self, size: int = -1) -> bytes:
        want = self._limit + 1 - self.read_bytes if size < 0 else min(size, self._limit + 1 - self.read_bytes)
        try:
            data = self._stream.read(max(want, 1))
        except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile, NotImplementedError) as exc:
            raise Invalid({"file": f"the {self._compression} data is damaged or truncated ({exc})"},
                          message="invalid upload") from None
        self.read_bytes += len(data)
        if self.read_bytes > self._limit:
            raise self._over()
        return data

    def _over(self) -> Invalid:
        """413 past the upload limit; 422 past the ratio (a compression bomb)."""
        if self._limit >= self._max:
            return TooLargeUnpacked({"file": f"the {self._compression} file unpacks to more than the upload "
                                             f"limit of {self._max:,} bytes"}, message="invalid upload")
        return Invalid({"file": f"the {self._compression} file of {self._compressed:,} bytes unpacks to more "
                                f"than {self._limit:,} bytes (over {MAX_RATIO} times its size): refused as a "
                                "compression bomb"}, message="invalid upload")

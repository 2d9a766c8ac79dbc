"""Image uploads: an .npz archive with ``X`` (n, h, w[, c]) numbers and ``y`` (n,) labels.

Nothing is ever unpickled: array headers are read from the zip members directly (so an object
array is refused before any data is touched) and arrays load with ``allow_pickle=False``.
"""
from __future__ import annotations

import math
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from app.data.formats.labels import MAX_CLASSES, summarise
from app.data.formats.textio import CHUNK, problem
from app.data.types import ImageData

MIN_SIDE, MAX_SIDE = 3, 512
# Bounds on what an .npz may unpack to, checked from the zip directory and the .npy headers before any
# data is read (a 190 KB archive of zeros once declared 3,000,000 images and 192 MB). Together they cap
# the memory of inspecting (labels as strings) and of training (X as float32) whatever the upload's size.
MAX_IMAGES = 1_000_000
MAX_VALUES = 256 * 1024 * 1024  # X's values: 1 GiB as float32 in the worker
MAX_UNPACKED_BYTES = 1024 ** 3  # X and y as stored, after decompression
MAX_RATIO, RATIO_FLOOR = 100, 16 * 1024 * 1024  # real images deflate a few times; zeros a thousand
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
NPY_MAGIC = b"\x93NUMPY"
SAVE_HINT = "save X and y together with numpy.savez(path, X=X, y=y)"
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Header:
    """What an array's .npy header declares, read without touching its data."""

    name: str
    shape: tuple[int, ...]
    fortran: bool
    dtype: np.dtype


def inspect_images(path: Path, options: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    """Check shapes and dtypes from the headers, scan X for NaN/inf in chunks, count the labels."""
    x, y = _headers(path)
    with zipfile.ZipFile(path) as archive:
        low, high = _scan(archive, x)
    labels = _label_strings(_load(path, "y"))
    channels = x.shape[3] if len(x.shape) == 4 else 1
    return x.shape[0], {
        "format": "npz", "rows": x.shape[0], "image_shape": [x.shape[1], x.shape[2], channels],
        "dtype": str(x.dtype), "value_range": [low, high],
        "label": {"name": "y", "dtype": "int" if y.dtype.kind in "iu" else "str", **_summary(labels)},
    }


def load_images(path: Path, schema: Mapping[str, Any]) -> ImageData:
    """X as float32 (n, h, w, c) and y as class indices; headers are checked again before loading."""
    _headers(path)
    X = _load(path, "X").astype(np.float32, copy=False)
    if X.ndim == 3:
        X = X[..., np.newaxis]
    if list(X.shape[1:]) != list(schema["image_shape"]):
        raise problem("the file's images are not the ones that were inspected; upload it again")
    y = _encode(_label_strings(_load(path, "y")), list(schema["label"]["classes"]))
    return ImageData(X, y, list(schema["label"]["classes"]))


def _headers(path: Path) -> tuple[Header, Header]:
    """The X and y headers of a real .npz, each checked (dtype, dimensions, matching lengths)."""
    _check_magic(path)
    try:
        with zipfile.ZipFile(path) as archive:
            _check_members(archive)
            x, y = _header(archive, "X"), _header(archive, "y")
            _check_unpacked(archive, x)
    except zipfile.BadZipFile:
        raise problem(f"the file is not a readable .npz archive (a damaged zip); {SAVE_HINT}") from None
    _check_x(x)
    _check_y(y, x.shape[0])
    return x, y


def _check_unpacked(archive: zipfile.ZipFile, x: Header) -> None:
    """Refuse a zip bomb before reading it: too many images or values, too many bytes unpacked, or a
    compression ratio no real image data has. zipfile never reads past a member's declared size."""
    members = [archive.getinfo(_member(archive, name)) for name in ("X", "y")]
    unpacked = sum(m.file_size for m in members)
    packed = max(1, sum(m.compress_size for m in members))
    values = math.prod(x.shape)
    if x.shape[0] > MAX_IMAGES:
        raise problem(f"X declares {x.shape[0]:,} images; at most {MAX_IMAGES:,} are accepted per upload")
    if values > MAX_VALUES:
        raise problem(f"X declares {values:,} values (shape {x.shape}); at most {MAX_VALUES:,} are accepted")
    if unpacked > MAX_UNPACKED_BYTES:
        raise problem(f"X and y unpack to {unpacked:,} bytes; at most {MAX_UNPACKED_BYTES:,} are accepted")
    if unpacked > RATIO_FLOOR and unpacked > MAX_RATIO * packed:
        raise problem(f"X and y unpack to {unpacked:,} bytes from {packed:,} compressed (more than "
                      f"{MAX_RATIO} times): refused as a zip bomb; real images do not compress that well")


def _member(archive: zipfile.ZipFile, name: str) -> str:
    """The zip member holding array ``name`` (``X`` or ``X.npy``)."""
    return name if name in archive.namelist() else f"{name}.npy"


def _check_magic(path: Path) -> None:
    """An .npz is a zip; a lone .npy or anything else gets a message saying what to upload instead."""
    with open(path, "rb") as fh:
        start = fh.read(len(NPY_MAGIC))
    if not start:
        raise problem(f"the file is empty: no data rows ({SAVE_HINT})")
    if start.startswith(NPY_MAGIC):
        raise problem(f"the file is a single .npy array, not an .npz archive; {SAVE_HINT}")
    if not start.startswith(ZIP_MAGIC):
        raise problem(f"the file is not an .npz archive; {SAVE_HINT}")


def _check_members(archive: zipfile.ZipFile) -> None:
    """Both arrays must be there; the message lists the arrays that are."""
    arrays = [n[:-4] if n.endswith(".npy") else n for n in archive.namelist()]
    missing = [name for name in ("X", "y") if name not in arrays]
    if missing:
        which = " and ".join(repr(m) for m in missing)
        word = "array" if len(missing) == 1 else "arrays"
        raise problem(f"the .npz has no {word} {which} (arrays: {', '.join(arrays) or 'none'})")


def _header(archive: zipfile.ZipFile, name: str) -> Header:
    """Read an array's shape, order and dtype from its .npy header (a literal, never unpickled)."""
    with archive.open(_member(archive, name)) as fh:
        try:
            shape, fortran, dtype = _read_header(fh)
        except ValueError as exc:
            raise problem(f"{name} in the .npz is not a readable .npy array ({exc})") from None
    return Header(name, tuple(int(n) for n in shape), bool(fortran), dtype)


def _read_header(fh: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    """numpy's own header readers for format versions 1 and 2 (3 is only for exotic dtypes)."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fh)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fh)
    raise ValueError(f".npy format version {version[0]}.{version[1]} is not supported")


def _check_x(x: Header) -> None:
    """X: numbers, (n, h, w) or (n, h, w, c) with 1 to 4 channels, sides within bounds, n > 0."""
    _refuse_objects(x)
    if x.dtype.kind not in "biuf":
        raise problem(f"X has dtype {x.dtype}; images must be numbers (e.g. X.astype('float32'))")
    if len(x.shape) not in (3, 4):
        raise problem(f"X has shape {x.shape}; images must be (n, height, width) or "
                      "(n, height, width, channels)")
    if len(x.shape) == 4 and not 1 <= x.shape[3] <= 4:
        raise problem(f"X has {x.shape[3]} channels (shape {x.shape}); 1 to 4 are supported")
    if x.shape[0] == 0:
        raise problem("X has no images: no data rows")
    height, width = x.shape[1:3]
    if not (MIN_SIDE <= height <= MAX_SIDE and MIN_SIDE <= width <= MAX_SIDE):
        raise problem(f"X's images are {height}x{width} pixels; height and width must be between "
                      f"{MIN_SIDE} and {MAX_SIDE}")


def _check_y(y: Header, rows: int) -> None:
    """y: integer or string labels, one per image."""
    _refuse_objects(y)
    if y.dtype.kind not in "iuUS":
        raise problem(f"y has dtype {y.dtype}; labels must be integers or strings (e.g. y.astype('int64'))")
    if len(y.shape) != 1:
        raise problem(f"y has shape {y.shape}; labels must be one-dimensional (n,): pass y.ravel()")
    if y.shape[0] != rows:
        raise problem(f"X has {rows:,} rows, y has {y.shape[0]:,}")


def _refuse_objects(header: Header) -> None:
    """Object arrays hold pickled Python objects: loading them could run code, so they are refused."""
    if header.dtype.hasobject:
        raise problem(f"{header.name} is an object array (pickled Python objects), which is never loaded; "
                      f"save plain numbers or strings instead (e.g. {header.name}.astype('float32'))")


def _scan(archive: zipfile.ZipFile, x: Header) -> tuple[float, float]:
    """(min, max) of X read in chunks; NaN/inf, values beyond float32 and a truncated array are refused."""
    total, itemsize = math.prod(x.shape), x.dtype.itemsize
    step = max(1, CHUNK // itemsize)
    low, high, seen = math.inf, -math.inf, 0
    with archive.open(_member(archive, "X")) as fh:
        _read_header(fh)
        while seen < total:
            count = min(step, total - seen)
            data = fh.read(count * itemsize)
            if len(data) < count * itemsize:
                raise problem(f"X is truncated: its header declares {total:,} values, the file holds fewer")
            values = np.frombuffer(data, dtype=x.dtype)
            _check_finite(values, x, seen)
            low, high = min(low, float(values.min())), max(high, float(values.max()))
            seen += count
    if max(abs(low), abs(high)) > FLOAT32_MAX:
        raise problem("X has values beyond float32's range (about 3.4e38)")
    return low, high


def _check_finite(values: np.ndarray, x: Header, offset: int) -> None:
    """Float pixels must be finite; the message names the first bad image."""
    if x.dtype.kind != "f" or np.isfinite(values).all():
        return
    flat = offset + int(np.argmin(np.isfinite(values)))
    image = flat % x.shape[0] if x.fortran else flat // math.prod(x.shape[1:])
    raise problem(f"X contains NaN or infinite values (first in image {image}, X[{image}])")


def _load(path: Path, name: str) -> np.ndarray:
    """One array, loaded by numpy with pickles refused (headers were checked before)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return npz[name]
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise problem(f"{name} in the .npz cannot be read ({exc})") from None


def _label_strings(y: np.ndarray) -> np.ndarray:
    """Labels as stripped strings: integers as their decimal text, bytes decoded as latin-1."""
    if y.dtype.kind == "S":
        y = np.char.decode(y, "latin-1")
    return np.char.strip(y) if y.dtype.kind == "U" else y.astype(str)


def _summary(labels: np.ndarray) -> dict[str, Any]:
    """Classes and counts of y; empty labels and too many distinct values are refused."""
    empty = np.flatnonzero(labels == "")
    if empty.size:
        raise problem(f"y[{empty[0]}] is an empty label")
    values, counts = np.unique(labels, return_counts=True)
    if len(values) > MAX_CLASSES:
        raise problem(f"y has more than {MAX_CLASSES:,} distinct labels; class labels should be a few "
                      "categories (is it a numeric target?)")
    return summarise("y", dict(zip(values.tolist(), counts.tolist(), strict=True)))


def _encode(labels: np.ndarray, classes: list[str]) -> np.ndarray:
    """Labels as int64 indices into the inspected classes."""
    index = {name: i for i, name in enumerate(classes)}
    try:
        return np.fromiter((index[s] for s in labels.tolist()), dtype=np.int64, count=len(labels))
    except KeyError as exc:
        raise problem(f"y has the label {exc.args[0]!r}, which was not in the file when it was inspected; "
                      "upload it again") from None

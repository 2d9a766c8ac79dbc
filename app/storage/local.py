"""A folder on local disk as the artifact store, with atomic publish and sha256.

Publishing copies into a temporary file in the destination folder, fsyncs it and
renames it into place, so a reader (or a version row) never sees a partial file.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024


class UnsafePath(ValueError):
    """A relative path that would leave the store (``..``, absolute, symlink out)."""


class Tampered(Exception):
    """A stored file whose sha256 no longer matches the one recorded for it: never use it."""


class TooLarge(ValueError):
    """A stream longer than the limit it was written under; nothing is left behind."""


@dataclass(frozen=True)
class StoredFile:
    name: str
    path: str  # relative to the store root, always with forward slashes
    size_bytes: int
    sha256: str


def copy_counted(stream: BinaryIO, out: BinaryIO, max_bytes: int | None) -> tuple[int, str]:
    """Copy ``stream`` to ``out``; returns (size, sha256). Beyond ``max_bytes`` it raises TooLarge
    (the caller removes the partial copy). Both stores write through this."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise TooLarge(f"larger than the limit of {max_bytes:,} bytes")
        digest.update(chunk)
        out.write(chunk)
    return size, digest.hexdigest()


def check_sha256(path: Path, sha256: str) -> None:
    """Raise Tampered when the file's sha256 is not the recorded one."""
    actual = sha256_file(path)
    if actual != sha256:
        raise Tampered(f"{path.name} fails its checksum (sha256 {actual[:12]}…, the registry says "
                       f"{sha256[:12]}…)")


class LocalStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def resolve(self, rel: str) -> Path:
        """The absolute path of ``rel``, refusing anything that resolves outside the root."""
        if not rel or "\x00" in rel or os.path.isabs(rel) or rel.startswith(("/", "\\")):
            raise UnsafePath(rel)
        candidate = (self.root / rel).resolve()
        if candidate != self.root and self.root not in candidate.parents:
            raise UnsafePath(rel)
        return candidate

    def publish(self, src: Path, rel: str) -> StoredFile:
        """Copy the file ``src`` to ``rel`` atomically and return its size and sha256."""
        with open(src, "rb") as inp:
            return self.write_stream(inp, rel)

    def write_stream(self, stream: BinaryIO, rel: str, max_bytes: int | None = None) -> StoredFile:
        """Write a stream to ``rel`` through a temporary file (checksummed, fsynced, renamed).

        Used for published artifacts and for uploads as they arrive; beyond ``max_bytes``
        it raises TooLarge and leaves nothing behind.
        """
        dest = self.resolve(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", dir=dest.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                size, sha256 = copy_counted(stream, out, max_bytes)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp_name, dest)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        _fsync_dir(dest.parent)
        return StoredFile(name=dest.name, path=dest.relative_to(self.root).as_posix(),
                          size_bytes=size, sha256=sha256)

    def verified(self, rel: str, sha256: str) -> Path:
        """The path of ``rel`` after checking its sha256 against the recorded one (Tampered if not)."""
        path = self.resolve(rel)
        check_sha256(path, sha256)
        return path

    def local(self, rel: str) -> Path:
        """A path on this machine to read ``rel`` from (here: the file itself)."""
        path = self.resolve(rel)
        if not path.is_file():
            raise FileNotFoundError(rel)
        return path

    def open(self, rel: str) -> BinaryIO:
        return open(self.resolve(rel), "rb")

    def exists(self, rel: str) -> bool:
        return self.resolve(rel).is_file()

    def list(self, prefix: str) -> list[str]:
        """Relative paths of the files under ``prefix`` (recursive, sorted; temporary files left out)."""
        root = self.resolve(prefix)
        if not root.is_dir():
            return []
        return sorted(p.relative_to(self.root).as_posix() for p in root.rglob("*")
                      if p.is_file() and not p.name.startswith(".tmp-"))

    def move(self, src_rel: str, dst_rel: str) -> None:
        """Rename within the store (atomic on one filesystem)."""
        dest = self.resolve(dst_rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.resolve(src_rel), dest)

    def delete(self, rel: str) -> None:
        self.resolve(rel).unlink(missing_ok=True)

    def remove_tree(self, rel: str) -> None:
        """Delete a folder under the store (used to clean up a job that wrote no version)."""
        import shutil

        shutil.rmtree(self.resolve(rel), ignore_errors=True)


def sha256_file(path: Path) -> str:
    """Checksum a file in chunks, never holding it whole in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

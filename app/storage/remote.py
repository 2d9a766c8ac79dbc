"""The artifact store on any fsspec URL (``s3://bucket/prefix``, ``gs://…``, ``memory://…``, ``file://…``).

For a cluster: every worker and web process reads and writes the same store. Publishing
writes a temporary object beside the destination and moves it into place, so a reader never
sees a partial file (on object stores the move is a server-side copy; objects appear whole).
Files that must be on local disk (a model TensorFlow loads, a dataset to read) are downloaded
to a local cache and checked against their sha256 before use.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO

import fsspec

from app.storage.local import CHUNK, StoredFile, UnsafePath, check_sha256, copy_counted, sha256_file


class FsspecStore:
    def __init__(self, url: str, cache_dir: Path, **storage_options) -> None:
        self.url = url.rstrip("/")
        self.fs, self.base = fsspec.core.url_to_fs(self.url, **storage_options)
        self.base = self.base.rstrip("/")
        self.cache = Path(cache_dir).resolve()

    def _path(self, rel: str) -> str:
        """The filesystem path of ``rel``, refusing anything that could leave the store."""
        if (not rel or "\x00" in rel or "\\" in rel or rel.startswith("/") or os.path.isabs(rel)
                or any(part in ("..", ".") for part in rel.split("/"))):
            raise UnsafePath(rel)
        return f"{self.base}/{rel.strip('/')}"

    def write_stream(self, stream: BinaryIO, rel: str, max_bytes: int | None = None) -> StoredFile:
        """Copy a stream to a temporary object, checksumming as it goes, then move it to ``rel``."""
        dest = self._path(rel)
        parent = dest.rsplit("/", 1)[0]
        tmp = f"{parent}/.tmp-{uuid.uuid4().hex}"
        self.fs.makedirs(parent, exist_ok=True)
        try:
            with self.fs.open(tmp, "wb") as out:
                size, sha256 = copy_counted(stream, out, max_bytes)
            self.fs.mv(tmp, dest)
        except BaseException:
            if self.fs.exists(tmp):
                self.fs.rm(tmp)
            raise
        return StoredFile(name=rel.rsplit("/", 1)[-1], path=rel.strip("/"), size_bytes=size, sha256=sha256)

    def publish(self, src: Path, rel: str) -> StoredFile:
        with open(src, "rb") as inp:
            return self.write_stream(inp, rel)

    def _cache_path(self, rel: str) -> Path:
        self._path(rel)
        return self.cache / rel

    def local(self, rel: str) -> Path:
        """A local copy of ``rel``: downloaded once into the cache (again if its size changed)."""
        remote = self._path(rel)
        if not self.fs.isfile(remote):
            raise FileNotFoundError(rel)
        cached = self._cache_path(rel)
        if cached.is_file() and cached.stat().st_size == self.fs.size(remote):
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=cached.parent)
        try:
            with os.fdopen(fd, "wb") as out, self.fs.open(remote, "rb") as inp:
                shutil.copyfileobj(inp, out, CHUNK)
            os.replace(tmp, cached)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return cached

    def verified(self, rel: str, sha256: str) -> Path:
        """A local copy of ``rel`` whose sha256 matches the recorded one (Tampered if the store's does not)."""
        path = self.local(rel)
        if sha256_file(path) != sha256:
            path.unlink(missing_ok=True)  # perhaps only the cached copy went bad: fetch it again once
            path = self.local(rel)
            check_sha256(path, sha256)
        return path

    def open(self, rel: str) -> BinaryIO:
        return self.fs.open(self._path(rel), "rb")

    def exists(self, rel: str) -> bool:
        return self.fs.isfile(self._path(rel))

    def list(self, prefix: str) -> list[str]:
        root = self._path(prefix)
        if not self.fs.isdir(root):
            return []
        strip = len(self.base) + 1
        return sorted(p[strip:] for p in self.fs.find(root) if not p.rsplit("/", 1)[-1].startswith(".tmp-"))

    def move(self, src_rel: str, dst_rel: str) -> None:
        dest = self._path(dst_rel)
        self.fs.makedirs(dest.rsplit("/", 1)[0], exist_ok=True)
        self.fs.mv(self._path(src_rel), dest)

    def delete(self, rel: str) -> None:
        path = self._path(rel)
        if self.fs.isfile(path):
            self.fs.rm(path)
        self._cache_path(rel).unlink(missing_ok=True)

    def remove_tree(self, rel: str) -> None:
        path = self._path(rel)
        try:
            self.fs.rm(path, recursive=True)
        except FileNotFoundError:  # never there, or removed meanwhile (a worker and the reconciler both clear)
            pass
        shutil.rmtree(self._cache_path(rel), ignore_errors=True)

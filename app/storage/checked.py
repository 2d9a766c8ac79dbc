"""Reading a stored file only as the bytes its recorded sha256 promises, and noticing when it changes.

A download hashes the very handle it then sends, so a file swapped in by a rename after the check is
never the one served. The predict cache keeps a loaded model with the file's ``fingerprint`` (inode,
size, mtime and ctime: ctime moves on any write, even one that restores mtime) and checks the file
again whenever the fingerprint moves.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import BinaryIO

from app.storage.base import ArtifactStore
from app.storage.local import CHUNK, Tampered

Fingerprint = tuple[int, int, int, int, int]


def open_verified(store: ArtifactStore, rel: str, sha256: str) -> BinaryIO:
    """An open handle on a local copy of ``rel`` at offset 0 whose bytes hash to ``sha256`` (Tampered if not)."""
    fh = open(store.local(rel), "rb")
    try:
        if _sha256_of(fh) != sha256:
            fh.close()
            fh = open(store.verified(rel, sha256), "rb")  # a URL store fetches its copy again; local raises
            if _sha256_of(fh) != sha256:
                raise Tampered(f"{rel.rsplit('/', 1)[-1]} fails its checksum (the registry says {sha256[:12]}…)")
        fh.seek(0)
        return fh
    except BaseException:
        fh.close()
        raise


def fingerprint(path: Path) -> Fingerprint:
    """What changes when a file's bytes may have: device, inode, size, mtime and ctime (nanoseconds)."""
    st = os.stat(path)
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def _sha256_of(fh: BinaryIO) -> str:
    """sha256 of an open file from its start, in chunks."""
    fh.seek(0)
    digest = hashlib.sha256()
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()

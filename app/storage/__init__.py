"""The artifact store: where model files live, behind paths that cannot escape it."""
from __future__ import annotations

from pathlib import Path

from app.storage.base import ArtifactStore
from app.storage.checked import fingerprint, open_verified
from app.storage.local import LocalStore, StoredFile, Tampered, TooLarge, UnsafePath


def make_store(location: str | Path, cache_dir: Path) -> ArtifactStore:
    """A LocalStore for a folder, an FsspecStore for a URL (``s3://…``, ``memory://…``, ``file://…``)."""
    if isinstance(location, str) and "://" in location:
        from app.storage.remote import FsspecStore

        return FsspecStore(location, cache_dir)
    return LocalStore(Path(location))


__all__ = ["ArtifactStore", "LocalStore", "StoredFile", "Tampered", "TooLarge", "UnsafePath", "fingerprint",
           "make_store", "open_verified"]

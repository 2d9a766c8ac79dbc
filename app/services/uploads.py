"""Dataset uploads: stream to disk, validate, publish as the next version of a name.

Nothing is half-written: the bytes go to a temporary file inside the store, are
validated there, and only a file that passed is renamed into place; the caller
removes it again if the transaction that records it does not commit.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.data.types import DATA_KINDS
from app.domain.errors import Invalid
from app.models import Dataset, utcnow
from app.services.views import DatasetView
from app.storage import ArtifactStore, TooLarge

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
EXTENSIONS = {"tabular": "csv", "text": "csv", "corpus": "txt", "images": "npz"}
FORMAT_EXTENSIONS = {"parquet": "parquet", "jsonl": "jsonl"}


class TooLargeUpload(Invalid):
    status_code = 413


@dataclass(frozen=True)
class Upload:
    name: str
    kind: str
    options: dict[str, str]
    description: str | None = None
    created_by: str | None = None


def check_upload(upload: Upload) -> None:
    """Field errors that need no file: name, kind, options."""
    from app.data.uploads import UPLOAD_OPTIONS

    errors: dict[str, str] = {}
    if not NAME.match(upload.name or ""):
        errors["name"] = "required: 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
    if upload.kind not in DATA_KINDS:
        errors["kind"] = f"must be one of {', '.join(DATA_KINDS)}"
    else:
        allowed = UPLOAD_OPTIONS.get(upload.kind, ())
        for key in upload.options:
            if key not in allowed:
                errors[key] = (f"not an option of {upload.kind} uploads"
                               + (f" (options: {', '.join(allowed)})" if allowed else ""))
    if errors:
        raise Invalid(errors)


def receive(store: ArtifactStore, stream: BinaryIO, max_bytes: int) -> tuple[str, int, str]:
    """Copy a request stream to a temporary file in the store: (relative path, size, sha256)."""
    try:
        stored = store.write_stream(stream, f"tmp/upload-{uuid.uuid4().hex}", max_bytes)
    except TooLarge:
        raise TooLargeUpload({"file": f"larger than the upload limit of {max_bytes:,} bytes"}) from None
    return stored.path, stored.size_bytes, stored.sha256


def unpack_received(store: ArtifactStore, upload: Upload, tmp_rel: str, size: int,
                    max_bytes: int) -> tuple[str, int, str | None, dict[str, Any]]:
    """A compressed tabular/text/corpus upload unpacked to a new temporary file (the old one removed).

    Returns (path, size, sha256 or None when nothing changed, what to record in the schema).
    """
    from app.data.formats.compressed import COMPRESSED_KINDS, Capped, compression_of, open_unpacked, unpacked_limit

    with store.open(tmp_rel) as fh:
        compression = compression_of(fh.read(8)) if upload.kind in COMPRESSED_KINDS else None
    if compression is None:
        return tmp_rel, size, None, {}
    try:
        with store.open(tmp_rel) as fh, open_unpacked(fh, compression) as stream:
            capped = Capped(stream, unpacked_limit(size, max_bytes), size, max_bytes, compression)
            stored = store.write_stream(capped, f"tmp/upload-{uuid.uuid4().hex}")
    finally:
        store.delete(tmp_rel)
    return stored.path, stored.size_bytes, stored.sha256, {"compression": compression, "compressed_bytes": size}


def inspect_received(store: ArtifactStore, upload: Upload, tmp_rel: str, size: int):
    """Validate the received file; raises Invalid naming the problem."""
    from app.data.uploads import inspect_upload

    if size == 0:
        raise Invalid({"file": "the file is empty"})
    return inspect_upload(store.local(tmp_rel), upload.kind, upload.options)


def record_upload(session: Session, store: ArtifactStore, upload: Upload, inspection, tmp_rel: str, size: int,
                  sha256: str) -> tuple[DatasetView, str]:
    """Insert version n+1 of the name and move the file into place; returns (dataset, final path).

    The caller commits; if that fails it removes the file again. A race for the version
    number raises IntegrityError from the flush, and the caller retries in a new transaction.
    """
    latest = session.scalar(select(func.max(Dataset.version)).where(Dataset.name == upload.name))
    version = (latest or 0) + 1
    extension = FORMAT_EXTENSIONS.get(inspection.schema.get("format"), EXTENSIONS[upload.kind])
    final_rel = f"datasets/{upload.name}/v{version}/data.{extension}"
    row = Dataset(name=upload.name, version=version, kind=upload.kind, source="upload", path=final_rel,
                  sha256=sha256, size_bytes=size, rows=inspection.rows, schema=inspection.schema,
                  description=upload.description, created_by=upload.created_by, created_at=utcnow())
    session.add(row)
    session.flush()
    store.move(tmp_rel, final_rel)
    return DatasetView.of(row), final_rel

"""Upload a dataset: stream it to the store, validate it, record it; a failure leaves no file and no row."""
from __future__ import annotations

from typing import BinaryIO

from sqlalchemy.exc import IntegrityError

from app.domain.errors import Invalid
from app.services import uploads
from app.services.usecases.deps import Deps
from app.services.views import DatasetView

RACE_TRIES = 5


def upload_dataset(deps: Deps, upload: uploads.Upload, stream: BinaryIO) -> DatasetView:
    """Stream, validate and record an upload; two uploads of one name racing for a number retry."""
    uploads.check_upload(upload)
    tmp_rel, size, sha256 = uploads.receive(deps.store, stream, deps.settings.max_upload_bytes)
    try:
        tmp_rel, size, unpacked_sha, packing = uploads.unpack_received(
            deps.store, upload, tmp_rel, size, deps.settings.max_upload_bytes)
        sha256 = unpacked_sha or sha256
        inspection = uploads.inspect_received(deps.store, upload, tmp_rel, size)
        inspection.schema.update(packing)
        for _ in range(RACE_TRIES):  # two uploads of one name may race for its next version number
            final_rel: str | None = None
            try:
                with deps.session() as session:
                    view, final_rel = uploads.record_upload(session, deps.store, upload, inspection,
                                                            tmp_rel, size, sha256)
                return view
            except IntegrityError:
                continue
            except BaseException:
                if final_rel:  # the row did not commit: take the file back out
                    deps.store.delete(final_rel)
                raise
        raise Invalid({"name": "too many concurrent uploads under this name; try again"})
    finally:
        deps.store.delete(tmp_rel)

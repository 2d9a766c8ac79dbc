"""Small helpers shared by the API and the dashboard."""
from __future__ import annotations

import base64
import os

from flask import Response, current_app, request, send_file

from app.domain.errors import NotFound, TamperedArtifact
from app.runtime import Runtime
from app.services.views import ArtifactView
from app.storage import Tampered, UnsafePath, open_verified


def runtime() -> Runtime:
    return current_app.extensions["trainyard"]


INLINE_TYPES = ("image/png",)


def send_artifact(artifact: ArtifactView, inline: bool = False) -> Response:
    """Send an artifact only if its bytes match the recorded sha256, which the ETag and Digest headers carry.

    The open handle is hashed and then sent, so the bytes sent are the bytes checked; a mismatch is a
    409 that the error handler writes to the audit log (``artifact.tampered``).
    """
    try:
        fh = open_verified(runtime().store, artifact.path, artifact.sha256)  # URL store: its local copy
    except UnsafePath:
        raise NotFound(f"artifact {artifact.name!r} is not in the store") from None
    except FileNotFoundError:
        raise NotFound(f"artifact {artifact.name!r} is missing from the store") from None
    except Tampered as exc:
        raise TamperedArtifact(f"{exc}: refusing to send it", artifact.path) from None
    as_attachment = not (inline and artifact.content_type in INLINE_TYPES)
    st = os.fstat(fh.fileno())
    response = send_file(fh, mimetype=artifact.content_type, as_attachment=as_attachment,
                         download_name=artifact.name, etag=artifact.sha256, conditional=False,
                         max_age=0, last_modified=st.st_mtime)
    response.content_length = st.st_size  # send_file knows sizes of paths only: ranges need it
    response = response.make_conditional(request.environ, accept_ranges=True, complete_length=st.st_size)
    b64 = base64.b64encode(bytes.fromhex(artifact.sha256)).decode()
    response.headers["Digest"] = f"sha-256={b64}"
    response.headers["Repr-Digest"] = f"sha-256=:{b64}:"
    response.headers["X-Checksum-Sha256"] = artifact.sha256
    return response

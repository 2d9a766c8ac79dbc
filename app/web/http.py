"""Small helpers shared by the API and the dashboard."""
from __future__ import annotations

import base64

from flask import Response, current_app, send_file

from app.domain.errors import NotFound
from app.runtime import Runtime
from app.services.views import ArtifactView
from app.storage import UnsafePath


def runtime() -> Runtime:
    return current_app.extensions["trainyard"]


INLINE_TYPES = ("image/png",)


def send_artifact(artifact: ArtifactView, inline: bool = False) -> Response:
    """Stream an artifact from the store with its size and sha256 (ETag and Digest headers)."""
    try:
        path = runtime().store.local(artifact.path)  # a URL store serves from its local cache
    except UnsafePath:
        raise NotFound(f"artifact {artifact.name!r} is not in the store") from None
    except FileNotFoundError:
        raise NotFound(f"artifact {artifact.name!r} is missing from the store") from None
    as_attachment = not (inline and artifact.content_type in INLINE_TYPES)
    response = send_file(path, mimetype=artifact.content_type, as_attachment=as_attachment,
                         download_name=artifact.name, etag=artifact.sha256, conditional=True,
                         max_age=0)
    b64 = base64.b64encode(bytes.fromhex(artifact.sha256)).decode()
    response.headers["Digest"] = f"sha-256={b64}"
    response.headers["Repr-Digest"] = f"sha-256=:{b64}:"
    response.headers["X-Checksum-Sha256"] = artifact.sha256
    return response

"""Small helpers shared by the API and the dashboard."""
from __future__ import annotations

import base64
import os

from flask import Response, current_app, g, request, send_file
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.domain.errors import NotFound, TamperedArtifact
from app.runtime import Runtime
from app.services.views import ArtifactView
from app.storage import Tampered, UnsafePath, open_verified


def runtime() -> Runtime:
    return current_app.extensions["trainyard"]


def request_connection() -> Connection:
    """The request's one unit of work for reading: the guard's token check and a read route's query share
    its connection (on PostgreSQL in autocommit, see ``app.db.read_only``), opened at first use and ended
    by ``end_request_session``. It never writes (a write through it raises ``ReadOnlyUnit``): writes go
    through a use-case, which opens its own. A hot read (the token check, a job, an alias) runs its
    prebuilt statement on it bare; ``request_session`` puts an ORM session on it for the others."""
    found = g.get("_reads")
    if found is None:
        found = g._reads = runtime().read_engine.connect()
    return found


def request_session() -> Session:
    """An ORM session on the request's read connection (``request_connection``), made at first use: a read
    that loads entities. It refuses to flush, as the connection refuses writes."""
    found = g.get("_db")
    if found is None:
        found = g._db = runtime().reads(bind=request_connection())
    return found


def end_request_session(exc: BaseException | None = None) -> None:
    """End the request's read-only unit of work: close its session, then its connection (there is nothing to
    commit: writes, a token's ``last_used_at`` included, go through units of work of their own). Never
    raises: the response is made."""
    for key in ("_db", "_reads"):
        found = g.pop(key, None)
        if found is None:
            continue
        try:
            found.close()
        except Exception as err:  # whatever the session's close raised, the connection is still handed back
            current_app.logger.warning("ending the request's unit of work failed: %s", err)


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

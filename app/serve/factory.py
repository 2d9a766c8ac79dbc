"""The serve process's small HTTP app: ``POST /predict/<name>`` and ``GET /health``.

Only the web calls it: every predict request carries the key derived from the shared SECRET_KEY
(``Settings.serve_key``), and the web has already checked who is asking. Errors have the web's
JSON shape, so the web passes them on unchanged.
"""
from __future__ import annotations

import hmac
import io
import logging
import threading
import time

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from app.config import Settings
from app.domain.errors import DomainError, Invalid, NotFound, OverLimit, TamperedArtifact, Unavailable
from app.http_json import use_orjson
from app.runtime import Runtime
from app.serve.answer import answer
from app.serve.state import Loaded, Serving
from app.serve.watch import start_watching
from app.services import audit

log = logging.getLogger(__name__)


def create_serve_app(settings: Settings | None = None) -> Flask:
    """Build the app and start warming at once, in a thread: the health check says 503 until it is done."""
    settings = settings or Settings.from_env()
    rt = Runtime.build(settings)
    serving = Serving(rt)
    app = Flask("trainyard-serve")
    use_orjson(app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_predict_bytes  # a chunked body is cut off while read
    app.extensions["serving"] = serving
    threading.Thread(target=_warm, args=(serving,), name="serve-warm", daemon=True).start()
    start_watching(serving)

    @app.get("/health")
    def health():
        """200 once every aliased version is loaded and has run once; 503 while warming."""
        ready = serving.ready.is_set()
        aliases = {f"{m}/{a}": ({"version": v.version, "batches": v.batcher.batches, "rows": v.batcher.rows}
                                 if v.batcher else {"version": v.version}) if isinstance(v, Loaded) else
                   {"error": v.message} for (m, a), v in list(serving.aliases.items())}
        return jsonify({"ready": ready, "aliases": aliases}), 200 if ready else 503

    @app.post("/predict/<name>")
    def predict(name: str):
        if not hmac.compare_digest(request.headers.get("X-Serve-Key", ""), settings.serve_key):
            raise NotFound("no such route")  # only the web may call: say nothing more
        if not serving.ready.is_set():
            raise Unavailable("the serve process is still loading its models; try again in a few seconds")
        _check_size(settings.max_predict_bytes)
        started = time.perf_counter()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise Invalid({"body": "must be a JSON object"})
        version = request.args.get("version", type=int)
        loaded = (serving.for_version(name, version) if version else
                  serving.for_alias(name, request.args.get("alias") or "production"))
        how = f"version {version}" if version else f"alias {request.args.get('alias') or 'production'}"
        out = answer(loaded, body, settings.max_predict_instances)
        return jsonify({"model_name": name, "version": loaded.version, "answered_by": how, **out,
                        "elapsed_ms": round((time.perf_counter() - started) * 1000, 2)})

    _register_errors(app, rt, settings)
    return app


def _register_errors(app: Flask, rt: Runtime, settings: Settings) -> None:
    """Errors in the web's JSON shape, so the web passes them on unchanged."""
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        if isinstance(exc, TamperedArtifact):
            _audit_tampered(rt, exc)
        body: dict[str, object] = {**(exc.details or {}), "error": type(exc).__name__.lower(), "message": exc.message}
        if isinstance(exc, Invalid):
            body["fields"] = {str(k): v for k, v in exc.fields.items()}
        headers = {"Retry-After": "2"} if exc.status_code == 503 else {}
        return jsonify(body), exc.status_code, headers

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # an unknown route, a body cut off past the limit: JSON like the rest
        if exc.code == 413:
            return _domain(_too_large(settings.max_predict_bytes))
        return jsonify({"error": (exc.name or "error").lower().replace(" ", "_"),
                        "message": exc.description or ""}), exc.code or 500


def _check_size(limit: int) -> None:
    """A body over MAX_PREDICT_BYTES is a 413, as the web says it (app/web/factory.py), chunked or not."""
    length = request.content_length
    if length is None and request.environ.get("wsgi.input_terminated"):
        # Chunked: Werkzeug would cut the body off at the limit without a word, so read one byte past it
        data = request.input_stream.read(limit + 1)
        request.environ["wsgi.input"], length = io.BytesIO(data), len(data)
    if (length or 0) > limit:
        raise _too_large(limit, length, request.content_length is None)


def _too_large(limit: int, got: int | None = None, at_least: bool = False) -> OverLimit:
    return OverLimit("body", f"a predict request may carry at most {limit:,} bytes"
                     + (f", got {'at least ' if at_least else ''}{got:,}" if got else ""), limit, "MAX_PREDICT_BYTES")


def _warm(serving: Serving) -> None:
    while True:
        try:
            serving.warm()
            return
        except Exception:  # the database is not up yet, say: keep saying 503 and try again
            log.exception("serve: warming failed; trying again in 5 s")
            time.sleep(5)


def _audit_tampered(rt: Runtime, exc: TamperedArtifact) -> None:
    """A refused file is a security event: in the audit log, with the person the web says is asking."""
    log.error("tampered artifact refused: %s", exc.message)
    with rt.session() as session:
        audit.record(session, request.headers.get("X-Trainyard-Actor") or None, "artifact.tampered", exc.path,
                     address=request.headers.get("X-Forwarded-For", request.remote_addr),
                     detail={"path": request.path, "error": exc.message[:500]})

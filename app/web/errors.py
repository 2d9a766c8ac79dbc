"""One place that turns errors into responses: JSON under /api/, the dashboard's error page elsewhere.

Domain errors carry their status (404, 409, 422 with one message per field, ...);
anything unexpected is logged with its traceback and answered with a 500 in the same form.
"""
from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from app.domain.errors import DomainError, Invalid, TamperedArtifact
from app.services import audit
from app.web import outage


def _respond(code: int, error: str, message: str, fields: dict[str, str] | None = None,
             details: dict[str, object] | None = None):
    if request.path.startswith("/api/"):
        body: dict[str, object] = {**(details or {}), "error": error, "message": message}
        if fields is not None:  # keys come from user input (option names): always strings, never None
            body["fields"] = {str(k): v for k, v in fields.items()}
        return jsonify(body), code
    return render_template("error.html", code=code, message=message), code


def register_error_handlers(app: Flask) -> None:
    outage.register(app)  # a database outage: a 503 with Retry-After and one log line
    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        if isinstance(exc, TamperedArtifact):
            _audit_tampered(exc)
        return _respond(exc.status_code, type(exc).__name__.lower(), exc.message,
                        exc.fields if isinstance(exc, Invalid) else None, exc.details)

    @app.errorhandler(InternalServerError)
    def _internal(exc: InternalServerError):
        return _respond(500, "internal", "an unexpected error occurred on our side; it was logged")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if exc.code == 413:  # a body past its limit (a chunked one is only found while reading it): name the limit
            limit, setting = g.get("body_limit") or (request.max_content_length, "MAX_REQUEST_BYTES")
            return _respond(413, "request_entity_too_large", f"the request body is larger than the limit of "
                            f"{limit:,} bytes ({setting})" if limit else "the request body is too large",
                            details={"limit": limit, "setting": setting})
        return _respond(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")


def _audit_tampered(exc: TamperedArtifact) -> None:
    """A refused, tampered artifact is a security event: keep it in the audit log, not only in a response."""
    current_app.logger.error("tampered artifact refused: %s", exc.message)
    user = g.get("user")
    with current_app.extensions["trainyard"].session() as session:
        audit.record(session, user.username if user else None, "artifact.tampered", exc.path,
                     address=request.remote_addr, detail={"path": request.path, "error": exc.message[:500]})

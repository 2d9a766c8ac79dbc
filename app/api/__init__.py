"""The JSON API, versioned under /api/v1. Handlers parse, call a service, wrap the result."""
from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.exceptions import HTTPException

from app.domain.errors import DomainError, Invalid

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    body = {"error": type(exc).__name__.lower(), "message": exc.message}
    if isinstance(exc, Invalid):
        body["fields"] = exc.fields
    return jsonify(body), exc.status_code


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return jsonify({"error": (exc.name or "error").lower().replace(" ", "_"),
                    "message": exc.description}), exc.code


from app.api import jobs, meta, predict, registry  # noqa: E402,F401  (routes register on bp)

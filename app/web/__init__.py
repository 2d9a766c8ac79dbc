"""The dashboard: server-rendered pages; the job page polls the JSON API for live progress."""
from __future__ import annotations

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from app.domain.errors import DomainError

# Static files are the app's own (app/web/static, served at /static).
bp = Blueprint("web", __name__, template_folder="templates")


@bp.app_errorhandler(DomainError)
def _domain_error(exc: DomainError):
    return render_template("error.html", code=exc.status_code, message=exc.message), exc.status_code


@bp.app_errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    from flask import request

    if request.path.startswith("/api/"):
        from flask import jsonify

        return jsonify({"error": (exc.name or "error").lower().replace(" ", "_"),
                        "message": exc.description}), exc.code
    return render_template("error.html", code=exc.code, message=exc.description), exc.code


@bp.app_errorhandler(500)
def _server_error(exc):
    """An unexpected error: logged with its traceback, answered in the same look (or JSON for the API)."""
    from flask import jsonify, request

    if request.path.startswith("/api/"):
        return jsonify({"error": "internal", "message": "an unexpected error occurred; it was logged"}), 500
    return render_template("error.html", code=500, message="Something went wrong on our side; it was logged."), 500


from app.web import views  # noqa: E402,F401

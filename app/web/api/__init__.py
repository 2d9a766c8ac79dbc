"""The JSON API, versioned under /api/v1. Handlers parse, call a service, wrap the result.

Errors become JSON in app/web/errors.py (one shape for every route, including unknown ones).
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.web.api import jobs, meta, openapi, predict, registry, schedules, sweeps, webhooks, workers  # noqa: E402,F401

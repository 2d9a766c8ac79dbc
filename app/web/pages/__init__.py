"""The dashboard: server-rendered pages; the job page polls the JSON API for live progress.

Errors become pages in app/web/errors.py, shared with the API.
"""
from __future__ import annotations

from flask import Blueprint

# Static files are the app's own (app/web/static, served at /static).
bp = Blueprint("web", __name__, template_folder="templates")

from app.web.pages import batch, formatting, schedules, sweeps, views  # noqa: E402,F401

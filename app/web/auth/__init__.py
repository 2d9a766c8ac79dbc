"""Accounts, sign-in, API tokens, roles and the audit log: the web side of them.

The rules (who may do what) are in ``policy.py``; the checks run for every request in
``guard.py``; the use-cases (hashing, tokens, audit rows) are Flask-free in app/services.
"""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__, template_folder="templates")

from app.web.auth import views  # noqa: E402,F401

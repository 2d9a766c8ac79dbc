"""Trainyard's application package. ``create_app`` builds the web app (dashboard + /api/v1).

Importing ``app`` (as workers and services do) loads neither Flask nor TensorFlow;
Flask is imported when the web app is built.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(settings: Any = None) -> Flask:
    """Build the web app; see ``app.web.factory``."""
    from app.web.factory import create_app as build

    return build(settings)

"""The serve process: model versions answered over HTTP, apart from the web.

It imports TensorFlow once at start, loads the version behind every alias before it says ready,
micro-batches concurrent requests per version and swaps a version when its alias moves. The web
forwards ``POST /api/v1/models/<name>/predict`` here (app/web/api/predict.py), so the web never
loads TensorFlow. Run by Granian (docs/architecture.md):
``granian --interface wsgi --factory --workers 1 --blocking-threads 32 app.serve:create_app``.
"""
from __future__ import annotations

from typing import Any


def create_app(settings: Any = None) -> Any:
    """The serve process's WSGI app (imported lazily: importing the package stays cheap)."""
    from app.serve.factory import create_serve_app

    return create_serve_app(settings)

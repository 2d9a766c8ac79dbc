"""/api/v1 health, kinds and datasets: what a client needs to build a valid request."""
from __future__ import annotations

from flask import jsonify
from sqlalchemy import text

from app.api import bp
from app.http import runtime
from app.kinds import KINDS
from app.services import datasets


@bp.get("/health")
def health():
    """Liveness plus a database round trip; a constant-cost endpoint for load balancers."""
    with runtime().session() as session:
        session.execute(text("SELECT 1"))
    return jsonify({"status": "ok"})


@bp.get("/kinds")
def list_kinds():
    return jsonify({"items": [
        {"name": s.name, "title": s.title, "data_kinds": list(s.data_kinds),
         "params": [p.to_json() for p in s.params]}
        for s in KINDS.values()
    ]})


@bp.get("/datasets")
def list_datasets():
    with runtime().session() as session:
        return jsonify({"items": [d.to_dict() for d in datasets.list_datasets(session)]})

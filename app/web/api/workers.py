"""/api/v1/workers: every worker as it last described itself, with its GPUs and current job."""
from __future__ import annotations

from flask import jsonify

from app.services import workers
from app.web.api import bp
from app.web.http import runtime


@bp.get("/workers")
def list_workers():
    """Workers (alive first), their queues, GPUs, beat age and current job; last completed job per queue."""
    with runtime().session() as session:
        items = workers.list_workers(session)
        last = workers.last_completed_by_queue(session)
    return jsonify({"items": items, "last_completed": last})

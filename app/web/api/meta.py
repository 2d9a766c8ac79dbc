"""/api/v1 health, kinds and datasets: what a client needs to build a valid request."""
from __future__ import annotations

from flask import jsonify, request, url_for

from app.broker import queue_depths
from app.domain.errors import Invalid
from app.kinds import KINDS
from app.services import datasets, uploads
from app.services.queues import QUEUES, queue_activity
from app.services.usecases.upload import upload_dataset as upload_file
from app.web import outage
from app.web.api import bp
from app.web.api.parse import int_arg
from app.web.auth.guard import actor, current_user
from app.web.http import request_session, runtime


@bp.get("/health")
def health():
    """Liveness plus a database round trip and a Redis ping; a constant-cost endpoint for load balancers.

    The database down is a 503 naming it; Redis down or a wedged worker (no job child able to run
    jobs) makes the status "degraded", still with 200: the web itself serves, and a load balancer
    must not take it out for that. This route is public, so it counts wedged workers;
    /api/v1/workers (signed in) names them. See app/web/outage.py.
    """
    return outage.health(runtime())


@bp.get("/queues")
def queues():
    """Per queue: depth in Redis, the last job a worker completed, and the jobs running now."""
    session = request_session()
    activity = queue_activity(session)
    depths = queue_depths(runtime().settings.redis_url, QUEUES)
    for item in activity:
        item["depth"] = depths.get(item["queue"]) if depths is not None else None
    return jsonify({"items": activity, "broker_reachable": depths is not None})


@bp.get("/kinds")
def list_kinds():
    """Every installed kind's spec (parameters, the data it trains on, what it takes to predict, its stages,
    the package that brought it) and the kind packages that failed to load, with their errors."""
    items = [{**s.to_json(), **KINDS.installed(s.name).to_json()} for s in KINDS.values()]
    return jsonify({"items": items, "broken": [b.to_json() for b in KINDS.broken]})


@bp.get("/datasets")
def list_datasets():
    session = request_session()
    return jsonify({"items": [d.to_dict() for d in datasets.list_datasets(session)]})


@bp.post("/datasets")
def upload_dataset():
    """Upload a file as the next version of a dataset name.

    Either multipart (fields ``name``, ``kind``, options, ``description`` and the file
    in ``file``) or the raw file as the body with those fields in the query string.
    """
    if request.mimetype == "multipart/form-data":
        fields = request.form
        file = request.files.get("file")
        if file is None:
            raise Invalid({"file": "missing: send the file in the 'file' field"})
        stream = file.stream
    else:
        fields, stream = request.args, request.stream
    upload = uploads.Upload(
        name=fields.get("name", ""), kind=fields.get("kind", ""),
        options={k: v for k, v in fields.items()
                 if k and k not in ("name", "kind", "description") and v != ""},
        description=fields.get("description") or None, created_by=actor())
    view = upload_file(runtime(), upload, stream)
    response = jsonify(view.to_dict())
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_dataset", name=view.name, version=view.version)
    return response


@bp.get("/datasets/<name>")
def dataset_versions(name: str):
    session = request_session()
    return jsonify({"items": [d.to_dict() for d in datasets.dataset_versions(session, name)]})


@bp.get("/datasets/<name>/versions/<int:version>")
def get_dataset(name: str, version: int):
    session = request_session()
    return jsonify(datasets.get_dataset(session, name, version).to_dict())


@bp.get("/datasets/<name>/versions/<int:version>/preview")
def preview_dataset(name: str, version: int):
    """The first rows (``?rows=``, at most 100) of a dataset version."""
    rows = min(max(int_arg("rows", 10), 1), 100)
    session = request_session()
    return jsonify(datasets.preview(session, runtime().store, name, version, rows))


@bp.get("/me")
def whoami():
    """The account behind the token (or session): a client's first check that its token works."""
    user = current_user()
    return jsonify({"username": user.username, "role": user.role})

"""/api/v1/jobs: submit, poll, list, timeline."""
from __future__ import annotations

from flask import jsonify, request, url_for

from app.domain.errors import Invalid
from app.domain.status import JobStatus
from app.services import batch, events, job_reads
from app.services.usecases.cancel import cancel_job as cancel
from app.services.usecases.submit import submit_batch, submit_training
from app.web.api import bp
from app.web.api.parse import int_arg, json_object
from app.web.auth.guard import actor, audit_in_unit, require_owner_or_admin
from app.web.http import request_connection, request_session, runtime, send_artifact


def _job_url(job) -> str:
    return url_for("api.get_job", job_id=job.id)


def _job_json(job, outputs=None) -> dict:
    out = job.to_dict()
    if outputs is not None:
        out["outputs"] = [{**o.to_dict(), "url": url_for("api.download_output", job_id=job.id, filename=o.name)}
                          for o in outputs]
    out["url"] = _job_url(job)
    if job.version is not None:
        out["version_url"] = url_for("api.get_version", name=job.model_name, version=job.version)
    return out


@bp.post("/jobs")
def submit_job():
    """Submit a training job; 201 with the job, or 200 with the first job for a repeated Idempotency-Key."""
    body = json_object()
    job_type = body.get("type", "train")
    if job_type not in ("train", "infer"):
        raise Invalid({"type": "must be 'train' or 'infer' (batch inference)"})
    key = request.headers.get("Idempotency-Key") or body.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 128):
        raise Invalid({"idempotency_key": "must be a string of 1-128 characters"})
    submit = submit_training if job_type == "train" else submit_batch
    job, created = submit(runtime(), {k: v for k, v in body.items() if k != "type"}, created_by=actor(),
                          idempotency_key=key, audit=audit_in_unit(_job_url))
    response = jsonify(_job_json(job))
    response.status_code = 201 if created else 200
    response.headers["Location"] = _job_url(job)
    return response


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    job = job_reads.get_job(request_connection(), job_id)
    outputs = batch.outputs_of(request_session(), job_id) if job.type == "infer" else None
    return jsonify(_job_json(job, outputs))


@bp.get("/jobs/<job_id>/outputs/<filename>")
def download_output(job_id: str, filename: str):
    """A batch job's output file (predictions.csv, predictions.parquet, errors.csv, summary.json)."""
    with runtime().session() as session:  # ended before the file is hashed and sent
        output = batch.get_output(session, job_id, filename)
    return send_artifact(output)


@bp.get("/jobs")
def list_jobs():
    """Newest first; ``?status=``, ``?model=``, ``?limit=`` (1-200) and ``?cursor=`` from ``next``."""
    page, next_cursor = job_reads.list_jobs(
        request_session(), status=request.args.get("status") or None,
        model_name=request.args.get("model") or None, kind=request.args.get("kind") or None,
        created_by=request.args.get("created_by") or None,
        oldest_first=request.args.get("sort") == "oldest",
        limit=int_arg("limit", 50), cursor=request.args.get("cursor") or None)
    next_url = None
    if next_cursor:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        next_url = url_for("api.list_jobs", cursor=next_cursor, **args)
    return jsonify({"items": [_job_json(j) for j in page], "next_cursor": next_cursor, "next": next_url})


@bp.get("/jobs/<job_id>/events")
def job_events(job_id: str):
    session = request_session()
    items = events.job_events(session, job_id, after=int_arg("after", 0))
    return jsonify({"items": items})


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    """Cancel: at once if waiting or queued; at the running job's next batch otherwise (202)."""
    job = cancel(runtime(), job_id, actor=actor(),
                 may_act=lambda owner: require_owner_or_admin(owner, "cancel this job"))
    return jsonify(_job_json(job)), 202 if job.status == JobStatus.RUNNING else 200

"""/api/v1/schedules: scheduled retrains (create, edit, pause, resume, delete, preview)."""
from __future__ import annotations

from flask import jsonify, request, url_for

from app.models import utcnow
from app.services import schedules
from app.services.usecases.schedule import create_schedule as create
from app.web.api import bp
from app.web.api.parse import json_object
from app.web.auth.guard import actor
from app.web.http import runtime


def _json(schedule: dict) -> dict:
    return {**schedule, "url": url_for("api.get_schedule", schedule_id=schedule["id"])}


@bp.get("/schedules")
def list_schedules():
    with runtime().session() as session:
        return jsonify({"items": [_json(s) for s in schedules.list_schedules(session)]})


@bp.post("/schedules")
def create_schedule():
    body = json_object()
    created = create(runtime(), body, actor())
    response = jsonify(_json(created))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_schedule", schedule_id=created["id"])
    return response


@bp.get("/schedules/<int:schedule_id>")
def get_schedule(schedule_id: int):
    with runtime().session() as session:
        return jsonify(_json(schedules.get_schedule(session, schedule_id)))


@bp.patch("/schedules/<int:schedule_id>")
def update_schedule(schedule_id: int):
    body = json_object()
    with runtime().session() as session:
        return jsonify(_json(schedules.update_schedule(session, schedule_id, body)))


@bp.post("/schedules/<int:schedule_id>/pause")
def pause_schedule(schedule_id: int):
    with runtime().session() as session:
        return jsonify(_json(schedules.set_enabled(session, schedule_id, False)))


@bp.post("/schedules/<int:schedule_id>/resume")
def resume_schedule(schedule_id: int):
    with runtime().session() as session:
        return jsonify(_json(schedules.set_enabled(session, schedule_id, True)))


@bp.delete("/schedules/<int:schedule_id>")
def delete_schedule(schedule_id: int):
    with runtime().session() as session:
        schedules.delete(session, schedule_id)
    return "", 204


@bp.get("/schedules/preview")
def preview_schedule():
    """The next five due times of ``?cron=`` in ``?timezone=`` (what the edit form shows)."""
    cron, timezone = request.args.get("cron", ""), request.args.get("timezone") or "UTC"
    return jsonify({"cron": cron, "timezone": timezone,
                    "next_runs": [t.isoformat().replace("+00:00", "Z")
                                  for t in schedules.preview(cron, timezone, utcnow())]})

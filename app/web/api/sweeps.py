"""/api/v1/sweeps: search a kind's parameters (create, read, pause, resume, cancel, register the best)."""
from __future__ import annotations

from flask import jsonify, url_for

from app.services import sweeps
from app.services.usecases.sweep import create_sweep as create
from app.services.usecases.sweep import move_sweep, register_best
from app.web.api import bp
from app.web.api.parse import json_object
from app.web.auth.guard import actor, require_owner_or_admin
from app.web.http import runtime


def _json(sweep: dict) -> dict:
    return {**sweep, "url": url_for("api.get_sweep", sweep_id=sweep["id"])}


def _may(what: str):
    return lambda owner: require_owner_or_admin(owner, what)


@bp.get("/sweeps")
def list_sweeps():
    with runtime().session() as session:
        return jsonify({"items": [_json(s) for s in sweeps.list_sweeps(session)]})


@bp.post("/sweeps")
def create_sweep():
    created = create(runtime(), json_object(), actor())
    response = jsonify(_json(created))
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_sweep", sweep_id=created["id"])
    return response


@bp.get("/sweeps/<int:sweep_id>")
def get_sweep(sweep_id: int):
    with runtime().session() as session:
        return jsonify(_json(sweeps.get_sweep(session, sweep_id)))


@bp.post("/sweeps/<int:sweep_id>/pause")
def pause_sweep(sweep_id: int):
    return jsonify(_json(move_sweep(runtime(), sweep_id, "pause", actor(), _may("pause this sweep"))))


@bp.post("/sweeps/<int:sweep_id>/resume")
def resume_sweep(sweep_id: int):
    return jsonify(_json(move_sweep(runtime(), sweep_id, "resume", actor(), _may("resume this sweep"))))


@bp.post("/sweeps/<int:sweep_id>/cancel")
def cancel_sweep(sweep_id: int):
    return jsonify(_json(move_sweep(runtime(), sweep_id, "cancel", actor(), _may("cancel this sweep"))))


@bp.post("/sweeps/<int:sweep_id>/register")
def register_sweep_best(sweep_id: int):
    registered = register_best(runtime(), sweep_id, actor(), _may("register this sweep's best trial"))
    response = jsonify(registered)
    response.status_code = 201
    response.headers["Location"] = url_for("api.get_version", name=registered["model_name"],
                                           version=registered["version"])
    return response

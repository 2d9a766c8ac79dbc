"""/api/v1/models: registered models, versions and artifact downloads."""
from __future__ import annotations

from flask import jsonify, url_for

from app.domain.errors import Invalid
from app.services import aliases, registry
from app.services.usecases import promote as moves
from app.web.api import bp
from app.web.api.parse import json_object
from app.web.auth.guard import actor
from app.web.http import request_connection, request_session, runtime, send_artifact


def _version_json(v) -> dict:
    out = v.to_dict()
    for a in out["artifacts"]:
        a["url"] = url_for("api.download_artifact", name=v.model_name, version=v.version,
                           filename=a["name"])
    return out


@bp.get("/models")
def list_models():
    session = request_session()
    return jsonify({"items": registry.list_models(session)})


@bp.get("/models/<name>/versions")
def list_versions(name: str):
    session = request_session()
    versions = registry.list_versions(session, name)
    return jsonify({"items": [_version_json(v) for v in versions]})


@bp.get("/models/<name>/versions/<int:version>")
def get_version(name: str, version: int):
    session = request_session()
    return jsonify(_version_json(registry.get_version(session, name, version)))


@bp.get("/models/<name>/versions/<int:version>/artifacts/<filename>")
def download_artifact(name: str, version: int, filename: str):
    with runtime().session() as session:  # ended before the file is hashed and sent
        artifact = registry.get_artifact(session, name, version, filename)
    return send_artifact(artifact)


@bp.post("/models/<name>/versions/<int:version>/archive")
def archive_version(name: str, version: int):
    """Archive a version (files kept, no longer resolvable by name); 409 while others depend on it."""
    with runtime().session() as session:
        return jsonify(_version_json(registry.archive_version(session, name, version)))


def _alias_move(fn, name: str, alias: str, kwargs):
    body = json_object()
    expected = body.get("expected_version")
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise Invalid({"expected_version": "must be a version number"})
    return jsonify(fn(runtime(), name, alias, reason=body.get("reason"), expected_version=expected,
                      actor=actor(), **kwargs(body)))


@bp.get("/models/<name>/aliases")
def get_aliases(name: str):
    session = request_session()
    return jsonify({"aliases": aliases.aliases_of(session, name), "history": aliases.history(session, name)})


@bp.get("/models/<name>/aliases/<alias>")
def get_alias(name: str, alias: str):
    """The version one alias points at now: what a client following ``production`` polls."""
    version = aliases.alias_target(request_connection(), name, alias)
    return jsonify({"model_name": name, "alias": alias, "version": version,
                    "version_url": url_for("api.get_version", name=name, version=version)})


@bp.post("/models/<name>/aliases/<alias>")
def promote(name: str, alias: str):
    """Point an alias at a version: {"version": n, "reason": "...", "expected_version": m (optional)}."""
    def version(body):
        v = body.get("version")
        if isinstance(v, bool) or not isinstance(v, int):
            raise Invalid({"version": "required: the version number to promote"})
        return {"version": v}

    return _alias_move(moves.promote, name, alias, kwargs=version)


@bp.post("/models/<name>/aliases/<alias>/rollback")
def rollback(name: str, alias: str):
    """Return an alias to where it pointed before its last move: {"reason": "..."}."""
    return _alias_move(moves.rollback, name, alias, kwargs=lambda body: {})

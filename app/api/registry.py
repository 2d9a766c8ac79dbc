"""/api/v1/models: registered models, versions and artifact downloads."""
from __future__ import annotations

from flask import jsonify, url_for

from app.api import bp
from app.http import runtime, send_artifact
from app.services import registry


def _version_json(v) -> dict:
    out = v.to_dict()
    for a in out["artifacts"]:
        a["url"] = url_for("api.download_artifact", name=v.model_name, version=v.version,
                           filename=a["name"])
    return out


@bp.get("/models")
def list_models():
    with runtime().session() as session:
        return jsonify({"items": registry.list_models(session)})


@bp.get("/models/<name>/versions")
def list_versions(name: str):
    with runtime().session() as session:
        versions = registry.list_versions(session, name)
    return jsonify({"items": [_version_json(v) for v in versions]})


@bp.get("/models/<name>/versions/<int:version>")
def get_version(name: str, version: int):
    with runtime().session() as session:
        return jsonify(_version_json(registry.get_version(session, name, version)))


@bp.get("/models/<name>/versions/<int:version>/artifacts/<filename>")
def download_artifact(name: str, version: int, filename: str):
    with runtime().session() as session:
        artifact = registry.get_artifact(session, name, version, filename)
    return send_artifact(artifact)


@bp.post("/models/<name>/versions/<int:version>/archive")
def archive_version(name: str, version: int):
    """Archive a version (files kept, no longer resolvable by name); 409 while others depend on it."""
    with runtime().session() as session:
        return jsonify(_version_json(registry.archive_version(session, name, version)))

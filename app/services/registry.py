"""The model registry: register a job's version (fenced), and read models, versions, artifacts."""
from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.errors import Conflict, NotFound
from app.models import Artifact, Dataset, Job, ModelVersion, RegisteredModel, utcnow
from app.services.jobs import add_event
from app.services.views import VersionView
from app.storage import StoredFile


def _get_or_create_model(session: Session, name: str) -> RegisteredModel:
    model = session.scalars(select(RegisteredModel).where(RegisteredModel.name == name)).first()
    if model is not None:
        return model
    try:
        with session.begin_nested():
            model = RegisteredModel(name=name, created_at=utcnow())
            session.add(model)
            session.flush()
        return model
    except IntegrityError:  # another worker created it a moment ago
        return session.scalars(select(RegisteredModel).where(RegisteredModel.name == name)).one()


def register_version(session: Session, job_id: str, attempt: int, files: Sequence[StoredFile],
                     metrics: Mapping[str, Any], framework: Mapping[str, Any]) -> VersionView | None:
    """Record a finished job's version and mark the job succeeded, in one transaction.

    Returns None (and writes nothing) when this attempt no longer owns the job:
    a duplicate or stale worker can never register a second version.
    """
    job = session.scalars(
        select(Job).where(Job.id == job_id, Job.status == "running", Job.attempt == attempt)
        .with_for_update()
    ).first()
    if job is None:
        return None
    model = _get_or_create_model(session, job.model_name)
    # Lock the model row so two jobs of the same model get consecutive numbers (PostgreSQL);
    # SQLite serialises writers anyway. The unique (model_id, version) is the backstop.
    session.execute(select(RegisteredModel.id).where(RegisteredModel.id == model.id).with_for_update())
    latest = session.scalar(select(func.max(ModelVersion.version)).where(ModelVersion.model_id == model.id))
    dataset = session.get(Dataset, job.dataset_id)
    assert dataset is not None
    version = ModelVersion(
        model_id=model.id, version=(latest or 0) + 1, job_id=job.id, kind=job.kind,
        dataset_id=dataset.id, dataset_sha256=dataset.sha256, params=job.params,
        metrics=dict(metrics), framework=dict(framework), created_by=job.created_by,
        created_at=utcnow(),
    )
    session.add(version)
    session.flush()
    artifacts = [
        Artifact(version_id=version.id, name=f.name, path=f.path, size_bytes=f.size_bytes,
                 sha256=f.sha256,
                 content_type=mimetypes.guess_type(f.name)[0] or "application/octet-stream")
        for f in files
    ]
    session.add_all(artifacts)
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "running", Job.attempt == attempt)
        .values(status="succeeded", progress=1.0, metrics=dict(metrics), finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise Conflict(f"job {job_id} changed while its version was being registered")
    add_event(session, job_id, "status", status="succeeded", version=version.version,
              model_name=model.name)
    session.flush()
    return VersionView.of(model.name, version, dataset, artifacts)


def list_models(session: Session) -> list[dict[str, Any]]:
    """Every registered model with its version count and newest version's metrics."""
    newest = (select(ModelVersion.model_id, func.max(ModelVersion.version).label("latest"),
                     func.count().label("versions"))
              .group_by(ModelVersion.model_id).subquery())
    rows = session.execute(
        select(RegisteredModel, newest.c.latest, newest.c.versions, ModelVersion)
        .outerjoin(newest, newest.c.model_id == RegisteredModel.id)
        .outerjoin(ModelVersion, (ModelVersion.model_id == RegisteredModel.id)
                   & (ModelVersion.version == newest.c.latest))
        .order_by(RegisteredModel.name)
    )
    return [{"name": m.name, "latest_version": latest, "versions": count or 0,
             "kind": v.kind if v else None, "latest_metrics": v.metrics if v else {}}
            for m, latest, count, v in rows]


def _model(session: Session, name: str) -> RegisteredModel:
    model = session.scalars(select(RegisteredModel).where(RegisteredModel.name == name)).first()
    if model is None:
        raise NotFound(f"no model {name!r}")
    return model


def _view(session: Session, model: RegisteredModel, v: ModelVersion) -> VersionView:
    dataset = session.get(Dataset, v.dataset_id)
    assert dataset is not None
    artifacts = list(session.scalars(select(Artifact).where(Artifact.version_id == v.id)
                                     .order_by(Artifact.name)))
    return VersionView.of(model.name, v, dataset, artifacts)


def list_versions(session: Session, name: str) -> list[VersionView]:
    model = _model(session, name)
    rows = session.scalars(select(ModelVersion).where(ModelVersion.model_id == model.id)
                           .order_by(ModelVersion.version.desc()))
    return [_view(session, model, v) for v in rows]


def get_version(session: Session, name: str, version: int) -> VersionView:
    model = _model(session, name)
    v = session.scalars(select(ModelVersion).where(ModelVersion.model_id == model.id,
                                                   ModelVersion.version == version)).first()
    if v is None:
        raise NotFound(f"model {name!r} has no version {version}")
    return _view(session, model, v)


def get_artifact(session: Session, name: str, version: int, filename: str):
    """The artifact record named exactly ``filename`` of that version (names are never paths)."""
    for artifact in get_version(session, name, version).artifacts:
        if artifact.name == filename:
            return artifact
    raise NotFound(f"version {version} of {name!r} has no artifact {filename!r}")

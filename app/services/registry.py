"""The model registry: register a job's version (fenced), and read models, versions, artifacts."""
from __future__ import annotations

import mimetypes
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.errors import Conflict, NotFound
from app.domain.status import ACTIVE, JobStatus
from app.models import Artifact, Dataset, Job, ModelAlias, ModelVersion, RegisteredModel, Schedule, utcnow
from app.services import lifecycle, webhooks
from app.services.claims import release_dependents
from app.services.events import add_event
from app.services.gate import Measured, apply_gate
from app.services.transitions import transition
from app.services.versions import lock_version, version_refs
from app.services.views import VersionView
from app.storage import StoredFile


def ensure_model(session: Session, name: str) -> None:
    """Create the registered model if it does not exist (its own short transaction).

    Kept apart from the registration so that a race between two first versions of one
    model ends in an IntegrityError here, which the caller retries, instead of a savepoint
    (on SQLite a savepoint before any write commits by itself).
    """
    if session.scalars(select(RegisteredModel.id).where(RegisteredModel.name == name)).first() is None:
        session.add(RegisteredModel(name=name, created_at=utcnow()))
        session.flush()


def _get_model(session: Session, name: str) -> RegisteredModel:
    return session.scalars(select(RegisteredModel).where(RegisteredModel.name == name)).one()


@dataclass(frozen=True)
class Registered:
    version: VersionView | None  # None: a cancel request was found at the door; the job is cancelled instead
    released: list[tuple[str, str]]  # (job id, queue) of jobs that waited for this version


def register_version(session: Session, job_id: str, attempt: int, files: Sequence[StoredFile],
                     metrics: Mapping[str, Any], framework: Mapping[str, Any],
                     gate_measured: Measured | None = None) -> Registered | None:
    """Record a finished job's version, mark the job succeeded and release the jobs waiting for it.

    One transaction; a scheduled job's gate decision (and promotion) is part of it. Returns
    None (and writes nothing) when this attempt no longer owns the job: a duplicate or stale
    worker can never register a second version. A cancel requested before this commit wins: the
    job is cancelled instead, under the same row lock, so a 202 to a cancel never ends in a version.
    """
    job = session.scalars(
        select(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.attempt == attempt)
        .with_for_update()
    ).first()
    if job is None:
        return None
    if job.cancel_requested_at is not None:
        return Registered(None, []) if lifecycle.finish_cancelled(session, job_id, attempt) else None
    model = _get_model(session, job.model_name)
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
        created_at=utcnow(), parent_version_id=job.input_version_id,
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
    # The cancel guard again: SQLite takes no row lock, so a cancel may commit after the read above.
    if not transition(session, job_id, JobStatus.RUNNING, JobStatus.SUCCEEDED, attempt=attempt,
                      also=(Job.cancel_requested_at.is_(None),),
                      values={"progress": 1.0, "metrics": dict(metrics), "finished_at": utcnow(),
                              **final_epoch(job, metrics)},
                      event={"version": version.version, "model_name": model.name}):
        raise Conflict(f"job {job_id} changed while its version was being registered")
    released = release_dependents(session, job_id, version.id)
    schedule = session.get(Schedule, job.schedule_id) if job.schedule_id else None
    if schedule is not None:
        details = apply_gate(session, schedule, model.name, version,
                             gate_measured or Measured(None, None, "not measured"))
        add_event(session, job_id, "log", message=f"gate: {details['decision']} "
                  f"({details['policy']['metric']} {details['challenger_metric']} vs champion "
                  f"{details['champion_metric']}, {details['champion_metric_source']})")
    session.flush()
    webhooks.job_ended(session, job_id)  # the outbox row commits with the version, or not at all
    return Registered(_view(session, model, version), released)


def final_epoch(job: Job, metrics: Mapping[str, Any]) -> dict[str, int]:
    """The epoch a finished job ended at: its progress writes are best-effort and may have been lost
    (a database outage), so a succeeded job must not keep showing "epoch 18 of 20"."""
    run = metrics.get("epochs_run")
    final = run if isinstance(run, int) and not isinstance(run, bool) else max(job.epoch, job.total_epochs)
    return {"epoch": final, "total_epochs": job.total_epochs or final}


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
    aliases: dict[int, dict[str, int]] = {}
    for model_id, alias, number in session.execute(
            select(ModelAlias.model_id, ModelAlias.alias, ModelVersion.version)
            .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)):
        aliases.setdefault(model_id, {})[alias] = number
    return [{"name": m.name, "latest_version": latest, "versions": count or 0,
             "kind": v.kind if v else None, "latest_metrics": v.metrics if v else {},
             "aliases": aliases.get(m.id, {})}
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
    child_ids = set(session.scalars(select(ModelVersion.id).where(ModelVersion.parent_version_id == v.id,
                                                                  ModelVersion.archived_at.is_(None))))
    refs = version_refs(session, child_ids | ({v.parent_version_id} - {None}))
    children = tuple(refs[i] for i in sorted(child_ids))
    return VersionView.of(model.name, v, dataset, artifacts, refs.get(v.parent_version_id), children)


def list_versions(session: Session, name: str, limit: int | None = None) -> list[VersionView]:
    """Newest first, in a fixed number of queries whatever the count (a model may have thousands)."""
    model = _model(session, name)
    query = (select(ModelVersion, Dataset).join(Dataset, Dataset.id == ModelVersion.dataset_id)
             .where(ModelVersion.model_id == model.id).order_by(ModelVersion.version.desc()))
    rows = session.execute(query.limit(limit) if limit else query).all()
    ids = [v.id for v, _ in rows]
    artifacts: dict[int, list[Artifact]] = {}
    children: dict[int, list[int]] = {}
    if ids:
        for a in session.scalars(select(Artifact).where(Artifact.version_id.in_(ids)).order_by(Artifact.name)):
            artifacts.setdefault(a.version_id, []).append(a)
        for child_id, parent_id in session.execute(
                select(ModelVersion.id, ModelVersion.parent_version_id)
                .where(ModelVersion.parent_version_id.in_(ids), ModelVersion.archived_at.is_(None))):
            children.setdefault(parent_id, []).append(child_id)
    refs = version_refs(session, {c for cs in children.values() for c in cs}
                        | {v.parent_version_id for v, _ in rows if v.parent_version_id})
    return [VersionView.of(model.name, v, d, artifacts.get(v.id, []), refs.get(v.parent_version_id),
                           tuple(refs[c] for c in sorted(children.get(v.id, []))))
            for v, d in rows]


def get_version(session: Session, name: str, version: int) -> VersionView:
    return _view(session, *_version_row(session, name, version))


def version_of_job(session: Session, job_id: str) -> VersionView | None:
    v = session.scalars(select(ModelVersion).where(ModelVersion.job_id == job_id)).first()
    return get_version_by_id(session, v.id) if v else None


def get_version_by_id(session: Session, version_id: int) -> VersionView:
    v = session.get(ModelVersion, version_id)
    if v is None:
        raise NotFound(f"no model version with id {version_id}")
    model = session.get(RegisteredModel, v.model_id)
    assert model is not None
    return _view(session, model, v)


def _version_row(session: Session, name: str, version: int, lock: bool = False
                 ) -> tuple[RegisteredModel, ModelVersion]:
    """The version's row; ``lock`` holds it so archive and promote of it serialise."""
    if not 0 < version < 2**31:
        raise NotFound(f"model {name!r} has no version {version}")
    model = _model(session, name)
    v = session.scalars(select(ModelVersion).where(ModelVersion.model_id == model.id,
                                                   ModelVersion.version == version)).first()
    if v is None:
        raise NotFound(f"model {name!r} has no version {version}")
    return model, lock_version(session, v.id) if lock else v


def archive_version(session: Session, name: str, version: int, actor: str | None = None) -> VersionView:
    """Archive a version (its files stay), refused while live versions or jobs depend on it.

    The version's row is locked first: a promotion of it (which locks it too) either committed
    before, and its alias is seen here, or waits and then sees the version archived.
    """
    model, v = _version_row(session, name, version, lock=True)
    if v.archived_at is not None:
        return _view(session, model, v)
    children = session.scalars(select(ModelVersion.id).where(ModelVersion.parent_version_id == v.id,
                                                             ModelVersion.archived_at.is_(None))).all()
    pending = session.scalars(select(Job.id).where(Job.input_version_id == v.id,
                                                   Job.status.in_(ACTIVE))).all()
    aliased = session.scalars(select(ModelAlias.alias).where(ModelAlias.version_id == v.id)).all()
    if aliased:
        raise Conflict(f"{name} v{version} is what {', '.join(aliased)} points at: move the alias first")
    if children or pending:
        refs = version_refs(session, set(children))
        names = [f"{r['model_name']} v{r['version']}" for r in refs.values()] + [f"job {j}" for j in pending]
        raise Conflict(f"{name} v{version} is used by {', '.join(names)}: archive those first")
    v.archived_at = utcnow()
    session.flush()
    return _view(session, model, v)


def get_artifact(session: Session, name: str, version: int, filename: str):
    """The artifact record named exactly ``filename`` of that version (names are never paths)."""
    for artifact in get_version(session, name, version).artifacts:
        if artifact.name == filename:
            return artifact
    raise NotFound(f"version {version} of {name!r} has no artifact {filename!r}")


@dataclass(frozen=True)
class ServingTarget:
    version: VersionView
    dataset_schema: dict[str, Any]
    answered_by: str  # "alias production" or "version 3"


def serving_target(session: Session, name: str, alias: str | None, version: int | None) -> ServingTarget:
    """The version a prediction uses: ``version`` if given, else ``alias`` (default production)."""
    from app.services.aliases import resolve_alias

    if version is not None:
        view = get_version(session, name, version)
        how = f"version {version}"
    else:
        alias = alias or "production"
        row = resolve_alias(session, name, alias)
        view = get_version(session, name, row.version)
        how = f"alias {alias}"
    if view.archived_at:
        raise Conflict(f"{name} v{view.version} is archived")
    dataset = session.scalars(select(Dataset).join(ModelVersion, ModelVersion.dataset_id == Dataset.id)
                              .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
                              .where(RegisteredModel.name == name, ModelVersion.version == view.version)).one()
    return ServingTarget(view, dict(dataset.schema), how)

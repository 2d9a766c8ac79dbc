"""Job use-cases: submit, claim, progress, fail, read.

Every status change is one conditional UPDATE (guarded by status and attempt)
plus a job_events row, so a duplicate message or a stale worker changes nothing.
"""
from __future__ import annotations

import base64
import hashlib
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from app.domain.errors import Invalid, NotFound
from app.kinds import KINDS, KindSpec
from app.models import Dataset, Job, JobEvent, ModelVersion, RegisteredModel, utcnow
from app.services import webhooks, workers
from app.services.datasets import resolve_dataset
from app.services.views import JobView

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
QUEUES = ("cpu", "gpu")
STATUSES = ("waiting", "queued", "running", "succeeded", "failed", "cancelled")
MAX_PAGE = 200


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker needs to run a job it has just claimed."""

    id: str
    kind: str
    model_name: str
    params: dict[str, Any]
    dataset_id: int
    dataset_kind: str
    dataset_source: str
    dataset_path: str | None
    dataset_schema: dict[str, Any]
    dataset_sha256: str
    input_version_id: int | None
    attempt: int
    created_by: str | None
    queue: str = "cpu"
    type: str = "train"
    schedule_id: int | None = None


def add_event(session: Session, job_id: str, kind: str, **payload: Any) -> None:
    session.add(JobEvent(job_id=job_id, kind=kind, payload=payload, at=utcnow()))


def validate_train_request(session: Session, raw: Mapping[str, Any]
                           ) -> tuple[KindSpec, Dataset, dict[str, Any], str, str, dict[str, Any]]:
    """Check a training request; returns (spec, dataset, params, model name, queue, resolved refs).

    Every problem is collected before raising, so the caller can show them all at once.
    """
    errors: dict[str, str] = {}
    kind = raw.get("kind")
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        errors["kind"] = f"unknown model kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}"
    dataset: Dataset | None = None
    try:
        dataset = resolve_dataset(session, raw.get("dataset"))
    except NotFound as exc:
        errors["dataset"] = exc.message
    if dataset is not None and (dataset.schema or {}).get("purpose") == "scoring":
        errors["dataset"] = (f"{dataset.name}:{dataset.version} was uploaded for scoring (no labels are read); "
                             "train on a dataset uploaded for training")
    elif spec is not None and dataset is not None and dataset.kind not in spec.data_kinds:
        errors["dataset"] = (f"kind {spec.name!r} takes {' or '.join(spec.data_kinds)} data; "
                             f"{dataset.name!r} is {dataset.kind}")
    model_name = raw.get("model_name")
    if not isinstance(model_name, str) or not MODEL_NAME.match(model_name):
        errors["model_name"] = ("required: 1-128 letters, digits, '.', '_' or '-', "
                                "starting with a letter or digit")
    queue, placement_errors = workers.resolve_queue(session, raw.get("queue"), raw.get("gpus"))
    errors.update(placement_errors)
    params: dict[str, Any] = {}
    refs: dict[str, Any] = {}
    if spec is not None:
        params, param_errors = spec.validate(raw.get("params"))
        errors.update(param_errors)
        for p in spec.params:
            if p.ref and params.get(p.name) and f"params.{p.name}" not in errors:
                try:
                    refs[p.name] = _resolve_ref(session, p.ref, params[p.name])
                except NotFound as exc:
                    errors[f"params.{p.name}"] = exc.message
    if errors:
        raise Invalid(errors)
    assert spec is not None and dataset is not None and isinstance(model_name, str)
    return spec, dataset, params, model_name, queue, refs


def _resolve_ref(session: Session, ref: str, value: str) -> Any:
    """Resolve a "dataset:<kind>" or "version:<kind>" parameter to its row, checking the kind."""
    what, _, kind = ref.partition(":")
    if what == "dataset":
        found = resolve_dataset(session, value)
        if found.kind != kind:
            raise NotFound(f"dataset {value!r} is {found.kind}, not {kind}")
        return found
    version = resolve_version(session, value)
    if version.kind != kind:
        raise NotFound(f"version {value!r} is a {version.kind} model, not {kind}")
    return version


def lock_version(session: Session, version_id: int) -> ModelVersion:
    """Take the version's row lock, then read it afresh: promote, archive and batch submissions of one
    version serialise. A no-op UPDATE is the lock on both databases: a row lock on PostgreSQL, and the
    write lock on SQLite, which ``SELECT ... FOR UPDATE`` does not take."""
    session.execute(update(ModelVersion).where(ModelVersion.id == version_id).values(id=ModelVersion.id)
                    .execution_options(synchronize_session=False))
    return session.scalars(select(ModelVersion).where(ModelVersion.id == version_id)
                           .execution_options(populate_existing=True)).one()


def resolve_version(session: Session, ref: str) -> ModelVersion:
    """A live (not archived) version from ``"model:version"`` or ``"model"`` (its newest)."""
    name, _, number = ref.partition(":")
    query = (select(ModelVersion).join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
             .where(RegisteredModel.name == name, ModelVersion.archived_at.is_(None)))
    if number:
        if not number.isascii() or not number.isdecimal() or len(number) > 9:
            raise NotFound(f"version {number!r} of {name!r} is not a number")
        query = query.where(ModelVersion.version == int(number))
    found = session.scalars(query.order_by(ModelVersion.version.desc())).first()
    if found is None:
        raise NotFound(f"no live model version {ref!r}")
    return found


def _new_job(*, kind: str, model_name: str, dataset: Dataset, params: dict[str, Any], queue: str,
             status: str, created_by: str | None, idempotency_key: str | None = None,
             depends_on: str | None = None, input_version_id: int | None = None) -> Job:
    return Job(
        id=str(uuid.uuid4()), type="train", kind=kind, model_name=model_name, dataset_id=dataset.id,
        params=params, status=status, queue=queue, total_epochs=int(params.get("epochs", 0)),
        metrics={}, created_at=utcnow(), created_by=created_by, idempotency_key=idempotency_key or None,
        depends_on_job_id=depends_on, input_version_id=input_version_id,
    )


def submit_train_job(session: Session, raw: Mapping[str, Any], *, created_by: str | None = None,
                     idempotency_key: str | None = None) -> tuple[JobView, bool]:
    """Validate a training request and insert its job(s); returns (job, created).

    A kind with a stage (hierarchical) becomes two linked jobs: the stage's job (unless an
    existing version is reused) and the kind's own, which waits for it. With an
    idempotency key, a repeated submission returns the first job.
    """
    if idempotency_key:
        existing = session.scalars(select(Job).where(Job.idempotency_key == idempotency_key)).first()
        if existing is not None:
            return get_job(session, existing.id), False
    spec, dataset, params, model_name, queue, refs = validate_train_request(session, raw)
    jobs_to_add: list[Job] = []
    if spec.stages:
        stage = spec.stages[0]
        reuse: ModelVersion | None = refs.get(stage.reuse_param)
        if reuse is not None:
            job = _new_job(kind=spec.name, model_name=model_name, dataset=dataset, params=params,
                           queue=queue, status="queued", created_by=created_by,
                           idempotency_key=idempotency_key, input_version_id=reuse.id)
            jobs_to_add.append(job)
        else:
            stage_data: Dataset | None = refs.get(stage.dataset_param)
            if stage_data is None:
                wanted = " or ".join(KINDS[stage.kind].data_kinds)
                raise Invalid({f"params.{stage.dataset_param}":
                               f"name a {wanted} dataset, or an {stage.reuse_param} version to reuse"})
            stage1 = _new_job(kind=stage.kind, model_name=f"{model_name}{stage.model_suffix}"[:128], dataset=stage_data,
                              params=stage.params(params), queue=queue, status="queued",
                              created_by=created_by)
            job = _new_job(kind=spec.name, model_name=model_name, dataset=dataset, params=params,
                           queue=queue, status="waiting", created_by=created_by,
                           idempotency_key=idempotency_key, depends_on=stage1.id)
            jobs_to_add += [stage1, job]
    else:
        job = _new_job(kind=spec.name, model_name=model_name, dataset=dataset, params=params, queue=queue,
                       status="queued", created_by=created_by, idempotency_key=idempotency_key)
        jobs_to_add.append(job)
    # No savepoint here: on SQLite a SAVEPOINT opened before any write would commit on its own.
    # A race on the idempotency key raises IntegrityError for the caller's whole transaction
    # (see Runtime.submit_train), which then returns the job that won.
    session.add_all(jobs_to_add)
    session.flush()
    for j in jobs_to_add:
        if j.depends_on_job_id:
            add_event(session, j.id, "status", status="waiting", depends_on=j.depends_on_job_id)
        else:
            add_event(session, j.id, "status", status="queued", queue=queue)
    session.flush()
    return get_job(session, job.id), True


def dispatchable(session: Session, job_id: str) -> list[tuple[str, str]]:
    """(id, queue) of the queued jobs a submission created: the job and any stage it depends on."""
    job = session.get(Job, job_id)
    out = []
    while job is not None:
        if job.status == "queued":
            out.append((job.id, job.queue))
        job = session.get(Job, job.depends_on_job_id) if job.depends_on_job_id else None
    return out


def claim_job(session: Session, job_id: str, worker: str) -> ClaimedJob | None:
    """Move a job from queued to running for this worker, or return None if it is not queued."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="running", attempt=Job.attempt + 1, worker=worker, started_at=now,
                heartbeat_at=now, handback_requested_at=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return None
    job, dataset = session.execute(
        select(Job, Dataset).join(Dataset, Dataset.id == Job.dataset_id).where(Job.id == job_id)
        .execution_options(populate_existing=True)
    ).one()
    add_event(session, job_id, "status", status="running", worker=worker, attempt=job.attempt)
    return ClaimedJob(job.id, job.kind, job.model_name, dict(job.params), dataset.id, dataset.kind,
                      dataset.source, dataset.path, dict(dataset.schema), dataset.sha256,
                      job.input_version_id, job.attempt, job.created_by, job.queue, job.type, job.schedule_id)


def record_progress(session: Session, job_id: str, attempt: int, *, epoch: int, total_epochs: int,
                    progress: float, metrics: Mapping[str, float] | None = None,
                    epoch_end: bool = False) -> bool:
    """Store progress if this attempt still owns the job; False means "you were fenced off"."""
    values: dict[str, Any] = {"epoch": epoch, "total_epochs": total_epochs,
                              "progress": max(0.0, min(1.0, progress)), "heartbeat_at": utcnow()}
    if metrics is not None:
        values["metrics"] = dict(metrics)
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "running", Job.attempt == attempt)
        .values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    if epoch_end:
        add_event(session, job_id, "epoch", epoch=epoch, **dict(metrics or {}))
    return True


def fail_job(session: Session, job_id: str, attempt: int, error: str) -> bool:
    """Mark a running attempt failed with its reason; False if the attempt no longer owns the job."""
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.status == "running", Job.attempt == attempt)
        .values(status="failed", error=error[:20000], finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    add_event(session, job_id, "status", status="failed", error=error.splitlines()[-1][:500] if error else "")
    fail_dependents(session, job_id)
    webhooks.job_ended(session, job_id)
    return True


def fail_dependents(session: Session, job_id: str) -> None:
    """Jobs waiting for ``job_id`` can never start: fail them, saying why."""
    waiting = session.scalars(select(Job.id).where(Job.depends_on_job_id == job_id,
                                                   Job.status == "waiting")).all()
    for dependent in waiting:
        result = session.execute(
            update(Job).where(Job.id == dependent, Job.status == "waiting")
            .values(status="failed", error=f"upstream job {job_id} did not produce a version",
                    finished_at=utcnow()).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            add_event(session, dependent, "status", status="failed", upstream=job_id)
            fail_dependents(session, dependent)


def release_dependents(session: Session, job_id: str, version_id: int) -> list[tuple[str, str]]:
    """Queue the jobs waiting for ``job_id``, pointing them at its new version; returns (id, queue)."""
    released = []
    for dependent in session.scalars(select(Job).where(Job.depends_on_job_id == job_id,
                                                       Job.status == "waiting")).all():
        result = session.execute(
            update(Job).where(Job.id == dependent.id, Job.status == "waiting")
            .values(status="queued", input_version_id=version_id)
            .execution_options(synchronize_session=False))
        if result.rowcount == 1:
            add_event(session, dependent.id, "status", status="queued", input_version_id=version_id)
            released.append((dependent.id, dependent.queue))
    return released


def mark_dispatched(session: Session, job_ids: list[str]) -> None:
    """Remember when the doorbell was rung, so the reconciler knows which jobs to ring again."""
    if job_ids:
        session.execute(update(Job).where(Job.id.in_(job_ids), Job.status == "queued")
                        .values(dispatched_at=utcnow()).execution_options(synchronize_session=False))


def jobs_to_redispatch(session: Session, older_than: timedelta, limit: int = 500) -> list[tuple[str, str]]:
    """Queued jobs never dispatched, or dispatched long ago: (id, queue), oldest first."""
    cutoff = utcnow() - older_than
    rows = session.execute(
        select(Job.id, Job.queue)
        .where(Job.status == "queued", or_(Job.dispatched_at.is_(None), Job.dispatched_at < cutoff))
        .order_by(Job.created_at).limit(limit)
    )
    return [(r.id, r.queue) for r in rows]


def version_refs(session: Session, ids: set[int]) -> dict[int, dict[str, Any]]:
    """{version id: {"model_name", "version"}} for display of lineage and inputs."""
    if not ids:
        return {}
    rows = session.execute(select(ModelVersion.id, RegisteredModel.name, ModelVersion.version)
                           .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
                           .where(ModelVersion.id.in_(ids)))
    return {r.id: {"model_name": r.name, "version": r.version} for r in rows}


# Built once: the job poll is the hottest query of the platform.
_JOB_ROWS = (select(Job, Dataset.name, Dataset.version, ModelVersion.version)
             .join(Dataset, Dataset.id == Job.dataset_id)
             .outerjoin(ModelVersion, ModelVersion.job_id == Job.id))
_ONE_JOB = _JOB_ROWS.where(Job.id == bindparam("job_id")).execution_options(populate_existing=True)


def get_job(session: Session, job_id: str) -> JobView:
    row = session.execute(_ONE_JOB, {"job_id": job_id}).first()
    if row is None:
        raise NotFound(f"no job {job_id!r}")
    job = row[0]
    refs = version_refs(session, {job.input_version_id} - {None})
    return JobView.of(job, row[1], row[2], row[3], refs.get(job.input_version_id))


def _encode_cursor(created_at: datetime, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{job_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, job_id = text.split("|", 1)
        return datetime.fromisoformat(stamp), job_id
    except (ValueError, UnicodeDecodeError):
        raise Invalid({"cursor": "not a cursor returned by this API"}) from None


def list_jobs(session: Session, *, status: str | None = None, model_name: str | None = None,
              kind: str | None = None, created_by: str | None = None, oldest_first: bool = False,
              limit: int = 50, cursor: str | None = None) -> tuple[list[JobView], str | None]:
    """Newest (or oldest) first, keyset-paginated so any page is fast; returns (page, next cursor or None).

    No COUNT(*): at 100,000 jobs a total costs more than the page itself.
    """
    errors = {}
    if status is not None and status not in STATUSES:
        errors["status"] = f"must be one of {', '.join(STATUSES)}"
    if not 1 <= limit <= MAX_PAGE:
        errors["limit"] = f"must be between 1 and {MAX_PAGE}"
    if errors:
        raise Invalid(errors)
    query = _JOB_ROWS
    if status:
        query = query.where(Job.status == status)
    if model_name:
        query = query.where(Job.model_name == model_name)
    if kind:
        query = query.where(Job.kind == kind)
    if created_by:
        query = query.where(Job.created_by == created_by)
    if cursor:
        at, last_id = _decode_cursor(cursor)
        if oldest_first:
            query = query.where(or_(Job.created_at > at, and_(Job.created_at == at, Job.id > last_id)))
        else:
            query = query.where(or_(Job.created_at < at, and_(Job.created_at == at, Job.id < last_id)))
    order = (Job.created_at.asc(), Job.id.asc()) if oldest_first else (Job.created_at.desc(), Job.id.desc())
    rows = session.execute(query.order_by(*order).limit(limit + 1)).all()
    refs = version_refs(session, {r[0].input_version_id for r in rows[:limit]} - {None})
    page = [JobView.of(j, name, dv, v, refs.get(j.input_version_id)) for j, name, dv, v in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1][0]
        next_cursor = _encode_cursor(last.created_at, last.id)
    return page, next_cursor


def job_events(session: Session, job_id: str, after: int = 0) -> list[dict[str, Any]]:
    """The job's timeline after event id ``after`` (for incremental polling)."""
    if session.get(Job, job_id) is None:
        raise NotFound(f"no job {job_id!r}")
    rows = session.scalars(select(JobEvent).where(JobEvent.job_id == job_id, JobEvent.id > after)
                           .order_by(JobEvent.id))
    return [{"id": e.id, "at": e.at.isoformat().replace("+00:00", "Z"), "kind": e.kind,
             "payload": e.payload} for e in rows]


def epoch_history(session: Session, job_id: str | None) -> dict[str, list[float]]:
    """Per-epoch metrics of a job ({"loss": [...], "val_loss": [...], ...}) from its timeline."""
    history: dict[str, list[float]] = {}
    if job_id is None:
        return history
    rows = session.scalars(select(JobEvent.payload).where(JobEvent.job_id == job_id, JobEvent.kind == "epoch")
                           .order_by(JobEvent.id))
    for payload in rows:
        for key, value in payload.items():
            if key != "epoch" and isinstance(value, int | float):
                history.setdefault(key, []).append(value)
    return history


def scoped_key(created_by: str | None, idempotency_key: str | None) -> str | None:
    """The stored form of an idempotency key: scoped to who submitted it, so nobody can claim (or
    predict their way into) another account's or a schedule's submissions with a key of theirs."""
    if not idempotency_key:
        return None
    return hashlib.sha256(f"{created_by or ''}\0{idempotency_key}".encode()).hexdigest()


def job_for_key(session: Session, idempotency_key: str) -> JobView | None:
    """The job submitted with this idempotency key, if any."""
    found = session.scalars(select(Job.id).where(Job.idempotency_key == idempotency_key)).first()
    return get_job(session, found) if found else None


def queue_activity(session: Session) -> list[dict[str, Any]]:
    """Per queue: the last job a worker actually completed, and what runs now (by which worker).

    Workers are judged by whether they consume, not whether their process lives: a worker that
    silently stopped consuming after a Redis reconnect shows up here as a stale "last completed".
    """
    out = []
    for queue in QUEUES:
        last = session.execute(select(Job.id, Job.finished_at, Job.worker)
                               .where(Job.queue == queue, Job.status == "succeeded", Job.finished_at.is_not(None))
                               .order_by(Job.finished_at.desc()).limit(1)).first()
        running = session.execute(select(Job.id, Job.worker, Job.heartbeat_at)
                                  .where(Job.queue == queue, Job.status == "running")).all()
        out.append({"queue": queue,
                    "last_completed": {"job": last.id, "at": last.finished_at.isoformat().replace("+00:00", "Z"),
                                       "worker": last.worker} if last else None,
                    "running": [{"job": r.id, "worker": r.worker,
                                 "heartbeat_at": r.heartbeat_at.isoformat().replace("+00:00", "Z")
                                 if r.heartbeat_at else None} for r in running]})
    return out


def log_line(session: Session, job_id: str, attempt: int, message: str) -> bool:
    """A line for the job's log tail (shown on its page), written only by the attempt that owns it."""
    owned = session.scalar(select(Job.id).where(Job.id == job_id, Job.attempt == attempt,
                                                Job.status == "running"))
    if owned is None:
        return False
    add_event(session, job_id, "log", message=message[:2000], attempt=attempt)
    return True

"""Submitting training jobs: validate the request (all problems at once), then insert its job(s).

A kind with a stage becomes two linked jobs; the second waits for the first's version.
"""
from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.domain.errors import Invalid, NotFound
from app.domain.status import JobStatus
from app.kinds import KINDS, KindSpec
from app.models import Dataset, Job, ModelVersion, utcnow
from app.services import workers
from app.services.datasets import resolve_dataset
from app.services.events import add_event
from app.services.idempotency import job_for_key
from app.services.versions import resolve_version, version_refs
from app.services.views import JobView
from app.services.worker_kinds import unavailable_kind

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


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
    if spec is not None and "kind" not in errors and not placement_errors:
        needed = [*(stage.kind for stage in spec.stages), spec.name]
        missing = unavailable_kind(workers.live_workers(session), needed, queue)
        if missing:
            errors["kind"] = missing
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


def _new_job(*, kind: str, model_name: str, dataset: Dataset, params: dict[str, Any], queue: str,
             status: JobStatus, created_by: str | None, idempotency_key: str | None = None,
             depends_on: str | None = None, input_version_id: int | None = None) -> Job:
    """A job not yet inserted, every column a view shows set (``_insert`` writes it with Core)."""
    return Job(
        id=str(uuid.uuid4()), type="train", kind=kind, model_name=model_name, dataset_id=dataset.id,
        params=params, status=status, queue=queue, priority=0, progress=0.0, epoch=0,
        total_epochs=int(params.get("epochs", 0)), metrics={}, attempt=0, created_at=utcnow(),
        created_by=created_by, idempotency_key=idempotency_key or None, depends_on_job_id=depends_on,
        input_version_id=input_version_id,
    )


# Core, not the ORM's unit of work: a submission's rows are known whole, and a flush cost ~110 µs a row
# more than the INSERT it sends (bench/RESULTS.md, "prebuilt statements").
_INSERT_JOB = insert(Job.__table__)
_JOB_COLUMNS = frozenset(Job.__table__.columns.keys())


def _insert(session: Session, job: Job) -> None:
    """Insert the columns ``job`` sets (the rest take their defaults); a race on its idempotency key raises
    IntegrityError here, as a flush did."""
    session.connection().execute(_INSERT_JOB, {k: v for k, v in vars(job).items() if k in _JOB_COLUMNS})


def submit_train_job(session: Session, raw: Mapping[str, Any], *, created_by: str | None = None,
                     idempotency_key: str | None = None) -> tuple[JobView, bool]:
    """Validate a training request and insert its job(s); returns (job, created).

    A kind with a stage becomes two linked jobs: the stage's job (unless an
    existing version is reused) and the kind's own, which waits for it. With an
    idempotency key, a repeated submission returns the first job.
    """
    if idempotency_key:
        existing = job_for_key(session, idempotency_key)
        if existing is not None:
            return existing, False
    spec, dataset, params, model_name, queue, refs = validate_train_request(session, raw)
    jobs_to_add: list[Job] = []
    if spec.stages:
        stage = spec.stages[0]
        reuse: ModelVersion | None = refs.get(stage.reuse_param)
        if reuse is not None:
            job = _new_job(kind=spec.name, model_name=model_name, dataset=dataset, params=params,
                           queue=queue, status=JobStatus.QUEUED, created_by=created_by,
                           idempotency_key=idempotency_key, input_version_id=reuse.id)
            jobs_to_add.append(job)
        else:
            stage_data: Dataset | None = refs.get(stage.dataset_param)
            if stage_data is None:
                wanted = " or ".join(KINDS[stage.kind].data_kinds)
                raise Invalid({f"params.{stage.dataset_param}":
                               f"name a {wanted} dataset, or an {stage.reuse_param} version to reuse"})
            stage1 = _new_job(kind=stage.kind, model_name=f"{model_name}{stage.model_suffix}"[:128],
                              dataset=stage_data, params=stage.params(params), queue=queue,
                              status=JobStatus.QUEUED, created_by=created_by)
            job = _new_job(kind=spec.name, model_name=model_name, dataset=dataset, params=params,
                           queue=queue, status=JobStatus.WAITING, created_by=created_by,
                           idempotency_key=idempotency_key, depends_on=stage1.id)
            jobs_to_add += [stage1, job]
    else:
        job = _new_job(kind=spec.name, model_name=model_name, dataset=dataset, params=params, queue=queue,
                       status=JobStatus.QUEUED, created_by=created_by, idempotency_key=idempotency_key)
        jobs_to_add.append(job)
    # No savepoint here: on SQLite a SAVEPOINT opened before any write would commit on its own.
    # A race on the idempotency key raises IntegrityError for the caller's whole transaction
    # (see app.services.usecases.submit), which then returns the job that won.
    for j in jobs_to_add:  # in order: a waiting job's stage first (its foreign key)
        _insert(session, j)
    for j in jobs_to_add:
        if j.depends_on_job_id:
            add_event(session, j.id, "status", status=JobStatus.WAITING, depends_on=j.depends_on_job_id)
        else:
            add_event(session, j.id, "status", status=JobStatus.QUEUED, queue=queue)
    return _view(session, job, dataset), True


def _view(session: Session, job: Job, dataset: Dataset) -> JobView:
    """The new job as a read would show it, from the rows just inserted (no read back)."""
    refs = version_refs(session, {job.input_version_id}) if job.input_version_id else {}
    return JobView.of(job, dataset.name, dataset.version, None, refs.get(job.input_version_id))

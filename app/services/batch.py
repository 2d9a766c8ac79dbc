"""Batch-inference jobs: submit (resolving the version at once), finish, and their output files.

The version is resolved when the job is submitted and recorded on it (``input_version_id``),
so moving or rolling back an alias while the job runs does not change what it scores with.
"""
from __future__ import annotations

import mimetypes
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.errors import Invalid, NotFound
from app.domain.status import JobStatus
from app.kinds import Input, input_of, kinds_taking
from app.models import Dataset, Job, JobOutput, ModelVersion, RegisteredModel, utcnow
from app.services import aliases
from app.services.datasets import resolve_dataset
from app.services.events import add_event
from app.services.idempotency import job_for_key
from app.services.queues import QUEUES
from app.services.submission import MODEL_NAME
from app.services.transitions import transition
from app.services.versions import lock_version
from app.services.views import ArtifactView, JobView
from app.storage import StoredFile

MODES = ("neighbours", "vectors")
MAX_WORDS = 10_000
CHUNK_ROWS = (100, 1_000_000)


def submit_infer_job(session: Session, raw: Mapping[str, Any], *, created_by: str | None = None,
                     idempotency_key: str | None = None, default_chunk_rows: int = 50_000) -> tuple[JobView, bool]:
    """Validate a batch-inference request and insert its job; returns (job, created)."""
    if idempotency_key:
        existing = job_for_key(session, idempotency_key)
        if existing is not None:
            return existing, False
    errors: dict[str, str] = {}
    version, resolved = _resolve(session, raw, errors)
    params = raw.get("params") or {}
    if not isinstance(params, Mapping):
        errors["params"] = "must be an object"
        params = {}
    unknown = sorted(set(params) - {"chunk_rows", "key_column", "mode", "topn", "words"})
    for name in unknown:
        errors[f"params.{name}"] = ("unknown parameter (chunk_rows, key_column; "
                                    f"{', '.join(kinds_taking(Input.WORDS))}: mode, topn, words)")
    chunk_rows = _int(params.get("chunk_rows", default_chunk_rows), "params.chunk_rows", *CHUNK_ROWS, errors)
    queue = raw.get("queue") or "cpu"
    if queue not in QUEUES:
        errors["queue"] = f"must be one of {', '.join(QUEUES)}"
    recorded: dict[str, Any] = {"chunk_rows": chunk_rows, **resolved}
    dataset = None
    if version is not None:
        dataset = _input(session, raw, version, params, recorded, errors)
    if errors:
        raise Invalid(errors)
    assert version is not None and dataset is not None
    model_name = session.scalar(select(RegisteredModel.name).where(RegisteredModel.id == version.model_id))
    job = Job(id=str(uuid.uuid4()), type="infer", kind=version.kind, model_name=model_name, dataset_id=dataset.id,
              params=recorded, status=JobStatus.QUEUED, queue=queue, total_epochs=0, metrics={}, created_at=utcnow(),
              created_by=created_by, idempotency_key=idempotency_key or None, input_version_id=version.id)
    session.add(job)
    session.flush()
    add_event(session, job.id, "status", status=JobStatus.QUEUED, queue=queue,
              scores_with=f"{model_name} v{version.version}", **resolved)
    session.flush()
    return JobView.of(job, dataset.name, dataset.version, None,
                      {"model_name": model_name, "version": version.version}), True


def _resolve(session: Session, raw: Mapping[str, Any], errors: dict[str, str]) -> tuple[ModelVersion | None, dict]:
    """The version to score with: ``version`` if given, else ``alias`` (default ``production``)."""
    name = raw.get("model_name")
    if not isinstance(name, str) or not MODEL_NAME.match(name):
        errors["model_name"] = "required: the registered model to score with"
        return None, {}
    number, alias = raw.get("version"), raw.get("alias")
    if number is not None and alias is not None:
        errors["alias"] = "give a version or an alias, not both"
        return None, {}
    try:
        if number is not None:
            if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 2**31:
                errors["version"] = "must be a version number"
                return None, {}
            found = session.scalars(select(ModelVersion).join(RegisteredModel, RegisteredModel.id ==
                                                              ModelVersion.model_id)
                                    .where(RegisteredModel.name == name, ModelVersion.version == number)).first()
            if found is None:
                raise NotFound(f"model {name!r} has no version {number}")
            resolved = {"resolved_from": f"version {number}"}
        else:
            alias = alias or "production"
            if not isinstance(alias, str) or not aliases.ALIAS.match(alias):
                errors["alias"] = "an alias name such as production or staging"
                return None, {}
            found = aliases.resolve_alias(session, name, alias)
            resolved = {"resolved_from": f"alias {alias}"}
    except NotFound as exc:
        errors["version" if number is not None else "alias"] = exc.message
        return None, {}
    # Locked like a promotion: an archive of it waits for this job, or is seen here.
    found = lock_version(session, found.id)
    if found.archived_at is not None:
        errors["version"] = f"{name} v{found.version} is archived"
        return None, {}
    if input_of(found.kind) is None:
        errors["model_name"] = f"{found.kind} versions cannot be used for batch inference"
        return None, {}
    return found, {**resolved, "model_version": found.version}


def _input(session: Session, raw: Mapping[str, Any], version: ModelVersion, params: Mapping[str, Any],
           recorded: dict[str, Any], errors: dict[str, str]) -> Dataset | None:
    """The dataset to score, checked against what the version was trained on."""
    takes = input_of(version.kind)
    assert takes is not None  # checked by _resolve
    if takes is Input.WORDS:
        return _words_input(session, raw, version, params, recorded, errors)
    try:
        dataset = resolve_dataset(session, raw.get("dataset"))
    except NotFound as exc:
        errors["dataset"] = exc.message
        return None
    if dataset.kind not in takes.datasets:
        errors["dataset"] = (f"a {version.kind} model scores {takes.datasets[0]} data; "
                             f"{dataset.name} is {dataset.kind}")
        return None
    trained_on = session.get(Dataset, version.dataset_id)
    schema, trained = dataset.schema or {}, (trained_on.schema if trained_on else {}) or {}
    recorded["dataset"] = f"{dataset.name}:{dataset.version}"
    if dataset.kind == "tabular":
        features = [f["name"] for f in trained.get("features", [])]
        columns = schema.get("columns") or [f["name"] for f in schema.get("features", [])]
        missing = [f for f in features if f not in columns]
        if missing:
            errors["dataset"] = (f"{dataset.name} lacks the feature column(s) the model was trained on: "
                                 f"{', '.join(missing[:10])}")
        key = params.get("key_column", schema.get("key_column"))
        if key is not None and (not isinstance(key, str) or key not in columns):
            errors["params.key_column"] = f"no column {key!r} in {dataset.name}"
        recorded.update(features=features, key_column=key)
    elif dataset.kind == "images" and schema.get("image_shape") != trained.get("image_shape"):
        errors["dataset"] = (f"images of shape {schema.get('image_shape')}; the model takes "
                             f"{trained.get('image_shape')}")
    return dataset


def _words_input(session: Session, raw: Mapping[str, Any], version: ModelVersion, params: Mapping[str, Any],
                 recorded: dict[str, Any], errors: dict[str, str]) -> Dataset | None:
    """A kind that takes words scores a list of them (``params.words``) or every distinct word of a corpus."""
    mode = params.get("mode", "neighbours")
    if mode not in MODES:
        errors["params.mode"] = f"must be one of {', '.join(MODES)}"
    recorded.update(mode=mode, topn=_int(params.get("topn", 10), "params.topn", 1, 100, errors))
    words = params.get("words")
    if words is not None:
        if (not isinstance(words, list) or not words or len(words) > MAX_WORDS
                or not all(isinstance(w, str) and 0 < len(w) <= 200 for w in words)):
            errors["params.words"] = f"a list of 1-{MAX_WORDS:,} non-empty words"
            return None
        recorded["words"] = words
        return session.get(Dataset, version.dataset_id)  # the corpus it was trained on, for the record
    try:
        dataset = resolve_dataset(session, raw.get("dataset"))
    except NotFound as exc:
        errors["dataset"] = exc.message + " (or give params.words)"
        return None
    if dataset.kind not in Input.WORDS.datasets:
        errors["dataset"] = (f"{version.kind} looks up the words of a {Input.WORDS.datasets[0]} dataset; "
                             f"{dataset.name} is {dataset.kind}")
    recorded["dataset"] = f"{dataset.name}:{dataset.version}"
    return dataset


def _int(value: Any, field: str, low: int, high: int, errors: dict[str, str]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = f"a whole number from {low:,} to {high:,}"
        return low
    return value


def finish_infer(session: Session, job_id: str, attempt: int, files: Sequence[StoredFile],
                 summary: Mapping[str, Any]) -> bool:
    """Record the outputs and mark the job succeeded, if this attempt still owns it (one transaction)."""
    if not transition(session, job_id, JobStatus.RUNNING, JobStatus.SUCCEEDED, attempt=attempt,
                      values={"progress": 1.0, "metrics": dict(summary), "finished_at": utcnow()},
                      event={"rows": summary.get("rows"), "errors": summary.get("errors")}):
        return False
    session.add_all(JobOutput(job_id=job_id, name=f.name, path=f.path, size_bytes=f.size_bytes, sha256=f.sha256,
                              content_type=mimetypes.guess_type(f.name)[0] or "application/octet-stream")
                    for f in files)
    session.flush()
    return True


def outputs_of(session: Session, job_id: str) -> list[ArtifactView]:
    rows = session.scalars(select(JobOutput).where(JobOutput.job_id == job_id).order_by(JobOutput.name)).all()
    return [ArtifactView(o.name, o.path, o.size_bytes, o.sha256, o.content_type) for o in rows]


def get_output(session: Session, job_id: str, name: str) -> ArtifactView:
    found = next((o for o in outputs_of(session, job_id) if o.name == name), None)
    if found is None:
        raise NotFound(f"job {job_id!r} has no output {name!r}")
    return found

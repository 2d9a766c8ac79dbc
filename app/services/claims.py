"""A worker's side of a job: claim it, report progress and log lines, fail it; and the jobs waiting on it.

Everything after the claim is fenced by the attempt number, so a stale worker changes nothing.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.status import JobStatus
from app.models import Dataset, Job, utcnow
from app.services import webhooks
from app.services.events import add_event
from app.services.transitions import transition


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


def claim_job(session: Session, job_id: str, worker: str) -> ClaimedJob | None:
    """Move a job from queued to running for this worker, or return None if it is not queued."""
    now = utcnow()
    if not transition(session, job_id, JobStatus.QUEUED, JobStatus.RUNNING,
                      values={"attempt": Job.attempt + 1, "worker": worker, "started_at": now,
                              "heartbeat_at": now, "handback_requested_at": None},
                      event=lambda attempt: {"worker": worker, "attempt": attempt}):
        return None
    job, dataset = session.execute(
        select(Job, Dataset).join(Dataset, Dataset.id == Job.dataset_id).where(Job.id == job_id)
        .execution_options(populate_existing=True)
    ).one()
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
        update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.attempt == attempt)
        .values(**values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    if epoch_end:
        add_event(session, job_id, "epoch", epoch=epoch, **dict(metrics or {}))
    return True


def log_line(session: Session, job_id: str, attempt: int, message: str) -> bool:
    """A line for the job's log tail (shown on its page), written only by the attempt that owns it."""
    owned = session.scalar(select(Job.id).where(Job.id == job_id, Job.attempt == attempt,
                                                Job.status == JobStatus.RUNNING))
    if owned is None:
        return False
    add_event(session, job_id, "log", message=message[:2000], attempt=attempt)
    return True


def fail_job(session: Session, job_id: str, attempt: int, error: str) -> bool:
    """Mark a running attempt failed with its reason; False if the attempt no longer owns the job."""
    if not transition(session, job_id, JobStatus.RUNNING, JobStatus.FAILED, attempt=attempt,
                      values={"error": error[:20000], "finished_at": utcnow()},
                      event={"error": error.splitlines()[-1][:500] if error else ""}):
        return False
    fail_dependents(session, job_id)
    webhooks.job_ended(session, job_id)
    return True


def fail_running_on(session: Session, job_id: str, worker: str, error: str) -> bool:
    """Fail ``job_id`` if it is still running on ``worker`` (whose process for it was killed), whatever
    its attempt: the worker's own parent says so. False when it moved on (taken back, finished)."""
    attempt = session.scalar(select(Job.attempt).where(Job.id == job_id, Job.worker == worker,
                                                       Job.status == JobStatus.RUNNING))
    return attempt is not None and fail_job(session, job_id, attempt, error)


def fail_dependents(session: Session, job_id: str) -> None:
    """Jobs waiting for ``job_id`` can never start: fail them, saying why."""
    waiting = session.scalars(select(Job.id).where(Job.depends_on_job_id == job_id,
                                                   Job.status == JobStatus.WAITING)).all()
    for dependent in waiting:
        if transition(session, dependent, JobStatus.WAITING, JobStatus.FAILED,
                      values={"error": f"upstream job {job_id} did not produce a version",
                              "finished_at": utcnow()},
                      event={"upstream": job_id}):
            fail_dependents(session, dependent)


def release_dependents(session: Session, job_id: str, version_id: int) -> list[tuple[str, str]]:
    """Queue the jobs waiting for ``job_id``, pointing them at its new version; returns (id, queue)."""
    released = []
    for dependent in session.scalars(select(Job).where(Job.depends_on_job_id == job_id,
                                                       Job.status == JobStatus.WAITING)).all():
        if transition(session, dependent.id, JobStatus.WAITING, JobStatus.QUEUED,
                      values={"input_version_id": version_id}, event={"input_version_id": version_id}):
            released.append((dependent.id, dependent.queue))
    return released

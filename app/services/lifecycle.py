"""The lifecycle of a claimed job: heartbeats, cancel, hand-back, and taking back lost jobs.

Each change is a conditional UPDATE guarded by status and attempt plus a job_events
row, so the reconciler, a worker and a user can race without a lost or doubled job.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.domain.errors import Conflict, NotFound
from app.domain.status import FINISHED, JobStatus
from app.models import Job, utcnow
from app.services import webhooks
from app.services.claims import fail_dependents
from app.services.events import add_event
from app.services.job_reads import get_job
from app.services.transitions import transition
from app.services.views import JobView


@dataclass(frozen=True)
class Beat:
    """What a heartbeat learned: does this attempt still own the job, and was it asked to stop?"""

    owned: bool
    cancel: bool = False
    handback: bool = False


def heartbeat(session: Session, job_id: str, attempt: int) -> Beat:
    """Renew this attempt's lease and read the stop requests in one round trip."""
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.attempt == attempt)
        .values(heartbeat_at=utcnow())
        .returning(Job.cancel_requested_at, Job.handback_requested_at)
    ).first()
    if result is None:
        return Beat(owned=False)
    return Beat(owned=True, cancel=result[0] is not None, handback=result[1] is not None)


def request_cancel(session: Session, job_id: str, actor: str | None = None) -> JobView:
    """Cancel now if the job has not started; else ask its worker to stop at the next batch."""
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound(f"no job {job_id!r}")
    now = utcnow()
    if transition(session, job_id, (JobStatus.WAITING, JobStatus.QUEUED), JobStatus.CANCELLED,
                  values={"finished_at": now, "cancel_requested_at": now}, event={"by": actor}):
        cancel_dependents(session, job_id)
        return get_job(session, job_id)
    requested = session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING, Job.cancel_requested_at.is_(None))
        .values(cancel_requested_at=now).execution_options(synchronize_session=False))
    if requested.rowcount == 1:
        add_event(session, job_id, "log", message="cancel requested", by=actor)
        return get_job(session, job_id)
    view = get_job(session, job_id)
    if view.status == JobStatus.RUNNING:  # already requested: asking twice is fine
        return view
    if view.version is not None:  # too late: its version committed first (nothing is audited for a 409)
        raise Conflict(f"job {job_id} already succeeded: its version {view.model_name} v{view.version} "
                       "was registered before the cancel arrived", details={"version": view.version,
                                                                             "model_name": view.model_name})
    raise Conflict(f"job {job_id} already {view.status}; only waiting, queued or running jobs "
                   "can be cancelled")


def cancel_dependents(session: Session, job_id: str) -> None:
    for dependent in session.scalars(select(Job.id).where(Job.depends_on_job_id == job_id,
                                                          Job.status == JobStatus.WAITING)).all():
        if transition(session, dependent, JobStatus.WAITING, JobStatus.CANCELLED,
                      values={"finished_at": utcnow()}, event={"upstream": job_id}):
            cancel_dependents(session, dependent)


def finish_cancelled(session: Session, job_id: str, attempt: int) -> bool:
    """The worker stopped a job whose cancel it saw: mark it cancelled (no version)."""
    if not transition(session, job_id, JobStatus.RUNNING, JobStatus.CANCELLED, attempt=attempt,
                      values={"finished_at": utcnow()}, event={"attempt": attempt}):
        return False
    cancel_dependents(session, job_id)
    return True


def hand_back(session: Session, job_id: str, attempt: int, reason: str) -> bool:
    """Return a running job to the queue (worker shutting down); the next claim resumes it. A hand-back is
    counted apart, so a job survives any number of restarts of its workers."""
    return transition(session, job_id, JobStatus.RUNNING, JobStatus.QUEUED, attempt=attempt,
                      values={"worker": None, "handback_requested_at": None, "dispatched_at": None,
                              "handbacks": Job.handbacks + 1},
                      event={"reason": reason, "attempt": attempt})


def hand_back_running_on(session: Session, job_id: str, worker: str, reason: str) -> bool:
    """Hand back ``job_id`` if it is still running on ``worker``, whose process for it is gone (its own
    parent says so), whatever its attempt. False when it moved on (taken back, finished, never claimed)."""
    attempt = session.scalar(select(Job.attempt).where(Job.id == job_id, Job.worker == worker,
                                                       Job.status == JobStatus.RUNNING))
    return attempt is not None and hand_back(session, job_id, attempt, reason)


def request_handback(session: Session, worker: str) -> list[str]:
    """A worker is shutting down: ask each job it runs to checkpoint and come back to the queue."""
    ids = session.scalars(select(Job.id).where(Job.worker == worker, Job.status == JobStatus.RUNNING)).all()
    if ids:
        session.execute(update(Job).where(Job.id.in_(ids), Job.status == JobStatus.RUNNING)
                        .values(handback_requested_at=utcnow()).execution_options(synchronize_session=False))
    return list(ids)


@dataclass(frozen=True)
class Reaped:
    requeued: list[tuple[str, str]]  # (id, queue) to ring
    failed: list[str]
    cancelled: list[str]


def reap_lost(session: Session, lease: timedelta, max_attempts: int) -> Reaped:
    """Take back running jobs whose heartbeat is older than the lease.

    A job with attempts left goes back to the queue (and resumes from its checkpoint);
    one that used them all fails with "worker lost"; one whose cancel was requested is
    cancelled. Each decision is conditional on the stale attempt, so a late beat wins.
    """
    cutoff = utcnow() - lease
    still_stale = or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff)
    stale = session.scalars(select(Job).where(Job.status == JobStatus.RUNNING, still_stale)).all()
    requeued, failed, cancelled = [], [], []
    for job in stale:
        if job.cancel_requested_at is not None:
            target, values = JobStatus.CANCELLED, {"finished_at": utcnow()}
        elif job.attempt - (job.handbacks or 0) >= max_attempts:  # hand-backs are not failures
            target, values = JobStatus.FAILED, {
                "finished_at": utcnow(),
                "error": f"worker lost: no heartbeat for {lease.total_seconds():g} s on attempt "
                         f"{job.attempt - (job.handbacks or 0)} of {max_attempts}; giving up"}
        else:
            target, values = JobStatus.QUEUED, {"worker": None, "dispatched_at": None,
                                                "handback_requested_at": None}
        if not transition(session, job.id, JobStatus.RUNNING, target, attempt=job.attempt, also=(still_stale,),
                          values=values, event={"reason": "worker lost", "attempt": job.attempt,
                                                "worker": job.worker}):
            continue
        if target == JobStatus.QUEUED:
            requeued.append((job.id, job.queue))
        elif target == JobStatus.FAILED:
            failed.append(job.id)
            fail_dependents(session, job.id)
            webhooks.job_ended(session, job.id)
        else:
            cancelled.append(job.id)
            cancel_dependents(session, job.id)
    return Reaped(requeued, failed, cancelled)


def queued_jobs(session: Session, older_than: timedelta) -> list[tuple[str, str, bool]]:
    """(id, queue, never dispatched) of queued jobs created before ``older_than`` ago."""
    cutoff = utcnow() - older_than
    rows = session.execute(select(Job.id, Job.queue, Job.dispatched_at)
                           .where(Job.status == JobStatus.QUEUED, Job.created_at < cutoff).order_by(Job.created_at))
    return [(r.id, r.queue, r.dispatched_at is None) for r in rows]


def finished_among(session: Session, job_ids: list[str], ended_before: timedelta, chunk: int = 500) -> list[str]:
    """The jobs among ``job_ids`` that ended longer than ``ended_before`` ago: no attempt of theirs will run
    again (an ended status is final), and their worker has had its time to clear up after them. Ids with no
    job are left out."""
    cutoff = utcnow() - ended_before
    found: list[str] = []
    for start in range(0, len(job_ids), chunk):
        found += session.scalars(select(Job.id).where(
            Job.id.in_(job_ids[start:start + chunk]), Job.status.in_(FINISHED),
            or_(Job.finished_at.is_(None), Job.finished_at < cutoff)))
    return found

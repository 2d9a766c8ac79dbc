"""End an attempt that did not succeed: failed, cancelled, handed back, or refused a tampered input.

Each is one unit of work, retried while the database is away, and conditional on the attempt:
False means another attempt owns the job now (the caller reports "fenced").
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.services import audit, claims, lifecycle
from app.services.claims import ClaimedJob
from app.services.usecases.deps import Deps
from app.services.usecases.doorbell import ring
from app.services.usecases.retry import with_db_retry


def fail(deps: Deps, job_id: str, attempt: int, error: str) -> bool:
    """Mark the attempt failed with its reason (the jobs waiting on it fail too; webhooks hear of it)."""
    return bool(with_db_retry(deps, lambda session: claims.fail_job(session, job_id, attempt, error)))


def fail_killed(deps: Deps, job_id: str, worker: str, error: str) -> bool:
    """The worker's parent killed the job's process (the hard time limit): fail it now with the reason,
    instead of the reconciler retrying it as a lost worker."""
    return bool(with_db_retry(deps, lambda session: claims.fail_running_on(session, job_id, worker, error)))


def fail_tampered(deps: Deps, job: ClaimedJob, error: str) -> bool:
    """An input no longer matched its recorded sha256: fail the attempt and audit it, in one commit."""
    def work(session: Session) -> bool:
        failed = claims.fail_job(session, job.id, job.attempt, f"refused a tampered input: {error}")
        audit.record(session, None, "artifact.tampered", f"job {job.id}",
                     detail={"job": job.id, "error": error[:500], "job_created_by": job.created_by})
        return failed

    return bool(with_db_retry(deps, work))


def cancelled(deps: Deps, job_id: str, attempt: int) -> bool:
    """The attempt stopped at a cancel request: mark the job cancelled (no version)."""
    return bool(with_db_retry(deps, lambda session: lifecycle.finish_cancelled(session, job_id, attempt)))


def hand_back(deps: Deps, job_id: str, attempt: int, queue: str, reason: str) -> bool:
    """Return the job to the queue (the worker is shutting down), then ring so another worker resumes it."""
    if not with_db_retry(deps, lambda session: lifecycle.hand_back(session, job_id, attempt, reason)):
        return False
    ring(deps, [(job_id, queue)])
    return True


def hand_back_cut_off(deps: Deps, job_id: str, worker: str, reason: str) -> bool:
    """The worker's parent gave up the job's running process because its broker connection dropped (Celery
    terminates a late-ack task it could no longer acknowledge). Return the job to the queue now, as a
    hand-back (the job did nothing wrong), instead of after LEASE_S; the restored message or the
    reconciler's ring (once the broker is back) brings it to a worker, which resumes from the checkpoint."""
    return bool(with_db_retry(deps, lambda session: lifecycle.hand_back_running_on(session, job_id, worker, reason)))


def request_handback(deps: Deps, worker: str) -> list[str]:
    """The worker is shutting down: ask each job it runs to checkpoint and come back (its attempt hands back)."""
    with deps.session() as session:
        return lifecycle.request_handback(session, worker)

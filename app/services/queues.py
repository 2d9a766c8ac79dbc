"""Queue bookkeeping: which queued jobs to ring (again), and what each queue is doing."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from app.db import core
from app.domain.status import JobStatus
from app.models import Job, utcnow

QUEUES = ("cpu", "gpu")


def dispatchable(session: Session, job_id: str) -> list[tuple[str, str]]:
    """(id, queue) of the queued jobs a submission created: the job and any stage it depends on."""
    job = session.get(Job, job_id)
    out = []
    while job is not None:
        if job.status == JobStatus.QUEUED:
            out.append((job.id, job.queue))
        job = session.get(Job, job.depends_on_job_id) if job.depends_on_job_id else None
    return out


# Built once: every submission runs it (see app.services.workers._LIVE).
_MARK = (update(Job).where(Job.id.in_(bindparam("ids", expanding=True)), Job.status == JobStatus.QUEUED)
         .values(dispatched_at=bindparam("now")).returning(Job.id, Job.queue)
         .execution_options(synchronize_session=False))


def mark_dispatched(session: Session, job_ids: list[str]) -> list[tuple[str, str]]:
    """Remember when the doorbell was rung, so the reconciler knows which jobs to ring again; returns the
    (id, queue) of the queued jobs among ``job_ids`` that it marked (one statement: UPDATE ... RETURNING)."""
    if not job_ids:
        return []
    marked = core(session).execute(_MARK, {"ids": job_ids, "now": utcnow()})  # Core: the ORM's bulk path cost more
    return [(job_id, queue) for job_id, queue in marked]


def unmark_dispatched(session: Session, job_ids: list[str]) -> None:
    """Forget a ring whose message never reached the broker: the job counts as never sent again."""
    session.execute(update(Job).where(Job.id.in_(job_ids), Job.status == JobStatus.QUEUED)
                    .values(dispatched_at=None).execution_options(synchronize_session=False))


def jobs_to_redispatch(session: Session, older_than: timedelta, limit: int = 500) -> list[tuple[str, str]]:
    """Queued jobs never dispatched, or dispatched long ago: (id, queue), oldest first."""
    cutoff = utcnow() - older_than
    rows = session.execute(
        select(Job.id, Job.queue)
        .where(Job.status == JobStatus.QUEUED, or_(Job.dispatched_at.is_(None), Job.dispatched_at < cutoff))
        .order_by(Job.created_at).limit(limit)
    )
    return [(r.id, r.queue) for r in rows]


def queue_activity(session: Session) -> list[dict[str, Any]]:
    """Per queue: the last job a worker actually completed, and what runs now (by which worker).

    Workers are judged by whether they consume, not whether their process lives: a worker that
    silently stopped consuming after a Redis reconnect shows up here as a stale "last completed".
    """
    out = []
    for queue in QUEUES:
        last = session.execute(select(Job.id, Job.finished_at, Job.worker)
                               .where(Job.queue == queue, Job.status == JobStatus.SUCCEEDED,
                                      Job.finished_at.is_not(None))
                               .order_by(Job.finished_at.desc()).limit(1)).first()
        running = session.execute(select(Job.id, Job.worker, Job.heartbeat_at)
                                  .where(Job.queue == queue, Job.status == JobStatus.RUNNING)).all()
        out.append(dict(queue=queue,
                        last_completed={"job": last.id, "at": last.finished_at.isoformat().replace("+00:00", "Z"),
                                        "worker": last.worker} if last else None,
                        running=[{"job": r.id, "worker": r.worker,
                                  "heartbeat_at": r.heartbeat_at.isoformat().replace("+00:00", "Z")
                                  if r.heartbeat_at else None} for r in running]))
    return out

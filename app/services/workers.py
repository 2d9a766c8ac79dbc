"""Workers as they describe themselves (heartbeat rows), and where a job should run.

A worker writes its row every few seconds; one whose last beat is older than
LIVE_WITHIN is not counted as alive. Submission reads these rows to resolve
``queue=auto`` and to refuse a job that asks for more GPUs than any live worker has.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app.domain.status import JobStatus
from app.models import Job, WorkerRow, utcnow
from app.services.worker_kinds import kind_report

LIVE_WITHIN = timedelta(seconds=35)  # three and a half beats of the default WORKER_BEAT_S (10 s)
SHOW_SILENT_FOR = timedelta(days=1)  # a worker gone for longer drops off the list (containers come and go)
JOB_QUEUES = ("cpu", "gpu", "auto")
MAX_GPUS = 64


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


class Pool(NamedTuple):
    """The state of a worker's job child, as its parent sees it (workers.host.pool_watch)."""

    state: str  # starting | ready | wedged
    since: datetime
    child_starts: int


def record_beat(session: Session, name: str, *, host: str, pid: int, queues: Sequence[str],
                gpus: list[dict[str, Any]], pool: Pool | None = None,
                kinds: dict[str, Any] | None = None) -> None:
    """Insert or refresh this worker's row (only the worker itself writes it)."""
    row = session.get(WorkerRow, name)
    now = utcnow()
    if row is None or row.pid != pid or row.stopped_at is not None:
        if row is None:
            row = WorkerRow(name=name)
            session.add(row)
        row.started_at, row.stopped_at = now, None
    row.host, row.pid, row.queues, row.gpus, row.heartbeat_at = host, pid, list(queues), gpus, now
    if kinds is not None:
        row.kinds = kinds
    if pool is not None:
        row.pool_state, row.pool_state_since, row.child_starts = pool.state, pool.since, pool.child_starts


def mark_stopped(session: Session, name: str) -> None:
    """A worker shutting down says so, so it drops off at once instead of after LIVE_WITHIN."""
    session.execute(update(WorkerRow).where(WorkerRow.name == name)
                    .values(stopped_at=utcnow()).execution_options(synchronize_session=False))


# Built once, as the submission path's other statements are: every submission reads it, and building a
# statement and its cache key cost more than running it (bench/RESULTS.md, "prebuilt statements").
_LIVE = (select(WorkerRow).where(WorkerRow.heartbeat_at >= bindparam("cutoff"), WorkerRow.stopped_at.is_(None))
         .order_by(WorkerRow.name))


def live_workers(session: Session) -> list[WorkerRow]:
    return list(session.scalars(_LIVE, {"cutoff": utcnow() - LIVE_WITHIN}))


def wedged_workers(session: Session) -> list[str]:
    """Live workers whose parent has had no child ready to run jobs for WORKER_WEDGED_AFTER_S."""
    return list(session.scalars(select(WorkerRow.name).where(
        WorkerRow.pool_state == "wedged", WorkerRow.stopped_at.is_(None),
        WorkerRow.heartbeat_at >= utcnow() - LIVE_WITHIN).order_by(WorkerRow.name)))


def list_workers(session: Session) -> list[dict[str, Any]]:
    """Every known worker with its GPUs, liveness, beat age and the job it runs now."""
    now = utcnow()
    rows = session.scalars(select(WorkerRow).where(WorkerRow.heartbeat_at >= now - SHOW_SILENT_FOR)
                           .order_by(WorkerRow.stopped_at.is_not(None), WorkerRow.name)).all()
    running: dict[str, list[str]] = {}
    for job_id, worker in session.execute(select(Job.id, Job.worker).where(Job.status == JobStatus.RUNNING)):
        running.setdefault(worker or "", []).append(job_id)
    return [{"name": r.name, "host": r.host, "pid": r.pid, "queues": list(r.queues), "gpus": list(r.gpus),
             "alive": r.stopped_at is None and now - r.heartbeat_at <= LIVE_WITHIN,
             "started_at": _iso(r.started_at), "heartbeat_at": _iso(r.heartbeat_at),
             "heartbeat_age_s": round((now - r.heartbeat_at).total_seconds(), 1),
             "stopped_at": _iso(r.stopped_at), "current_jobs": running.get(r.name, []),
             "pool_state": r.pool_state, "pool_state_since": _iso(r.pool_state_since),
             "child_starts": r.child_starts, **kind_report(r),
             "wedged": r.pool_state == "wedged" and r.stopped_at is None
             and now - r.heartbeat_at <= LIVE_WITHIN} for r in rows]


def resolve_queue(session: Session, queue: Any, gpus: Any) -> tuple[str, dict[str, str]]:
    """The queue a job goes to, from the requested queue (cpu, gpu, auto) and GPU count.

    ``auto`` becomes gpu when a live worker has a GPU, else cpu; a job needing N > 1 GPUs goes
    to ``gpu.N``, which only workers with at least N GPUs take. Returns (queue, field errors).
    """
    queue = queue or "cpu"
    if queue not in JOB_QUEUES:
        return "cpu", {"queue": f"must be one of {', '.join(JOB_QUEUES)}"}
    if gpus in (None, ""):
        gpus = None
    elif isinstance(gpus, str) and gpus.isdecimal():
        gpus = int(gpus)
    if gpus is not None and (not isinstance(gpus, int) or isinstance(gpus, bool) or not 0 <= gpus <= MAX_GPUS):
        return "cpu", {"gpus": f"must be a whole number from 0 to {MAX_GPUS}"}
    if queue == "cpu":
        if gpus:
            return "cpu", {"gpus": f"a cpu job gets no GPU; choose queue gpu or auto for {gpus} GPU(s)"}
        return "cpu", {}
    live = [w for w in live_workers(session) if w.gpus]
    most = max((len(w.gpus) for w in live), default=0)
    wanted = 1 if gpus is None else max(gpus, 1)
    takes = "gpu" if wanted == 1 else f"gpu.{wanted}"
    if not any(takes in w.queues and len(w.gpus) >= wanted for w in live):
        if queue == "auto" and not gpus:
            return "cpu", {}
        have = "no live worker has a GPU" if most == 0 else f"the most any live worker has is {most}"
        return "gpu", {"gpus": f"asks for {wanted} GPU(s) but {have}; start one with `python -m workers.launch`"}
    return takes, {}


def gpus_of_queue(queue: str) -> int:
    """GPUs a job on ``queue`` trains with: N for gpu.N, else 1 on gpu and 0 on cpu."""
    if queue.startswith("gpu."):
        return int(queue.split(".", 1)[1])
    return 1 if queue == "gpu" else 0


def last_completed_by_queue(session: Session) -> dict[str, dict[str, Any]]:
    """Per queue (including gpu.N): the last job a worker completed there."""
    out: dict[str, dict[str, Any]] = {}
    rows = session.execute(select(Job.queue, Job.id, Job.finished_at, Job.worker)
                           .where(Job.status == JobStatus.SUCCEEDED, Job.finished_at.is_not(None))
                           .order_by(Job.finished_at.desc()).limit(500))
    for r in rows:
        out.setdefault(r.queue, {"job": r.id, "at": _iso(r.finished_at), "worker": r.worker})
    return out


def routing_queues(session: Session) -> list[str]:
    """The broker queues that may hold our messages: cpu, gpu and every gpu.N a queued job uses."""
    used = session.scalars(select(Job.queue).where(Job.status == JobStatus.QUEUED).distinct()).all()
    return sorted({"cpu", "gpu", *used})

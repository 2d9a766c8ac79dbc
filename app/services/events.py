"""A job's timeline: status changes, epoch metrics and log lines, in the order they happened."""
from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.domain.errors import NotFound
from app.models import Job, JobEvent, utcnow

_INSERT_EVENT = insert(JobEvent.__table__)


def add_event(session: Session, job_id: str, kind: str, **payload: Any) -> None:
    """Insert the event now, with Core (an ORM add and its flush cost ~110 µs more; every submission,
    status change and epoch writes one). The job's row must already be in the database."""
    session.connection().execute(_INSERT_EVENT, {"job_id": job_id, "kind": kind, "payload": payload,
                                                 "at": utcnow()})


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

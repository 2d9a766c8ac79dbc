"""The one guarded status change, so a duplicate message, a stale worker or a racing user changes nothing.

``UPDATE jobs SET status = ... WHERE id = ? AND status IN (...) [AND attempt = ?]``, and, only when
that row changed, its ``status`` event in the same transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.orm import Session

from app.domain.status import JobStatus, check_transition
from app.models import Job
from app.services.events import add_event

# The event's extra fields, or a function of the attempt the job has after the change (a claim starts one).
Payload = Mapping[str, Any] | Callable[[int], Mapping[str, Any]]


def transition(session: Session, job_id: str, source: JobStatus | tuple[JobStatus, ...], target: JobStatus, *,
               attempt: int | None = None, also: tuple[ColumnElement[bool], ...] = (),
               values: Mapping[str, Any] | None = None, event: Payload | None = None) -> bool:
    """Move the job from ``source`` to ``target`` if it is still there (and on ``attempt``); True if this call won.

    ``also`` adds conditions to the guard, ``values`` columns to set. A move the transition table
    does not allow raises ``IllegalTransition`` without touching the database.
    """
    sources = (source,) if isinstance(source, JobStatus) else tuple(source)
    for s in sources:
        check_transition(s, target)
    guard = [Job.id == job_id, (Job.status == sources[0]) if len(sources) == 1 else Job.status.in_(sources)]
    if attempt is not None:
        guard.append(Job.attempt == attempt)
    won = session.execute(
        update(Job).where(*guard, *also).values(status=target, **(values or {}))
        .returning(Job.attempt).execution_options(synchronize_session=False)
    ).first()
    if won is None:
        return False
    payload = event(won.attempt) if callable(event) else (event or {})
    add_event(session, job_id, "status", status=target, **payload)
    return True

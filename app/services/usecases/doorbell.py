"""Ringing the doorbell after a commit, and remembering which jobs were rung.

Every use-case that queues a job commits first and calls ``ring`` afterwards: a job whose
message is lost stays queued, and the reconciler rings again.
"""
from __future__ import annotations

from datetime import timedelta

from app.services.queues import jobs_to_redispatch, mark_dispatched
from app.services.usecases.deps import Deps


def ring(deps: Deps, queued: list[tuple[str, str]]) -> list[str]:
    """Send each committed, queued job's message; remember which were sent. Returns the ids rung."""
    rung = [job_id for job_id, queue in queued if deps.dispatcher.ring(job_id, queue)]
    if rung:
        with deps.session() as session:
            mark_dispatched(session, rung)
    return rung


def redispatch_stale(deps: Deps) -> list[str]:
    """Ring again for queued jobs never dispatched or dispatched long ago (time-based fallback)."""
    with deps.session() as session:
        due = jobs_to_redispatch(session, timedelta(seconds=deps.settings.redispatch_after_s))
    return ring(deps, due)

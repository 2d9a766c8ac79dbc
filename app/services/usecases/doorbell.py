"""Ringing the doorbell after a commit, and remembering which jobs were rung.

Every use-case that queues a job commits first and calls ``ring`` afterwards: a job whose
message is lost stays queued, and the reconciler rings again. A submission, the one whose
latency people feel, marks its jobs rung in its own commit and calls ``ring_marked``: one
commit between the POST and the worker's claim instead of two.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from app.services.queues import jobs_to_redispatch, mark_dispatched, unmark_dispatched
from app.services.usecases.deps import Deps

log = logging.getLogger(__name__)


def ring(deps: Deps, queued: list[tuple[str, str]]) -> list[str]:
    """Send each committed, queued job's message; remember which were sent. Returns the ids rung."""
    rung = [job_id for job_id, queue in queued if deps.dispatcher.ring(job_id, queue)]
    if rung:
        with deps.session() as session:
            mark_dispatched(session, rung)
    return rung


def ring_marked(deps: Deps, queued: list[tuple[str, str]]) -> list[str]:
    """Send each job's message, the jobs already marked rung in the commit that queued them; a send that
    fails is unmarked, so the reconciler's next pass rings it as never sent. Returns the ids rung."""
    failed = [job_id for job_id, queue in queued if not deps.dispatcher.ring(job_id, queue)]
    if failed:
        try:
            with deps.session() as session:
                unmark_dispatched(session, failed)
        except SQLAlchemyError:  # then the broker check (no message) or REDISPATCH_AFTER_S rings them again
            log.warning("could not unmark jobs %s after a failed send", failed, exc_info=True)
    return [job_id for job_id, _ in queued if job_id not in failed]


def redispatch_stale(deps: Deps) -> list[str]:
    """Ring again for queued jobs never dispatched or dispatched long ago (time-based fallback)."""
    with deps.session() as session:
        due = jobs_to_redispatch(session, timedelta(seconds=deps.settings.redispatch_after_s))
    return ring(deps, due)

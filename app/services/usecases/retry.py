"""The one retry policy for a database blip: run a unit of work again, with backoff, while the database is away.

Used by every use-case a worker must not lose (claim, finish, fail, cancel, hand back). Bounded
by REGISTER_RETRY_S; past it the error propagates, the message is acknowledged as failed and the
job, safe in its row, is taken back or rung again by the reconciler. Write races
(IntegrityError) are not blips: each use-case turns its own into a retry or a ``Conflict``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from app.services.usecases.deps import Deps

log = logging.getLogger(__name__)
T = TypeVar("T")
FIRST_DELAY_S, MAX_DELAY_S = 0.2, 10.0


def transient(exc: DBAPIError) -> bool:
    """The database is away (locked, restarting, connection dropped), as opposed to a bad statement."""
    return isinstance(exc, OperationalError) or exc.connection_invalidated


def with_db_retry(deps: Deps, work: Callable[[Session], T]) -> T:
    """``work(session)`` in its own unit of work, retried with doubling delays while the database is away."""
    deadline = time.monotonic() + deps.settings.register_retry_s
    delay = FIRST_DELAY_S
    while True:
        try:
            with deps.session() as session:
                return work(session)
        except DBAPIError as exc:
            if not transient(exc) or time.monotonic() + delay > deadline:
                raise
            log.warning("database unavailable (%s); retrying in %.1f s", exc.__class__.__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_S)

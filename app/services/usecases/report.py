"""What a running attempt reports while it trains: heartbeats, progress, log lines. Best-effort by design.

Each is one short unit of work, fenced by the attempt, and never retried: a database blink
loses one report, never the job (the next one comes a second later). ``None`` means
"the database did not answer"; ``False`` means "this attempt no longer owns the job".
"""
from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from app.services import claims, lifecycle
from app.services.usecases.deps import Deps

log = logging.getLogger(__name__)


def one_line(exc: BaseException) -> str:
    """The first line of a database error: what an outage needs in the log, once per report, not a traceback."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200] if lines else ''}"


def heartbeat(deps: Deps, job_id: str, attempt: int) -> lifecycle.Beat | None:
    """Renew the attempt's lease and read its stop requests; None if the database is away."""
    try:
        with deps.session() as session:
            return lifecycle.heartbeat(session, job_id, attempt)
    except SQLAlchemyError as exc:  # keep training; the lease may lapse, fencing holds
        log.warning("heartbeat for job %s failed: %s", job_id, one_line(exc))  # an outage: a line, no traceback
        return None


def progress(deps: Deps, job_id: str, attempt: int, *, epoch: int, total_epochs: int, fraction: float,
             metrics: Mapping[str, float] | None, epoch_end: bool) -> bool | None:
    """Store progress (an epoch's end also as an event); None if the database blinked."""
    try:
        with deps.session() as session:
            return claims.record_progress(session, job_id, attempt, epoch=epoch, total_epochs=total_epochs,
                                          progress=fraction, metrics=metrics, epoch_end=epoch_end)
    except OperationalError as exc:  # progress is best-effort, training goes on
        log.warning("progress write for job %s failed; continuing: %s", job_id, one_line(exc))
        return None


def log_line(deps: Deps, job_id: str, attempt: int, message: str) -> None:
    """A line for the job's log tail (its page); a database blink loses the line."""
    try:
        with deps.session() as session:
            claims.log_line(session, job_id, attempt, message)
    except OperationalError:
        log.warning("could not write a log line for job %s", job_id)

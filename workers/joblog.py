"""Lines of a job's log tail (shown on its page), written by the attempt that owns the job."""
from __future__ import annotations

import logging

from sqlalchemy.exc import OperationalError

from app.runtime import Runtime
from app.services import claims
from app.services.claims import ClaimedJob

log = logging.getLogger(__name__)


def job_log(rt: Runtime, claimed: ClaimedJob, message: str) -> None:
    """Best-effort, like progress: a database blink loses the line, never the job."""
    try:
        with rt.session() as session:
            claims.log_line(session, claimed.id, claimed.attempt, message)
    except OperationalError:
        log.warning("could not write a log line for job %s", claimed.id)

"""Lines of a job's log tail (shown on its page), written by the attempt that owns the job."""
from __future__ import annotations

from app.runtime import Runtime
from app.services.claims import ClaimedJob
from app.services.usecases import report


def job_log(rt: Runtime, claimed: ClaimedJob, message: str) -> None:
    """Best-effort, like progress: a database blink loses the line, never the job."""
    report.log_line(rt, claimed.id, claimed.attempt, message)

"""Lines of a job's log tail (shown on its page), written by the attempt that owns the job."""
from __future__ import annotations

import logging

from app.runtime import Runtime
from app.services.claims import ClaimedJob
from app.services.usecases import report


def job_log(rt: Runtime, claimed: ClaimedJob, message: str) -> None:
    """Best-effort, like progress: a database blink loses the line, never the job."""
    report.log_line(rt, claimed.id, claimed.attempt, message)


class JobLogHandler(logging.Handler):
    """Sends a trainer's ``ctx.log`` lines (INFO and above) to its job's log."""

    def __init__(self, rt: Runtime, claimed: ClaimedJob) -> None:
        super().__init__(logging.INFO)
        self.rt, self.claimed = rt, claimed

    def emit(self, record: logging.LogRecord) -> None:
        try:
            job_log(self.rt, self.claimed, f"{record.levelname.lower()}: {record.getMessage()}"[:2000])
        except Exception:  # a log line is never worth a job
            self.handleError(record)


def trainer_logger(rt: Runtime, claimed: ClaimedJob) -> logging.Logger:
    """A logger of this job alone (its name carries the job id), whose lines land in the job's log."""
    logger = logging.getLogger(f"trainyard.kind.{claimed.kind}.{claimed.id}")
    logger.handlers = [JobLogHandler(rt, claimed)]
    logger.setLevel(logging.INFO)
    return logger


def forget_logger(logger: logging.Logger) -> None:
    """Drop a finished job's logger, so a long-lived worker does not keep one per job."""
    logger.handlers = []
    logging.Logger.manager.loggerDict.pop(logger.name, None)

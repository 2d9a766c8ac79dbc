"""What a use-case needs from the process it runs in, as protocols: the runtime bag satisfies them.

Declared here so that app/services never imports the runtime (and through it Celery): a route,
a CLI command, a Celery task and a test all pass their own ``Runtime``, or anything shaped like it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from app.config import Settings
from app.storage import ArtifactStore


class Doorbell(Protocol):
    """Tells workers that a committed job is ready (Redis today); never the truth, only a hint."""

    def ring(self, job_id: str, queue: str) -> bool:
        """Send the job's message; False if the broker could not take it."""

    def live_message_ids(self, queues: Iterable[str], unacked_grace_s: float) -> set[str] | None:
        """Ids of jobs that still have a message in the broker; None if it cannot be read."""


class Deps(Protocol):
    """The bag of dependencies a use-case is given: settings, units of work, store, doorbell, clock."""

    settings: Settings
    store: ArtifactStore
    dispatcher: Doorbell
    clock: Callable[[], datetime]

    def session(self) -> AbstractContextManager[Session]:
        """One unit of work: commits when the block ends, rolls back if it raises."""

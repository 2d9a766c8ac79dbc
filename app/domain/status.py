"""A job's status and the moves between statuses, declared once.

A ``StrEnum``: it is stored, compared and serialised as the plain word, so the
database, the JSON API and the templates see exactly what they saw before.
"""
from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    WAITING = "waiting"  # for the job it depends on (a staged kind's first stage)
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Tuples, not sets: they become SQL ``IN (...)`` lists, which should read the same every time.
ACTIVE = (JobStatus.WAITING, JobStatus.QUEUED, JobStatus.RUNNING)
FINISHED = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)

# Every status change the platform makes; anything else is a bug.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.WAITING: frozenset({JobStatus.QUEUED, JobStatus.FAILED, JobStatus.CANCELLED}),
    JobStatus.QUEUED: frozenset({JobStatus.RUNNING, JobStatus.CANCELLED}),
    # Back to queued: handed back by a worker shutting down, or taken back from a lost one.
    JobStatus.RUNNING: frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.QUEUED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
}


class IllegalTransition(ValueError):
    """A move that ``TRANSITIONS`` does not allow: refused before the database is touched."""


def check_transition(source: JobStatus, target: JobStatus) -> None:
    if target not in TRANSITIONS[JobStatus(source)]:
        raise IllegalTransition(f"a job cannot go from {source} to {target}")


class DeliveryStatus(StrEnum):
    """Where a webhook delivery (a row of the outbox) stands: not a job's status, though one word is shared.

    Owed (pending) until a receiver answers 2xx (delivered), or its attempts run out or its webhook is
    deleted (failed). Declared here so that every status word of the platform has one home.
    """

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class SweepStatus(StrEnum):
    """A sweep's state (app/services/sweeps.py): it shares words with JobStatus, not their meaning."""

    RUNNING = "running"  # beat starts trials up to the parallel budget
    PAUSED = "paused"  # no new trial; running ones go on
    FINISHED = "finished"  # its budget is spent
    CANCELLED = "cancelled"


class TrialStatus(StrEnum):
    """A sweep trial's state: its job's ending, or ``pruned`` when beat stopped it at a rung."""

    RUNNING = "running"  # its job is waiting, queued or running
    COMPLETED = "completed"
    PRUNED = "pruned"
    FAILED = "failed"
    CANCELLED = "cancelled"

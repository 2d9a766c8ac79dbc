"""Claim a queued job for this worker, and hand back everything the attempt needs to run without the database.

One unit of work: the conditional UPDATE (queued -> running, attempt + 1), then the reads an attempt
would otherwise climb back for: the version it builds on or scores with, and, for a scheduled run,
the gate's metric and the champion holding the alias now. The gate is decided again when the
version registers (``app.services.gate.apply_gate``), so an alias moved or a metric edited while
the job trained is still seen. Only heartbeats, progress and log lines are written while it runs.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.domain.errors import NotFound
from app.models import Schedule
from app.services import aliases, claims, registry
from app.services.claims import ClaimedJob
from app.services.usecases.deps import Deps
from app.services.usecases.retry import with_db_retry
from app.services.views import VersionView
from app.services.workers import gpus_of_queue


@dataclass(frozen=True)
class Champion:
    """A scheduled run's gate as it stood at the claim: the metric, and who holds the alias (None: nobody)."""

    metric: str
    version_id: int | None
    version: VersionView | None


@dataclass(frozen=True)
class Claim:
    """What an attempt needs: the job (params, data reference, attempt), its input version, its gate, GPUs."""

    job: ClaimedJob
    input_version: VersionView | None  # the version a staged kind's own job builds on, or the one a batch scores with
    champion: Champion | None  # a scheduled run's gate; None for any other job
    gpus: int  # N for gpu.N (MirroredStrategy), else 1 on gpu and 0 on cpu


def claim(deps: Deps, job_id: str, worker: str) -> Claim | None:
    """Claim ``job_id`` for ``worker``; None if it is not queued (a duplicate or late delivery)."""
    def work(session: Session) -> Claim | None:
        job = claims.claim_job(session, job_id, worker)
        if job is None:
            return None
        version = registry.get_version_by_id(session, job.input_version_id) if job.input_version_id else None
        return Claim(job, version, _champion(session, job), gpus_of_queue(job.queue))

    return with_db_retry(deps, work)


def _champion(session: Session, job: ClaimedJob) -> Champion | None:
    schedule = session.get(Schedule, job.schedule_id) if job.schedule_id is not None else None
    if schedule is None:
        return None
    try:
        holder = aliases.resolve_alias(session, job.model_name, schedule.alias)
    except NotFound:
        return Champion(schedule.metric, None, None)
    return Champion(schedule.metric, holder.id, registry.get_version_by_id(session, holder.id))

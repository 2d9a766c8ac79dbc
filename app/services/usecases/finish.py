"""Finish an attempt that succeeded: register its version (training) or record its outputs (batch).

Idempotent: called again after a crash, or after a commit whose answer was lost, it finds its
own work committed and reports success; an attempt that lost the job gets None/False and
writes nothing. The files are already published under the attempt's own folder
(``attempt_folder``), so a fenced attempt can never overwrite the winner's.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.domain.errors import Conflict
from app.domain.status import JobStatus
from app.services import batch, registry
from app.services.gate import Measured
from app.services.job_reads import get_job
from app.services.usecases.deps import Deps
from app.services.usecases.doorbell import ring
from app.services.usecases.retry import with_db_retry
from app.services.views import VersionView
from app.storage import StoredFile

log = logging.getLogger(__name__)
MODEL_RACE_TRIES, NUMBER_RACE_TRIES = 3, 5


class CancelledAtFinish(Exception):
    """A cancel was requested before the version committed: the job was cancelled instead (no version)."""


def attempt_folder(job_id: str, attempt: int) -> str:
    """Where an attempt publishes its files: its own folder, never another attempt's."""
    return f"artifacts/{job_id}/a{attempt}"


def finish_training(deps: Deps, job_id: str, attempt: int, model_name: str, files: Sequence[StoredFile],
                    metrics: Mapping[str, Any], framework: Mapping[str, Any],
                    measured: Measured | None = None) -> VersionView | None:
    """Register the version (gate, events and webhook outbox in the same commit), then ring the released jobs.

    Returns the version, or None when this attempt no longer owns the job (nothing written).
    Raises ``CancelledAtFinish`` when a cancel came first: it wins until the version commits.
    """
    for _ in range(MODEL_RACE_TRIES):  # two first versions of one model may race to create it
        try:
            with_db_retry(deps, lambda session: registry.ensure_model(session, model_name))
            break
        except IntegrityError:
            continue
    registered = None
    for _ in range(NUMBER_RACE_TRIES):  # on SQLite two versions of one model may race for a number
        try:
            registered = with_db_retry(deps, lambda session: registry.register_version(
                session, job_id, attempt, files, metrics, framework, measured))
            break
        except (IntegrityError, Conflict):  # Conflict: a cancel slipped in on SQLite; the next try sees it
            time.sleep(0.05)
    if registered is None:
        return registered_version(deps, job_id, attempt)
    if registered.version is None:
        raise CancelledAtFinish(f"job {job_id} was cancelled before its version was committed")
    ring(deps, registered.released)  # jobs that waited for this version, after the commit
    return registered.version


def registered_version(deps: Deps, job_id: str, attempt: int) -> VersionView | None:
    """This attempt's version if an earlier call committed it (its answer lost), else None (fenced)."""
    folder = attempt_folder(job_id, attempt)
    with deps.session() as session:
        mine = registry.version_of_job(session, job_id)
    if mine is not None and all(a.path.startswith(folder + "/") for a in mine.artifacts):
        log.info("job %s: registration had committed (acknowledgement lost)", job_id)
        return mine
    return None


def finish_batch(deps: Deps, job_id: str, attempt: int, files: Sequence[StoredFile],
                 summary: Mapping[str, Any]) -> bool:
    """Record a batch job's outputs and mark it succeeded; False when this attempt no longer owns the job."""
    if with_db_retry(deps, lambda session: batch.finish_infer(session, job_id, attempt, files, summary)):
        return True
    folder = attempt_folder(job_id, attempt)
    with deps.session() as session:  # an earlier call may have committed, its answer lost
        job = get_job(session, job_id)
        outputs = batch.outputs_of(session, job_id)
    return job.status == JobStatus.SUCCEEDED and bool(outputs) and all(
        o.path.startswith(folder + "/") for o in outputs)

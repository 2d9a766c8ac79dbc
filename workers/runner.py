"""Runs one claimed training job: claim, train outside any transaction, publish, register.

Sessions are short: one to claim, one per progress write, one to register. No
database connection is held while TensorFlow trains.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from sqlalchemy.exc import OperationalError

from app.data.load import load_dataset
from app.runtime import Runtime
from app.services import jobs, registry
from app.services.jobs import ClaimedJob
from app.storage.local import sha256_file
from workers.trainers import TRAINERS, Fenced, Progress, TrainInput

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.0


class _Reporter:
    """Turns trainer progress into short, fenced database writes (batch updates throttled)."""

    def __init__(self, rt: Runtime, job_id: str, attempt: int) -> None:
        self.rt, self.job_id, self.attempt = rt, job_id, attempt
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        now = time.monotonic()
        if not p.epoch_end and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        try:
            with self.rt.session() as session:
                owned = jobs.record_progress(session, self.job_id, self.attempt, epoch=p.epoch,
                                             total_epochs=p.total_epochs, progress=p.fraction,
                                             metrics=p.metrics, epoch_end=p.epoch_end)
        except OperationalError:  # the database blinked: progress is best-effort, training goes on
            log.warning("progress write for job %s failed; continuing", self.job_id, exc_info=True)
            return
        if not owned:
            raise Fenced(f"job {self.job_id} attempt {self.attempt} no longer owns the job")


def run_train_job(rt: Runtime, job_id: str, worker: str) -> str:
    """Claim and run ``job_id``; returns what happened ("skipped", "succeeded", "failed", "fenced")."""
    with rt.session() as session:
        claimed = jobs.claim_job(session, job_id, worker)
    if claimed is None:
        log.info("job %s is not queued (duplicate or late delivery); nothing to do", job_id)
        return "skipped"
    scratch = Path(tempfile.mkdtemp(prefix=f"job-{job_id}-"))
    try:
        trainer = TRAINERS[claimed.kind]
        result = trainer(TrainInput(params=claimed.params, data=_load_data(rt, claimed), workdir=scratch,
                                    report=_Reporter(rt, job_id, claimed.attempt),
                                    inputs=_input_files(rt, claimed)))
        stored = [rt.store.publish(path, f"artifacts/{job_id}/{path.name}") for path in result.files]
        with rt.session() as session:
            registered = registry.register_version(session, job_id, claimed.attempt, stored,
                                                   result.metrics, result.framework)
        if registered is None:
            rt.store.remove_tree(f"artifacts/{job_id}")
            return "fenced"
        rt.ring(registered.released)  # jobs that waited for this version (after the commit)
        log.info("job %s registered %s v%d", job_id, registered.version.model_name,
                 registered.version.version)
        return "succeeded"
    except Fenced:
        log.warning("job %s: this attempt was fenced off; writing nothing", job_id)
        return "fenced"
    except Exception:
        error = traceback.format_exc()
        log.exception("job %s failed", job_id)
        with rt.session() as session:
            jobs.fail_job(session, job_id, claimed.attempt, error)
        return "failed"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class TamperedFile(Exception):
    """A stored file's sha256 no longer matches the registry: refuse to use it."""


def _verified(rt: Runtime, rel: str, sha256: str) -> Path:
    path = rt.store.resolve(rel)
    actual = sha256_file(path)
    if actual != sha256:
        raise TamperedFile(f"{rel}: sha256 is {actual}, the registry says {sha256}")
    return path


def _load_data(rt: Runtime, claimed: ClaimedJob):
    """The job's dataset; an uploaded file is checked against its registered sha256 first."""
    path = _verified(rt, claimed.dataset_path, claimed.dataset_sha256) if claimed.dataset_path else None
    return load_dataset(claimed.dataset_kind, claimed.dataset_source, path, claimed.dataset_schema)


def _input_files(rt: Runtime, claimed: ClaimedJob) -> dict[str, Path]:
    """Verified artifact files of the version this job builds on (none for most jobs)."""
    if claimed.input_version_id is None:
        return {}
    with rt.session() as session:
        version = registry.get_version_by_id(session, claimed.input_version_id)
    return {a.name: _verified(rt, a.path, a.sha256) for a in version.artifacts}

"""Runs one training job: claim, train outside any transaction, publish, register.

Sessions are short: one to claim, one per progress write, one per heartbeat, one
to register. No database connection is held while TensorFlow trains. Everything
written after the claim is fenced by the attempt number.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import tempfile
import time
import traceback
from pathlib import Path

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from app.data.load import load_dataset
from app.domain.status import FINISHED, JobStatus
from app.runtime import Runtime
from app.services import audit, claims, lifecycle, registry
from app.services.claims import ClaimedJob
from app.services.workers import gpus_of_queue
from app.storage import Tampered
from workers.batch import run_infer
from workers.checkpoints import Checkpoints
from workers.gate import measure_champion
from workers.joblog import job_log
from workers.lease import Lease
from workers.trainers import TRAINERS, Progress, TrainInput
from workers.trainers.base import Cancelled, Fenced, HandBack, Stop, TimeLimit
from workers.trainers.distribute import distributed

log = logging.getLogger(__name__)
PROGRESS_EVERY_S = 1.0


class _Reporter:
    """Checks the lease at every batch boundary; turns progress into short, throttled writes."""

    def __init__(self, rt: Runtime, lease: Lease) -> None:
        self.rt, self.lease = rt, lease
        self._last = 0.0

    def __call__(self, p: Progress) -> None:
        self.lease.check()
        now = time.monotonic()
        if not p.epoch_end and now - self._last < PROGRESS_EVERY_S:
            return
        self._last = now
        try:
            with self.rt.session() as session:
                owned = claims.record_progress(session, self.lease.job_id, self.lease.attempt, epoch=p.epoch,
                                               total_epochs=p.total_epochs, progress=p.fraction,
                                               metrics=p.metrics, epoch_end=p.epoch_end)
        except OperationalError:  # the database blinked: progress is best-effort, training goes on
            log.warning("progress write for job %s failed; continuing", self.lease.job_id, exc_info=True)
            return
        if not owned:
            self.lease.owned = False
            self.lease.check()


def run_job(rt: Runtime, job_id: str, worker: str) -> str:
    """Claim and run ``job_id`` (training, or batch inference for ``type == "infer"``); returns what happened.

    The job's final status (succeeded, failed, cancelled), or "skipped" (not queued: a duplicate or
    late delivery), "handed back" or "fenced" (another attempt owns the job now).
    """
    with rt.session() as session:
        claimed = claims.claim_job(session, job_id, worker)
    if claimed is None:
        log.info("job %s is not queued (duplicate or late delivery); nothing to do", job_id)
        return "skipped"
    if os.environ.get("TRAINYARD_FAULT_CRASH_MODEL") == claimed.model_name:
        os.kill(os.getpid(), signal.SIGKILL)  # fault injection (tests only): a job that kills its worker
    scratch = Path(tempfile.mkdtemp(prefix=f"job-{job_id}-"))
    lease = Lease(rt, job_id, claimed.attempt)
    checkpoints = Checkpoints(rt.store, job_id, claimed.attempt, lease.beat)
    outcome: str = JobStatus.FAILED
    try:
        with lease:
            if claimed.type == "infer":
                outcome = run_infer(rt, claimed, lease, _Reporter(rt, lease), scratch)
            else:
                outcome = _train_and_register(rt, claimed, lease, checkpoints, scratch)
    except Fenced:
        log.warning("job %s: attempt %d was fenced off; writing nothing", job_id, claimed.attempt)
        outcome = "fenced"
    except Cancelled:
        done = _record(rt, lifecycle.finish_cancelled, job_id, claimed.attempt)
        outcome = JobStatus.CANCELLED if done else "fenced"
    except HandBack:
        if _record(rt, lifecycle.hand_back, job_id, claimed.attempt, "worker shutting down"):
            rt.ring([(job_id, claimed.queue)])
            outcome = "handed back"
        else:
            outcome = "fenced"
    # A failure recorded by an attempt that no longer owns the job is "fenced": the live attempt's
    # checkpoints and batch parts are then left alone.
    except TimeLimit as exc:
        outcome = _failed(rt, job_id, claimed.attempt, str(exc))
    except Tampered as exc:  # an input no longer matches its recorded sha256: never used, and audited
        log.error("job %s refused a tampered input: %s", job_id, exc)
        outcome = _failed(rt, job_id, claimed.attempt, f"refused a tampered input: {exc}")
        detail = {"job": job_id, "error": str(exc)[:500], "job_created_by": claimed.created_by}
        _with_db_retry(rt, lambda session: audit.record(session, None, "artifact.tampered", f"job {job_id}",
                                                        detail=detail))
    except Exception as exc:
        log.exception("job %s failed", job_id)
        outcome = _failed(rt, job_id, claimed.attempt, explain(exc, claimed))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if outcome in FINISHED:
            checkpoints.clear()
            if claimed.type == "infer":
                rt.store.remove_tree(f"batch/{job_id}")  # the chunk parts a retry would have resumed from
        if outcome in ("fenced", JobStatus.FAILED, JobStatus.CANCELLED):
            rt.store.remove_tree(f"artifacts/{job_id}/a{claimed.attempt}")
    return str(outcome)  # the plain word, as Celery logs the task's result with repr()


def _train_and_register(rt: Runtime, claimed: ClaimedJob, lease: Lease, checkpoints: Checkpoints,
                        scratch: Path) -> str:
    trainer = distributed(TRAINERS[claimed.kind], gpus_of_queue(claimed.queue))  # MirroredStrategy on gpu.N
    started = time.monotonic()
    data = _load_data(rt, claimed)
    job_log(rt, claimed, f"loaded dataset ({claimed.dataset_kind}, {claimed.dataset_source}) "
                      f"in {time.monotonic() - started:.1f} s")
    resume = checkpoints.latest()
    if resume is not None:
        job_log(rt, claimed, f"resuming from the checkpoint of attempt {resume.attempt} at epoch {resume.epoch}")
    result = trainer(TrainInput(params=claimed.params, data=data, workdir=scratch,
                                report=_Reporter(rt, lease), inputs=_input_files(rt, claimed),
                                checkpoints=checkpoints,
                                checkpoint_every_steps=rt.settings.checkpoint_every_steps))
    lease.check()
    measured = measure_champion(rt, claimed, data)
    job_log(rt, claimed, f"training done in {time.monotonic() - started:.1f} s; "
                         f"publishing {len(result.files)} artifacts")
    # Each attempt publishes under its own folder: a fenced zombie can never overwrite the winner's files.
    folder = f"artifacts/{claimed.id}/a{claimed.attempt}"
    stored = [rt.store.publish(path, f"{folder}/{path.name}") for path in result.files]
    for _ in range(3):  # two first versions of one model may race to create it
        try:
            _with_db_retry(rt, lambda session: registry.ensure_model(session, claimed.model_name))
            break
        except IntegrityError:
            continue
    registered = None
    for _ in range(5):  # on SQLite two versions of one model may race for the same number: retry
        try:
            registered = _with_db_retry(rt, lambda session: registry.register_version(
                session, claimed.id, claimed.attempt, stored, result.metrics, result.framework, measured))
            break
        except IntegrityError:
            time.sleep(0.05)
    if registered is None:
        with rt.session() as session:  # a commit whose acknowledgement was lost still registered us
            mine = registry.version_of_job(session, claimed.id)
        if mine is not None and all(a.path.startswith(folder + "/") for a in mine.artifacts):
            log.info("job %s: registration had committed (acknowledgement lost)", claimed.id)
            return JobStatus.SUCCEEDED
        raise Fenced(f"job {claimed.id} attempt {claimed.attempt} lost the job before registering")
    rt.ring(registered.released)  # jobs that waited for this version (after the commit)
    v = registered.version
    log.info("job %s registered %s v%d", claimed.id, v.model_name, v.version)
    return JobStatus.SUCCEEDED


def _with_db_retry(rt: Runtime, work):
    """Run ``work(session)`` in a transaction, retrying with backoff while the database is away.

    Bounded by REGISTER_RETRY_S; the task is acknowledged only after this returns.
    """
    deadline = time.monotonic() + rt.settings.register_retry_s
    delay = 0.2
    while True:
        try:
            with rt.session() as session:
                return work(session)
        except DBAPIError as exc:
            transient = isinstance(exc, OperationalError) or exc.connection_invalidated
            if not transient or time.monotonic() + delay > deadline:
                raise
            log.warning("database unavailable (%s); retrying in %.1f s", exc.__class__.__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def _failed(rt: Runtime, job_id: str, attempt: int, error: str) -> str:
    return JobStatus.FAILED if _record(rt, claims.fail_job, job_id, attempt, error) else "fenced"


def _record(rt: Runtime, fn, *args) -> bool:
    """A final status write, retried while the database is away."""
    return bool(_with_db_retry(rt, lambda session: fn(session, *args)))


def explain(exc: BaseException, claimed: ClaimedJob) -> str:
    """The message a user needs: what to lower for out-of-memory, the traceback otherwise."""
    name = type(exc).__name__
    if isinstance(exc, MemoryError) or name == "ResourceExhaustedError" or "OOM" in str(exc)[:200]:
        p = claimed.params
        knobs = [f"{k} (now {p[k]})" for k in ("batch_size", "units", "hidden_units", "filters",
                                                 "embedding_dim", "max_tokens", "sequence_length") if k in p]
        return (f"out of memory while training: lower {', '.join(knobs) or 'the model size'}\n\n"
                + traceback.format_exc())
    return traceback.format_exc()


def _load_data(rt: Runtime, claimed: ClaimedJob):
    """The job's dataset; an uploaded file is checked against its registered sha256 first."""
    path = rt.store.verified(claimed.dataset_path, claimed.dataset_sha256) if claimed.dataset_path else None
    return load_dataset(claimed.dataset_kind, claimed.dataset_source, path, claimed.dataset_schema)


def _input_files(rt: Runtime, claimed: ClaimedJob) -> dict[str, Path]:
    """Verified artifact files of the version this job builds on (none for most jobs)."""
    if claimed.input_version_id is None:
        return {}
    with rt.session() as session:
        version = registry.get_version_by_id(session, claimed.input_version_id)
    return {a.name: rt.store.verified(a.path, a.sha256) for a in version.artifacts}


__all__ = ["Stop", "run_job"]

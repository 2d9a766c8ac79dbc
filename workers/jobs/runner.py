"""Runs one job in three steps: claim, train (or score), finish. Only the use-cases touch the database.

``claim`` (app.services.usecases.claim) returns everything the attempt needs; while it trains,
the lease's heartbeat, progress and log lines are the only writes (short, best-effort, fenced
by the attempt number); ``finish_training`` registers the version (or, for a stop, one of the
``stop`` use-cases records how it ended). No database connection is held while TensorFlow trains.
"""
from __future__ import annotations

import logging
import shutil
import tempfile
import time
import traceback
from pathlib import Path

from billiard.common import terminate_handler_fired

from app.data.load import load_dataset
from app.domain.status import FINISHED, JobStatus
from app.runtime import Runtime
from app.services.claims import ClaimedJob
from app.services.usecases import report, stop
from app.services.usecases.claim import Claim, claim
from app.services.usecases.finish import CancelledAtFinish, attempt_folder, finish_training, registered_version
from app.storage import Tampered
from workers.jobs.batch import run_infer
from workers.jobs.checkpoints import Checkpoints
from workers.jobs.gate import measure_champion
from workers.jobs.joblog import forget_logger, job_log, trainer_logger
from workers.jobs.lease import Lease
from workers.trainers import TRAINERS, Progress, TrainContext, lineage
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
        owned = report.progress(self.rt, self.lease.job_id, self.lease.attempt, epoch=p.epoch,
                                total_epochs=p.total_epochs, fraction=p.fraction, metrics=p.metrics,
                                epoch_end=p.epoch_end)
        if owned is False:  # None: the database blinked; progress is best-effort, training goes on
            self.lease.owned = False
            self.lease.check()


def run_job(rt: Runtime, job_id: str, worker: str) -> str:
    """Claim and run ``job_id`` (training, or batch inference for ``type == "infer"``); returns what happened.

    The job's final status (succeeded, failed, cancelled), or "skipped" (not queued: a duplicate or
    late delivery), "handed back" or "fenced" (another attempt owns the job now).
    """
    order = claim(rt, job_id, worker)
    if order is None:
        log.info("job %s is not queued (duplicate or late delivery); nothing to do", job_id)
        return "skipped"
    job = order.job
    scratch = Path(tempfile.mkdtemp(prefix=f"job-{job_id}-"))
    lease = Lease(rt, job_id, job.attempt)
    checkpoints = Checkpoints(rt.store, job_id, job.attempt, lease.beat)
    outcome = "unknown"  # until an ending is recorded: then nothing is cleaned up (the reaper resumes it)
    try:
        with lease:
            if job.type == "infer":
                outcome = run_infer(rt, order, lease, _Reporter(rt, lease), scratch)
            else:
                outcome = _train(rt, order, lease, checkpoints, scratch)
    except Exception as exc:
        if _terminated(exc):
            raise  # record nothing: the worker's parent hands the job back (workers.jobs.tasks.JobTask)
        outcome = _ended(rt, job, exc)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if outcome in FINISHED:
            checkpoints.clear()
            if job.type == "infer":
                rt.store.remove_tree(f"batch/{job_id}")  # the chunk parts a retry would have resumed from
        if outcome in (JobStatus.FAILED, JobStatus.CANCELLED) or (outcome == "fenced" and not _holds_version(rt, job)):
            rt.store.remove_tree(attempt_folder(job_id, job.attempt))
    return str(outcome)


def _terminated(exc: BaseException) -> bool:
    """Is this child being terminated? Celery terminates a running task's child with SIGTERM (a broker
    connection lost under late ack); billiard's handler raises SystemExit wherever the child was. If a
    library's cleanup fails while that unwinds (TensorFlow's device scope: "Exiting device scope without
    proper scope nesting"), a plain error arrives here instead, and recording it would fail a job the
    parent is handing back. billiard's flag says so whatever the error; the SystemExit in the chain says
    so outside billiard's pool."""
    if terminate_handler_fired():
        return True
    seen = exc.__context__ or exc.__cause__
    while seen is not None:
        if isinstance(seen, SystemExit | KeyboardInterrupt):
            return True
        seen = seen.__context__ or seen.__cause__
    return False


def _holds_version(rt: Runtime, job: ClaimedJob) -> bool:
    """A "fenced" attempt may still have registered (its commit's answer lost while the database was
    away): then its folder holds the version's files and stays. When we cannot tell, it stays too."""
    try:
        return registered_version(rt, job.id, job.attempt) is not None
    except Exception:
        log.warning("job %s: cannot tell whether attempt %d registered; keeping its files", job.id, job.attempt,
                    exc_info=True)
        return True  # the plain word, as Celery logs the task's result with repr()


def _ended(rt: Runtime, job: ClaimedJob, exc: Exception) -> str:
    """Record how an attempt that stopped early ended, through one ``stop`` use-case; returns the outcome.

    A failure recorded by an attempt that no longer owns the job is "fenced": the live attempt's
    checkpoints and batch parts are then left alone.
    """
    if isinstance(exc, Fenced):
        log.warning("job %s: attempt %d was fenced off; writing nothing", job.id, job.attempt)
        return "fenced"
    if isinstance(exc, CancelledAtFinish):  # the registration found the cancel and recorded it
        return JobStatus.CANCELLED
    if isinstance(exc, Cancelled):
        done = stop.cancelled(rt, job.id, job.attempt)
        return JobStatus.CANCELLED if done else "fenced"
    if isinstance(exc, HandBack):
        return "handed back" if stop.hand_back(rt, job.id, job.attempt, job.queue, "worker shutting down") \
            else "fenced"
    if isinstance(exc, TimeLimit):
        done = stop.fail(rt, job.id, job.attempt, str(exc))
    elif isinstance(exc, Tampered):  # an input no longer matches its recorded sha256: never used, and audited
        log.error("job %s refused a tampered input: %s", job.id, exc)
        done = stop.fail_tampered(rt, job, str(exc))
    else:
        log.exception("job %s failed", job.id)
        done = stop.fail(rt, job.id, job.attempt, explain(exc, job))
    return JobStatus.FAILED if done else "fenced"


def _train(rt: Runtime, order: Claim, lease: Lease, checkpoints: Checkpoints, scratch: Path) -> str:
    """Train outside any transaction, publish under the attempt's folder, then finish (register)."""
    job = order.job
    trainer = distributed(TRAINERS[job.kind], order.gpus)  # MirroredStrategy on gpu.N
    started = time.monotonic()
    data = _load_data(rt, job)
    job_log(rt, job, f"loaded dataset ({job.dataset_kind}, {job.dataset_source}) "
                     f"in {time.monotonic() - started:.1f} s")
    resume = checkpoints.latest()
    if resume is not None:
        job_log(rt, job, f"resuming from the checkpoint of attempt {resume.attempt} at epoch {resume.epoch}")
    logger = trainer_logger(rt, job)
    ctx = TrainContext(job.params, data, scratch, _Reporter(rt, lease), inputs=_input_files(rt, order),
                       checkpoints=checkpoints, checkpoint_every_steps=rt.settings.checkpoint_every_steps,
                       checkpoint_every_s=rt.settings.checkpoint_every_s, log=logger)
    try:
        trainer(ctx)
    finally:
        forget_logger(logger)
    result = ctx.result()
    lease.check()
    measured = measure_champion(rt.store, order, data)
    job_log(rt, job, f"training done in {time.monotonic() - started:.1f} s; "
                     f"publishing {len(result.files)} artifacts")
    # Each attempt publishes under its own folder: a fenced zombie can never overwrite the winner's files.
    folder = attempt_folder(job.id, job.attempt)
    stored = [rt.store.publish(path, f"{folder}/{path.name}") for path in result.files]
    version = finish_training(rt, job.id, job.attempt, job.model_name, stored, result.metrics,
                              {**result.framework, **lineage(job.kind)}, measured)
    if version is None:
        raise Fenced(f"job {job.id} attempt {job.attempt} lost the job before registering")
    log.info("job %s registered %s v%d", job.id, version.model_name, version.version)
    return JobStatus.SUCCEEDED


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


def _input_files(rt: Runtime, order: Claim) -> dict[str, Path]:
    """Verified artifact files of the version this job builds on (none for most jobs)."""
    if order.input_version is None:
        return {}
    return {a.name: rt.store.verified(a.path, a.sha256) for a in order.input_version.artifacts}


__all__ = ["Stop", "run_job"]

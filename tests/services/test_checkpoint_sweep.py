"""The reconciler's checkpoint sweep (app/services/usecases/reconcile.py): a worker that dies between a job's
last commit and clearing its checkpoints leaves them in the store; a later pass removes those of jobs that
ended longer than a lease ago, and keeps every checkpoint an attempt may still resume from."""
from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import update

from app.domain.status import JobStatus
from app.models import Job, utcnow
from app.services import claims, submission
from app.services.usecases.reconcile import reconcile, sweep_checkpoints
from tests.support import train_body


def _job(rt, name: str) -> str:
    with rt.session() as s:
        job, _ = submission.submit_train_job(s, train_body(name))
    return job.id


def _checkpoint(rt, tmp_path, job_id: str) -> str:
    """One checkpoint file of attempt 1, as ``workers.jobs.checkpoints`` lays it out."""
    src = tmp_path / f"{job_id}.keras"
    src.write_bytes(b"weights")
    rt.store.publish(src, f"checkpoints/{job_id}/a1/model-e1-s0.keras")
    return f"checkpoints/{job_id}/a1/model-e1-s0.keras"


def _ended(rt, job_id: str, status: JobStatus, ago: timedelta) -> None:
    """The job's final status change (no version: the sweep reads only the status and when it ended)."""
    with rt.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(status=status, finished_at=utcnow() - ago))


def test_a_pass_removes_the_checkpoints_of_jobs_that_ended_a_lease_ago_only(db_stack, model_name, tmp_path):
    rt = db_stack.runtime
    lease = timedelta(seconds=rt.settings.lease_s)
    queued, running, failed, succeeded, cancelled, just_ended = (_job(rt, f"{model_name}-{i}") for i in range(6))
    with rt.session() as s:
        attempt = claims.claim_job(s, running, "w1").attempt
        for job_id in (failed, succeeded, just_ended):
            claims.claim_job(s, job_id, "w1")
    _ended(rt, failed, JobStatus.FAILED, 2 * lease)
    _ended(rt, succeeded, JobStatus.SUCCEEDED, 2 * lease)
    _ended(rt, cancelled, JobStatus.CANCELLED, 2 * lease)
    _ended(rt, just_ended, JobStatus.SUCCEEDED, timedelta(0))  # its worker is clearing up right now
    files = {job_id: _checkpoint(rt, tmp_path, job_id)
             for job_id in (queued, running, failed, succeeded, cancelled, just_ended, "not-a-job")}

    assert reconcile(rt)["swept"] == 3  # what beat runs every RECONCILE_INTERVAL_S
    left = set(rt.store.list("checkpoints"))
    # A queued job may be one handed back, which resumes from its checkpoint.
    assert left == {files[queued], files[running], files[just_ended], files["not-a-job"]}
    assert sweep_checkpoints(rt, lease) == 0  # nothing more to do, and nothing else is touched
    assert set(rt.store.list("checkpoints")) == left
    with rt.session() as s:  # the running attempt still owns its job
        assert claims.log_line(s, running, attempt, "still here")


class _StuckStore:
    """The real store, except that nothing can be removed from it (a read-only mount, a share gone away
    between listing and removing)."""

    def __init__(self, store) -> None:
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def remove_tree(self, rel: str) -> None:
        raise OSError(f"read-only file system: {rel}")


class _AwayStore:
    """The store of a host whose network share is gone: every call fails."""

    def __getattr__(self, name):
        def fail(*_args, **_kwargs):
            raise OSError(f"store unreachable ({name})")
        return fail


def test_a_store_error_never_holds_up_a_ring(db_stack, model_name, tmp_path):
    """The sweep is housekeeping and runs last: a store error is logged, and the pass still rings a queued
    job whose message is gone (here: never sent)."""
    rt = db_stack.runtime
    lease = timedelta(seconds=rt.settings.lease_s)
    ended, queued = _job(rt, f"{model_name}-ended"), _job(rt, f"{model_name}-queued")
    _ended(rt, ended, JobStatus.FAILED, 2 * lease)
    kept = _checkpoint(rt, tmp_path, ended)
    with rt.session() as s:  # older than the submission grace, and never rung
        s.execute(update(Job).where(Job.id == queued).values(created_at=utcnow() - timedelta(minutes=1)))
    stuck = dataclasses.replace(rt, store=_StuckStore(rt.store))
    assert reconcile(stuck) == {"requeued": 0, "failed": 0, "cancelled": 0, "rung": 1, "swept": 0}
    assert rt.store.list("checkpoints") == [kept]  # tried, failed, left for the next pass
    away = dataclasses.replace(rt, store=_AwayStore())
    assert sweep_checkpoints(away, lease) == 0
    assert reconcile(rt)["swept"] == 1  # the store is back

"""The reconciler's checkpoint sweep (app/services/usecases/reconcile.py): a worker that dies between a job's
last commit and clearing its checkpoints leaves them in the store; the next pass removes those of ended
jobs and keeps every checkpoint an attempt may still resume from."""
from __future__ import annotations

from sqlalchemy import update

from app.domain.status import JobStatus
from app.models import Job
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


def test_a_pass_removes_the_checkpoints_of_ended_jobs_only(db_stack, model_name, tmp_path):
    rt = db_stack.runtime
    queued, running, failed, succeeded = (_job(rt, f"{model_name}-{i}") for i in range(4))
    with rt.session() as s:
        attempt = claims.claim_job(s, running, "w1").attempt
        claims.claim_job(s, failed, "w1")
        claims.claim_job(s, succeeded, "w1")
    with rt.session() as s:
        assert claims.fail_job(s, failed, 1, "boom")
        # the success commit's status change, without a version: the sweep reads only the status
        s.execute(update(Job).where(Job.id == succeeded).values(status=JobStatus.SUCCEEDED))
    files = {job_id: _checkpoint(rt, tmp_path, job_id)
             for job_id in (queued, running, failed, succeeded, "not-a-job")}

    assert reconcile(rt)["swept"] == 2  # what beat runs every RECONCILE_INTERVAL_S
    left = set(rt.store.list("checkpoints"))
    assert left == {files[queued], files[running], files["not-a-job"]}  # a queued job may be one handed back
    assert sweep_checkpoints(rt) == 0  # nothing more to do, and nothing else is touched
    assert set(rt.store.list("checkpoints")) == left
    with rt.session() as s:  # the running attempt still owns its job
        assert claims.log_line(s, running, attempt, "still here")


def test_a_pass_with_no_checkpoints_reads_nothing_more(db_stack):
    assert sweep_checkpoints(db_stack.runtime) == 0


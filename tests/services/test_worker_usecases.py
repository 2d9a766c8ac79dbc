"""The worker's use-cases: claim returns what training needs; finish_training is idempotent and fenced."""
from __future__ import annotations

from app.services import job_reads, submission
from app.services.usecases.claim import claim
from app.services.usecases.finish import attempt_folder, finish_training
from app.storage import StoredFile
from tests.support import train_body


def _submitted(rt, name):
    with rt.session() as s:
        job, _ = submission.submit_train_job(s, train_body(name))
    return job


def test_the_claim_carries_the_job_and_a_second_claim_gets_nothing(db_stack, model_name):
    rt = db_stack.runtime
    job = _submitted(rt, model_name)
    order = claim(rt, job.id, "w1")
    assert order is not None and order.job.attempt == 1 and order.job.params == job.params
    assert order.input_version is None and order.champion is None and order.gpus == 0
    assert claim(rt, job.id, "w2") is None


def test_finish_training_called_again_after_a_commit_reports_the_same_version(db_stack, model_name):
    rt = db_stack.runtime
    job = _submitted(rt, model_name)
    order = claim(rt, job.id, "w")
    files = [StoredFile("metrics.json", f"{attempt_folder(job.id, order.job.attempt)}/metrics.json", 2, "0" * 64)]
    first = finish_training(rt, job.id, order.job.attempt, model_name, files, {"test_accuracy": 0.5}, {})
    again = finish_training(rt, job.id, order.job.attempt, model_name, files, {"test_accuracy": 0.5}, {})
    assert first is not None and again is not None and again == first and first.version == 1
    with rt.session() as s:
        assert job_reads.get_job(s, job.id).status == "succeeded"


def test_a_fenced_attempt_finishes_nothing(db_stack, model_name):
    rt = db_stack.runtime
    job = _submitted(rt, model_name)
    order = claim(rt, job.id, "w")
    stale = order.job.attempt + 1
    files = [StoredFile("metrics.json", f"{attempt_folder(job.id, stale)}/metrics.json", 2, "0" * 64)]
    assert finish_training(rt, job.id, stale, model_name, files, {}, {}) is None
    with rt.session() as s:
        assert job_reads.get_job(s, job.id).version is None

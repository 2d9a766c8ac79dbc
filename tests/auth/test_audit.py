"""The audit log keeps who submitted, cancelled, uploaded, promoted, made a token; admins read it."""
from __future__ import annotations

import pytest

from app.services import audit
from tests.support import upload


def test_actions_are_recorded_with_their_actor_and_shown_to_admins(db_stack, model_name):
    member = db_stack.client_as("member")
    r = member.post("/api/v1/jobs", json={"kind": "mlp", "dataset": "iris", "model_name": model_name,
                                          "params": {"epochs": 1}})
    assert r.status_code == 201, r.get_data(as_text=True)
    job = r.get_json()
    r = member.post(f"/api/v1/jobs/{job['id']}/cancel")  # queued (no worker here): cancelled at once
    assert r.status_code == 200 and r.get_json()["status"] == "cancelled", r.get_data(as_text=True)
    assert upload(member, "audited-corpus", "corpus", b"one two three\nfour five six\n").status_code == 201
    browser = db_stack.browser_client("viewer")
    r = browser.post("/account/tokens", data={"name": "audited", "csrf_token": browser.csrf})
    assert r.status_code == 201, r.get_data(as_text=True)[:500]  # the page that shows the new token once
    r = db_stack.client.post(f"/api/v1/models/{model_name}/aliases/production",
                             json={"version": 1, "reason": "audit test"})
    assert r.status_code == 404, r.get_data(as_text=True)  # no such model: refused, so not logged
    with db_stack.runtime.session() as s:
        rows = audit.entries(s)
    seen = {(e.actor, e.action) for e in rows}
    assert {("test-member", "job.submit"), ("test-member", "job.cancel"), ("test-member", "dataset.upload"),
            ("test-viewer", "token.create")} <= seen
    assert not any(e.action == "alias.promote" for e in rows)  # refused calls change nothing and are not logged
    submit = next(e for e in rows if e.action == "job.submit")
    assert job["id"] in submit.target and submit.detail["model_name"] == model_name
    page = db_stack.client.get("/audit?actor=test-member")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "job.cancel" in text and "token.create" not in text
    assert db_stack.client_as("member").get("/audit").status_code == 403


def test_a_submission_and_its_audit_row_commit_together_once(db_stack, model_name):
    """Written in the submission's own unit of work: one row per submitted job, from the API and both
    forms, with the same target the after-response hook gave (the job's URL)."""
    member = db_stack.client_as("member")
    r = member.post("/api/v1/jobs", json={"kind": "mlp", "dataset": "iris", "model_name": model_name,
                                          "params": {"epochs": 1}}, headers={"Idempotency-Key": model_name})
    assert r.status_code == 201, r.get_data(as_text=True)
    api_job = r.get_json()["id"]
    again = member.post("/api/v1/jobs", json={"kind": "mlp", "dataset": "iris", "model_name": model_name},
                        headers={"Idempotency-Key": model_name})
    assert again.status_code == 200 and again.get_json()["id"] == api_job  # the repeat is logged too
    browser = db_stack.browser_client("member")
    r = browser.post("/jobs/new", data={"kind": "mlp", "dataset": "iris", "model_name": model_name,
                                        "queue": "cpu", "params.epochs": "1", "csrf_token": browser.csrf})
    assert r.status_code == 303, r.get_data(as_text=True)[:500]
    form_job = r.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    with db_stack.runtime.session() as s:
        rows = [e for e in audit.entries(s, action="job.submit") if e.detail.get("model_name") == model_name]
    assert sorted(e.target for e in rows) == sorted([f"/api/v1/jobs/{api_job}", f"/api/v1/jobs/{api_job}",
                                                     f"/jobs/{form_job}"])
    assert all(e.actor == "test-member" for e in rows)


def test_a_failed_audit_write_leaves_no_job_behind(db_stack, model_name):
    """The audit row is part of the submission's unit: when writing it fails, the job is not committed
    (and so never rung), instead of a committed job answered with a 500."""
    from sqlalchemy import func, select

    from app.models import Job
    from app.services.usecases.submit import submit_training

    def failing_audit(session, job) -> None:
        raise RuntimeError("the audit row could not be written")

    body = {"kind": "mlp", "dataset": "iris", "model_name": model_name, "params": {"epochs": 1}}
    with pytest.raises(RuntimeError, match="audit row"):
        submit_training(db_stack.runtime, body, created_by="test-member", audit=failing_audit)
    with db_stack.runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(Job).where(Job.model_name == model_name)) == 0

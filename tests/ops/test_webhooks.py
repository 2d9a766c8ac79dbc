"""Webhooks: signed deliveries to a real HTTP receiver, retries with backoff, and the delivery log."""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.models import utcnow
from app.services import claims
from app.services.usecases.deliver import deliver_webhooks
from tests.support import free_port, run_job, train_body
from workers.beat.webhook_sender import send, verify


def deliver_due(rt, now=None):
    """One delivery pass with the real HTTP sender, as beat runs it."""
    return deliver_webhooks(rt, now, send=send)


class Receiver:
    """A local HTTP endpoint that answers with the given status codes in turn (then 200)."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers, self.got = list(answers or []), []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), body))
                code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.end_headers()
                self.wfile.write(b"nope" if code >= 400 else b"ok")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def test_job_and_alias_events_arrive_signed_and_are_logged(sqlite_stack, receiver, model_name):
    c = sqlite_stack.client
    hook = c.post("/api/v1/webhooks", json={"url": receiver.url, "model_name": model_name})
    assert hook.status_code == 201
    secret = hook.get_json()["secret"]
    other = f"{model_name}-other"  # a model this webhook is not about
    run_job(c, train_body(model_name))
    run_job(c, train_body(other))
    c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1, "reason": "first"})
    counts = deliver_due(sqlite_stack.runtime)
    assert counts["delivered"] >= 2
    mine = [(h, b) for h, b in receiver.got if json.loads(b)["data"]["model_name"] == model_name]
    events = sorted(json.loads(b)["event"] for _, b in mine)
    assert events == ["alias.moved", "job.succeeded"]
    for headers, body in mine:
        assert verify(secret, headers["X-Trainyard-Timestamp"], body, headers["X-Trainyard-Signature"])
        assert not verify("another secret", headers["X-Trainyard-Timestamp"], body, headers["X-Trainyard-Signature"])
        assert not verify(secret, headers["X-Trainyard-Timestamp"], body + b" ", headers["X-Trainyard-Signature"])
    moved = next(json.loads(b) for _, b in mine if json.loads(b)["event"] == "alias.moved")
    assert moved["data"]["version"] == 1 and moved["data"]["alias"] == "production"
    succeeded = next(json.loads(b) for _, b in mine if json.loads(b)["event"] == "job.succeeded")
    assert succeeded["data"]["version"] == 1 and succeeded["data"]["status"] == "succeeded"
    assert not any(json.loads(b)["data"]["model_name"] == other for _, b in receiver.got)
    log = c.get(f"/api/v1/webhooks/deliveries?webhook={hook.get_json()['id']}").get_json()["items"]
    assert sorted((d["event"], d["status"], d["attempts"], d["last_status_code"]) for d in log) == [
        ("alias.moved", "delivered", 1, 200), ("job.succeeded", "delivered", 1, 200)]
    page = c.get("/webhooks").get_data(as_text=True)
    assert receiver.url in page and "alias.moved" in page and "delivered" in page


def _fail_a_job(stack, model_name: str) -> str:
    """A real job.failed event: submit, claim as a worker would, fail it."""
    r = stack.client.post("/api/v1/jobs", json=train_body(model_name))
    job_id = r.get_json()["id"]
    with stack.runtime.session() as session:
        claimed = claims.claim_job(session, job_id, "test-worker")
        assert claims.fail_job(session, job_id, claimed.attempt, "Traceback...\nValueError: diverged")
    return job_id


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(db_stack, model_name):
    receiver = Receiver(answers=[500, 503])
    try:
        c = db_stack.client
        hook = c.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["job.failed"]}).get_json()
        job_id = _fail_a_job(db_stack, model_name)
        rt, now = db_stack.runtime, utcnow()
        backoff = rt.settings.webhook_backoff_s
        assert deliver_due(rt, now) == {"delivered": 0, "pending": 1, "failed": 0}
        assert deliver_due(rt, now + timedelta(seconds=backoff / 2)) == {"delivered": 0, "pending": 0, "failed": 0}
        assert deliver_due(rt, now + timedelta(seconds=backoff + 1)) == {"delivered": 0, "pending": 1, "failed": 0}
        later = now + timedelta(seconds=backoff + 1)
        # The second retry waits twice as long as the first.
        assert deliver_due(rt, later + timedelta(seconds=backoff * 2 - 1))["pending"] == 0
        assert deliver_due(rt, later + timedelta(seconds=backoff * 2 + 1)) == {"delivered": 1, "pending": 0,
                                                                               "failed": 0}
        assert len(receiver.got) == 3
        ids = {h["X-Trainyard-Delivery"] for h, _ in receiver.got}
        assert len(ids) == 1  # the same delivery, retried
        payload = json.loads(receiver.got[-1][1])
        assert payload["event"] == "job.failed" and payload["data"]["job_id"] == job_id
        assert "diverged" in payload["data"]["error"]
        [entry] = c.get(f"/api/v1/webhooks/deliveries?webhook={hook['id']}").get_json()["items"]
        assert (entry["status"], entry["attempts"], entry["last_status_code"]) == ("delivered", 3, 200)
    finally:
        receiver.close()


def test_a_receiver_that_never_answers_is_given_up_after_max_attempts(db_stack, model_name):
    receiver = Receiver(answers=[500] * 100)
    try:
        c = db_stack.client
        c.post("/api/v1/webhooks", json={"url": receiver.url})
        _fail_a_job(db_stack, model_name)
        rt, at = db_stack.runtime, utcnow()
        for _ in range(rt.settings.webhook_max_attempts):
            deliver_due(rt, at)
            at += timedelta(hours=2)
        [entry] = c.get("/api/v1/webhooks/deliveries").get_json()["items"]
        assert (entry["status"], entry["attempts"]) == ("failed", rt.settings.webhook_max_attempts)
        assert "HTTP 500" in entry["last_error"]
        assert deliver_due(rt, at + timedelta(days=1)) == {"delivered": 0, "pending": 0, "failed": 0}
    finally:
        receiver.close()


def test_bad_webhook_input_names_the_field(db_stack):
    c = db_stack.client
    for body, field in (({"url": "ftp://x"}, "url"), ({}, "url"), ({"url": "http://x", "events": ["job.exploded"]},
                                                                    "events"),
                        ({"url": "http://x", "model_name": ""}, "model_name")):
        r = c.post("/api/v1/webhooks", json=body)
        assert r.status_code == 422 and field in r.get_json()["fields"], (body, r.get_json())


def test_a_deleted_webhook_is_disabled_and_owed_nothing(db_stack, model_name):
    c = db_stack.client
    hook = c.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/never"}).get_json()
    _fail_a_job(db_stack, model_name)
    assert c.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert c.delete("/api/v1/webhooks/999999").status_code == 404
    [listed] = c.get("/api/v1/webhooks").get_json()["items"]
    assert listed["enabled"] is False and "secret" not in listed
    [entry] = c.get("/api/v1/webhooks/deliveries").get_json()["items"]
    assert (entry["status"], entry["last_error"]) == ("failed", "webhook deleted")
    assert deliver_due(db_stack.runtime, utcnow() + timedelta(days=1)) == {"delivered": 0, "pending": 0, "failed": 0}

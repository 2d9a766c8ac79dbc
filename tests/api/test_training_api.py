"""Through the JSON API against a real worker, on SQLite and on PostgreSQL."""
from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from app.models import JobEvent, ModelVersion
from tests.support import (
    assert_accuracy_measured_on_the_test_split,
    queue_drained,
    train_body,
    wait_for_job,
    wait_until,
)


def test_submit_poll_list_and_download(stack, model_name):
    c = stack.client
    r = c.post("/api/v1/jobs", json=train_body(model_name))
    assert r.status_code == 201
    job = r.get_json()
    assert r.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    assert job["status"] == "queued" and job["params"]["epochs"] == 2

    done = wait_for_job(c, job["id"])
    assert done["status"] == "succeeded", done["error"]
    assert done["version"] == 1 and done["progress"] == 1.0 and done["epoch"] == 2
    assert_accuracy_measured_on_the_test_split(done["metrics"], "builtin:sklearn.iris")

    listed = c.get(f"/api/v1/jobs?status=succeeded&model={model_name}").get_json()["items"]
    assert [j["id"] for j in listed] == [job["id"]]

    events = c.get(f"/api/v1/jobs/{job['id']}/events").get_json()["items"]
    assert [e["payload"]["epoch"] for e in events if e["kind"] == "epoch"] == [1, 2]
    assert [e["payload"]["status"] for e in events if e["kind"] == "status"] == \
        ["queued", "running", "succeeded"]

    versions = c.get(f"/api/v1/models/{model_name}/versions").get_json()["items"]
    assert len(versions) == 1
    artifacts = {a["name"]: a for a in versions[0]["artifacts"]}
    assert {"model.keras", "metrics.json", "history.csv"} <= set(artifacts)
    for name, meta in artifacts.items():
        got = c.get(meta["url"])
        assert got.status_code == 200, name
        body = got.get_data()
        assert int(got.headers["Content-Length"]) == len(body) == meta["size_bytes"]
        assert hashlib.sha256(body).hexdigest() == meta["sha256"] == got.headers["X-Checksum-Sha256"]
        assert got.headers["ETag"].strip('"') == meta["sha256"]
    history = c.get(artifacts["history.csv"]["url"]).get_data(as_text=True).splitlines()
    assert history[0].startswith("epoch,") and len(history) == 3

    second = wait_for_job(c, c.post("/api/v1/jobs", json=train_body(model_name)).get_json()["id"])
    assert second["version"] == 2


def test_a_duplicate_delivery_trains_once(stack, model_name):
    """Three messages for one job: one claim, one version, one 'running' event."""
    c = stack.client
    job = c.post("/api/v1/jobs", json=train_body(model_name)).get_json()
    for _ in range(2):
        assert stack.runtime.dispatcher.ring(job["id"], "cpu")
    done = wait_for_job(c, job["id"])
    assert done["status"] == "succeeded" and done["attempt"] == 1
    wait_until(lambda: queue_drained(stack.settings.redis_url), timeout=60, what="queue to drain")
    with stack.runtime.session() as s:
        versions = s.scalar(select(func.count()).select_from(ModelVersion)
                            .where(ModelVersion.job_id == job["id"]))
        running = [e for e in s.scalars(select(JobEvent).where(JobEvent.job_id == job["id"]))
                   if e.payload.get("status") == "running"]
    assert versions == 1 and len(running) == 1
    assert "nothing to do" in stack.worker.log()


def test_idempotency_key_header_creates_one_job(stack, model_name):
    headers = {"Idempotency-Key": f"key-{model_name}"}
    a = stack.client.post("/api/v1/jobs", json=train_body(model_name), headers=headers)
    b = stack.client.post("/api/v1/jobs", json=train_body(model_name), headers=headers)
    assert (a.status_code, b.status_code) == (201, 200)
    assert a.get_json()["id"] == b.get_json()["id"]
    wait_for_job(stack.client, a.get_json()["id"])


def test_downloads_of_things_that_are_not_artifacts_are_404(stack, model_name):
    c = stack.client
    done = wait_for_job(c, c.post("/api/v1/jobs", json=train_body(model_name)).get_json()["id"])
    base = f"/api/v1/models/{model_name}/versions/{done['version']}/artifacts"
    secret = stack.tmp / "secret.txt"
    secret.write_text("top secret")
    for bad in ["nope.bin", "..%2F..%2Fsecret.txt", "../../secret.txt", "%2e%2e/secret.txt",
                "..%252Fsecret.txt", "model.keras%00", "/etc/passwd"]:
        r = c.get(f"{base}/{bad}")
        # A NUL byte is refused before routing (app/web/hostile.py): 422 naming the path.
        assert r.status_code == (422 if "%00" in bad else 404), bad
        assert b"top secret" not in r.get_data()
    assert c.get(f"/api/v1/models/{model_name}/versions/99/artifacts/model.keras").status_code == 404
    assert c.get("/api/v1/models/no-such-model/versions/1/artifacts/model.keras").status_code == 404
    web = c.get(f"/models/{model_name}/versions/{done['version']}/artifacts/..%2F..%2Fsecret.txt")
    assert web.status_code == 404

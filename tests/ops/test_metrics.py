"""/metrics exposes every family docs/operations.md promises, with values from the real stack."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from app.services import workers as worker_rows
from tests.support import run_job, train_body, wait_until


def _scrape(client) -> dict[str, list]:
    r = client.get("/metrics")
    assert r.status_code == 200 and r.mimetype == "text/plain"
    return {f.name: f.samples for f in text_string_to_metric_families(r.get_data(as_text=True))}


def _value(samples, name: str, **labels) -> float | None:
    for s in samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def test_metrics_families_carry_real_values(sqlite_stack, model_name):
    c = sqlite_stack.client
    sqlite_stack.serve()
    run_job(c, train_body(model_name, params={"epochs": 3, "batch_size": 8}))
    c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1, "reason": "first"})
    assert c.post(f"/api/v1/models/{model_name}/predict", json={"instances": [[5.1, 3.5, 1.4, 0.2]]}).status_code == 200
    # A job for a queue nobody consumes waits in Redis: a queue depth of at least one.
    with sqlite_stack.runtime.session() as session:
        worker_rows.record_beat(session, "gpu0-2@elsewhere", host="elsewhere", pid=1, queues=["gpu", "gpu.2", "gpu.3"],
                                gpus=[{"index": i, "name": "NVIDIA L4"} for i in range(3)])
    parked = c.post("/api/v1/jobs", json=train_body(f"{model_name}-parked", queue="gpu", gpus=3)).get_json()
    assert parked["queue"] == "gpu.3"
    try:
        m = wait_until(lambda: (lambda f: f if _value(f["trainyard_worker_heartbeat_age_seconds"],
                                                      "trainyard_worker_heartbeat_age_seconds") is not None
                                else None)(_scrape(c)), timeout=30, what="a worker heartbeat")
        assert _value(m["trainyard_jobs"], "trainyard_jobs", status="succeeded", kind="mlp") >= 1
        assert _value(m["trainyard_jobs"], "trainyard_jobs", status="queued", kind="mlp") >= 1
        assert _value(m["trainyard_queue_depth"], "trainyard_queue_depth", queue="gpu.3") >= 1
        assert _value(m["trainyard_queue_depth"], "trainyard_queue_depth", queue="cpu") is not None
        done = _value(m["trainyard_job_duration_seconds"], "trainyard_job_duration_seconds_count", kind="mlp")
        assert done >= 1
        assert _value(m["trainyard_job_duration_seconds"], "trainyard_job_duration_seconds_sum", kind="mlp") > 0
        assert _value(m["trainyard_job_queue_wait_seconds"], "trainyard_job_queue_wait_seconds_count",
                      queue="cpu") >= 1
        ages = [s for s in m["trainyard_worker_heartbeat_age_seconds"] if s.labels["worker"] != "gpu0-2@elsewhere"]
        assert ages and all(0 <= s.value < 60 for s in ages)
        assert _value(m["trainyard_predict_latency_seconds"], "trainyard_predict_latency_seconds_count",
                      model=model_name) == 1
    finally:
        c.post(f"/api/v1/jobs/{parked['id']}/cancel")
        with sqlite_stack.runtime.session() as session:
            worker_rows.mark_stopped(session, "gpu0-2@elsewhere")


def test_metrics_without_a_token_is_a_401_not_the_login_page(sqlite_stack):
    r = sqlite_stack.anon_client.get("/metrics")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.get_json()["error"] == "unauthorized"

"""Where a job runs: queue auto resolved at submission, and the too-many-GPUs refusal (422)."""
from __future__ import annotations

from app.services import workers as worker_rows
from tests.support import train_body


def _beat(rt, name: str, gpus: int, queues: list[str]) -> None:
    with rt.session() as session:
        worker_rows.record_beat(session, name, host=name.split("@")[1], pid=4242, queues=queues,
                                gpus=[{"index": i, "name": "NVIDIA L4", "uuid": f"GPU-{name}-{i}"}
                                      for i in range(gpus)])


def test_auto_goes_to_cpu_when_no_gpu_worker_is_alive(db_stack, model_name):
    _beat(db_stack.runtime, "cpu@a", 0, ["cpu"])
    r = db_stack.client.post("/api/v1/jobs", json=train_body(model_name, queue="auto"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["queue"] == "cpu"


def test_auto_goes_to_gpu_when_a_gpu_worker_is_alive(db_stack, model_name):
    _beat(db_stack.runtime, "gpu0@a", 1, ["gpu"])
    r = db_stack.client.post("/api/v1/jobs", json=train_body(model_name, queue="auto"))
    assert r.status_code == 201 and r.get_json()["queue"] == "gpu"


def test_a_stopped_gpu_worker_does_not_count(db_stack, model_name):
    _beat(db_stack.runtime, "gpu0@a", 1, ["gpu"])
    with db_stack.runtime.session() as session:
        worker_rows.mark_stopped(session, "gpu0@a")
    r = db_stack.client.post("/api/v1/jobs", json=train_body(model_name, queue="auto"))
    assert r.get_json()["queue"] == "cpu"
    r = db_stack.client.post("/api/v1/jobs", json=train_body(model_name, queue="gpu"))
    assert r.status_code == 422
    assert "no live worker has a GPU" in r.get_json()["fields"]["gpus"]


def test_more_gpus_than_any_live_worker_is_refused_at_submission(db_stack, model_name):
    _beat(db_stack.runtime, "gpu0@a", 1, ["gpu"])
    _beat(db_stack.runtime, "gpu0-1@b", 2, ["gpu", "gpu.2"])
    r = db_stack.client.post("/api/v1/jobs", json=train_body(model_name, queue="gpu", gpus=3))
    assert r.status_code == 422
    assert r.get_json()["fields"]["gpus"].startswith("asks for 3 GPU(s) but the most any live worker has is 2")
    r = db_stack.client.post("/api/v1/jobs", json=train_body(model_name, queue="gpu", gpus=2))
    assert r.status_code == 201 and r.get_json()["queue"] == "gpu.2"
    r = db_stack.client.post("/api/v1/jobs", json=train_body(model_name, queue="auto", gpus=1))
    assert r.status_code == 201 and r.get_json()["queue"] == "gpu"


def test_bad_placement_fields_name_the_field(db_stack, model_name):
    cases = [({"queue": "tpu"}, "queue"), ({"queue": "cpu", "gpus": 1}, "gpus"),
             ({"queue": "gpu", "gpus": -1}, "gpus"), ({"queue": "gpu", "gpus": "two"}, "gpus")]
    for extra, field in cases:
        r = db_stack.client.post("/api/v1/jobs", json=train_body(model_name, **extra))
        assert r.status_code == 422, extra
        assert field in r.get_json()["fields"], r.get_json()

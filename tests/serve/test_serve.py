"""The serve process, for real: Granian, TensorFlow, Redis announcements, the web forwarding to it."""
from __future__ import annotations

import dataclasses
import io
import json
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from sklearn.datasets import load_iris

from app import create_app
from app.config import PROJECT_ROOT
from tests.support import free_port, run_job, settings_env, train_body, wait_until

IRIS = load_iris().data.tolist()


@pytest.fixture(scope="module")
def served(sqlite_stack):
    """Two versions of one model, v1 behind production, and the stack's serve process ready."""
    name = "served-iris"
    c = sqlite_stack.client
    for epochs in (2, 40):
        run_job(c, train_body(name, params={"epochs": epochs, "batch_size": 8, "learning_rate": 0.01}))
    c.post(f"/api/v1/models/{name}/aliases/production", json={"version": 1, "reason": "first"})
    sqlite_stack.serve()
    # A serve process started by an earlier test of this session learns of the alias from its announcement
    # and warms it in the background: wait for its health to list it, as a load balancer would.
    wait_until(lambda: f"{name}/production" in requests.get(f"{sqlite_stack.settings.serve_url}/health",
                                                            timeout=5).json()["aliases"],
               timeout=60, what="the serve process to warm the new alias")
    return sqlite_stack, name


def _direct(stack, name: str, rows, **params):
    """A call straight to the serve process, as the web makes it."""
    return requests.post(f"{stack.settings.serve_url}/predict/{name}", params=params, json={"instances": rows},
                         headers={"X-Serve-Key": stack.settings.serve_key}, timeout=30)


def test_ready_means_warm_and_the_first_prediction_is_not_a_cold_start(served):
    stack, name = served
    health = requests.get(f"{stack.settings.serve_url}/health", timeout=5).json()
    assert health["ready"] and health["aliases"][f"{name}/production"]["version"] == 1
    r = stack.client.post(f"/api/v1/models/{name}/predict", json={"instances": IRIS[:1]})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["version"] == 1 and r.get_json()["elapsed_ms"] < 1000  # nothing loaded on the way
    assert _direct(stack, name, IRIS[:1]).status_code == 200
    stranger = requests.post(f"{stack.settings.serve_url}/predict/{name}", json={"instances": IRIS[:1]}, timeout=5)
    assert stranger.status_code == 404  # without the web's key the serve process answers nobody


def test_concurrent_callers_are_batched_and_each_gets_its_own_rows_in_order(served):
    stack, name = served
    alone = _direct(stack, name, IRIS, version=1).json()["predictions"]  # 150 rows in one call
    before = requests.get(f"{stack.settings.serve_url}/health", timeout=5).json()["aliases"][f"{name}/production"]
    answers: dict[int, list] = {}

    def caller(i: int) -> None:
        rows = IRIS[i * 4: i * 4 + 1 + i % 4]
        for _ in range(5):
            r = _direct(stack, name, rows)
            assert r.status_code == 200, r.text
            answers.setdefault(i, []).append(r.json()["predictions"])

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(32)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    for i in range(32):
        assert len(answers[i]) == 5
        for got in answers[i]:
            want = alone[i * 4: i * 4 + 1 + i % 4]
            assert [p["label"] for p in got] == [p["label"] for p in want]
            for g, w in zip(got, want, strict=True):
                assert all(abs(g["probabilities"][k] - w["probabilities"][k]) < 1e-4 for k in w["probabilities"])
    after = requests.get(f"{stack.settings.serve_url}/health", timeout=5).json()["aliases"][f"{name}/production"]
    assert after["batches"] - before["batches"] < 160  # 160 requests ran in fewer batches


def test_promote_and_roll_back_while_requests_run_none_fail(served):
    stack, name = served
    answers: list[tuple[float, float, int]] = []  # (sent, answered, version) of every call
    failures: list[str] = []
    stop = threading.Event()

    def load() -> None:
        client = stack.client
        while not stop.is_set():
            sent = time.monotonic()
            r = client.post(f"/api/v1/models/{name}/predict", json={"instances": IRIS[:2]})
            if r.status_code != 200:
                failures.append(r.get_data(as_text=True))
            else:
                answers.append((sent, time.monotonic(), r.get_json()["version"]))

    threads = [threading.Thread(target=load) for _ in range(4)]
    [t.start() for t in threads]
    moves: list[tuple[float, int]] = []  # (when the move was asked for, the version it points at)
    try:
        c = stack.client
        for move in range(2):
            moves.append((time.monotonic(), 2))
            c.post(f"/api/v1/models/{name}/aliases/production", json={"version": 2, "reason": "swap"})
            wait_until(lambda: answers and answers[-1][2] == 2, 5, 0.02, "v2 to answer")
            swapped_in = time.monotonic() - moves[-1][0]
            moves.append((time.monotonic(), 1))
            c.post(f"/api/v1/models/{name}/aliases/production/rollback", json={"reason": "back"})
            wait_until(lambda: answers and answers[-1][2] == 1, 5, 0.02, "v1 to answer again")
            print(f"move {move}: v2 answered {swapped_in:.2f} s after the promote")
            assert swapped_in < 5
    finally:
        stop.set()
        [t.join(30) for t in threads]
    assert not failures, failures[:3]
    assert {v for _, _, v in answers} == {1, 2} and len(answers) > 20
    # The swap is atomic: once the new version has answered, a call made afterwards (and answered before the
    # next move) never gets the old one.
    for k, (asked, version) in enumerate(moves):
        until = moves[k + 1][0] if k + 1 < len(moves) else float("inf")
        first_new = min((done for sent, done, v in answers if v == version and sent >= asked), default=until)
        stale = [a for a in answers if a[0] > first_new and a[1] < until and a[2] != version]
        assert not stale, (k, version, stale[:3])


def test_a_tampered_version_is_refused_and_audited(served):
    stack, name = served
    from app.services import audit, registry

    run_job(stack.client, train_body(name, params={"epochs": 1}))  # v3, never loaded (a loaded copy stays good)
    with stack.runtime.session() as s:
        artifact = registry.get_artifact(s, name, 3, "model.keras")
    stored = stack.runtime.store.resolve(artifact.path)
    stored.write_bytes(stored.read_bytes() + b"tampered")
    r = stack.client.post(f"/api/v1/models/{name}/predict?version=3", json={"instances": IRIS[:1]})
    assert r.status_code == 409 and "checksum" in r.get_json()["message"], r.get_data(as_text=True)
    with stack.runtime.session() as s:
        logged = audit.entries(s, action="artifact.tampered")
    assert any(e.target == artifact.path and e.actor == "test-admin" for e in logged)
    assert stack.client.post(f"/api/v1/models/{name}/predict", json={"instances": IRIS[:1]}).status_code == 200


def test_while_a_serve_process_starts_the_web_answers_503_never_500(served, tmp_path):
    stack, name = served
    from tests.serve.process import start_serve, wait_ready

    settings = dataclasses.replace(stack.settings, serve_url=f"http://127.0.0.1:{free_port()}", serve_timeout_s=1)
    web = create_app(settings).test_client()
    web.environ_base["HTTP_AUTHORIZATION"] = stack.auth()["Authorization"]
    second = start_serve(settings, tmp_path / "serve-2.log")  # not listening, importing TensorFlow, warming
    statuses = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and statuses[-3:] != [200] * 3:
            r = web.post(f"/api/v1/models/{name}/predict", json={"instances": IRIS[:1]})
            statuses.append(r.status_code)
            if r.status_code == 503:
                assert "serve process" in r.get_json()["message"], r.get_json()
        wait_ready(settings, second)
    finally:
        second.stop()
    assert statuses[0] == 503 and statuses[-3:] == [200] * 3, statuses
    assert set(statuses) == {200, 503}, statuses
    assert statuses.index(200) == len(statuses) - 3, statuses  # once it answers, it keeps answering


def test_serve_down_is_a_503_from_the_web(sqlite_stack):
    settings = dataclasses.replace(sqlite_stack.settings, serve_url=f"http://127.0.0.1:{free_port()}",
                                   serve_timeout_s=2)
    app = create_app(settings)
    c = app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = sqlite_stack.auth()["Authorization"]
    r = c.post("/api/v1/models/anything/predict", json={"instances": [[1, 2, 3, 4]]})
    assert r.status_code == 503 and "serve process" in r.get_json()["message"], r.get_data(as_text=True)

    with socket.socket() as mute:  # a serve process that takes the connection and never answers: too slow
        mute.bind(("127.0.0.1", 0))
        mute.listen(8)
        settings = dataclasses.replace(settings, serve_url=f"http://127.0.0.1:{mute.getsockname()[1]}",
                                       serve_timeout_s=1)
        slow = create_app(settings).test_client()
        slow.environ_base["HTTP_AUTHORIZATION"] = sqlite_stack.auth()["Authorization"]
        started = time.monotonic()
        r = slow.post("/api/v1/models/anything/predict", json={"instances": [[1, 2, 3, 4]]})
        assert r.status_code == 503 and "ReadTimeout" in r.get_json()["message"], r.get_data(as_text=True)
        assert time.monotonic() - started < 10


def _over(r, setting: str, limit: int, field: str) -> None:
    body = r.json() if isinstance(r, requests.Response) else r.get_json()
    assert r.status_code == 413, body
    assert body["setting"] == setting and body["limit"] == limit and field in body["fields"], body
    assert f"{limit:,}" in body["message"] and setting in body["message"], body


def test_over_the_size_or_instance_limit_is_a_413_naming_the_limit(served):
    stack, name = served
    url = f"/api/v1/models/{name}/predict"
    n, size = stack.settings.max_predict_instances, stack.settings.max_predict_bytes
    _over(stack.client.post(url, json={"instances": IRIS[:1] * (n + 1)}), "MAX_PREDICT_INSTANCES", n, "instances")
    _over(_direct(stack, name, IRIS[:1] * (n + 1)), "MAX_PREDICT_INSTANCES", n, "instances")
    assert _direct(stack, name, IRIS[:1] * n).status_code == 200  # the limit itself is allowed

    headers = {"X-Serve-Key": stack.settings.serve_key, "Content-Type": "application/json"}
    big = b'{"instances": [' + b" " * size + b"]}"
    serve_url = f"{stack.settings.serve_url}/predict/{name}"
    _over(requests.post(serve_url, data=big, headers=headers, timeout=30), "MAX_PREDICT_BYTES", size, "body")
    # without a Content-Length (chunked), the body is cut off while it is read: the same 413
    chunked = requests.post(serve_url, data=iter([big[i:i + 65536] for i in range(0, len(big), 65536)]),
                            headers=headers, timeout=30)
    _over(chunked, "MAX_PREDICT_BYTES", size, "body")

    small = dataclasses.replace(stack.settings, max_predict_bytes=2000)  # the web's own limit, set low
    web = create_app(small).test_client()
    web.environ_base["HTTP_AUTHORIZATION"] = stack.auth()["Authorization"]
    body = json.dumps({"instances": IRIS[:100]}).encode()
    assert len(body) > 2000  # written here, not by the client's own (compact) JSON writer
    _over(web.post(url, data=body, content_type="application/json"), "MAX_PREDICT_BYTES", 2000, "body")
    chunked = web.post(url, input_stream=io.BytesIO(body), content_type="application/json",
                       environ_overrides={"wsgi.input_terminated": True})  # a chunked body, as Granian passes it
    _over(chunked, "MAX_PREDICT_BYTES", 2000, "body")
    assert web.post(url, json={"instances": IRIS[:10]}).status_code == 200  # under it: forwarded and answered


def test_a_malformed_instance_is_a_400_naming_it_at_serve_too(served):
    stack, name = served
    for rows, field in (([IRIS[0], [1, 2, "x", 4]], "instances[1][2]"), ([IRIS[0], IRIS[1][:3]], "instances[1]"),
                        ([IRIS[0], {"sepal length (cm)": 1}], "instances[1]")):
        r = _direct(stack, name, rows)
        assert r.status_code == 400 and field in r.json()["fields"], r.text


RSS_PROBE = """
import json, sys
from app import create_app

name, token = sys.argv[1], sys.argv[2]
c = create_app().test_client()
c.environ_base["HTTP_AUTHORIZATION"] = token
for _ in range(20):  # ordinary API calls first: what the web holds without serving
    assert c.get(f"/api/v1/models/{name}/aliases").status_code == 200
rss = lambda: int(next(line for line in open("/proc/self/status") if line.startswith("VmRSS")).split()[1])
before = rss()
for _ in range(1000):
    r = c.post(f"/api/v1/models/{name}/predict", json={"instances": [[5.1, 3.5, 1.4, 0.2]]})
    assert r.status_code == 200, r.get_data(as_text=True)
loaded = [m for m in ("tensorflow", "keras") if m in sys.modules]
print(json.dumps({"before": before, "after": rss(), "loaded": loaded}))
"""


def test_the_web_s_memory_stays_flat_over_1000_predictions(served):
    stack, name = served
    out = subprocess.run([sys.executable, "-c", RSS_PROBE, name, stack.auth()["Authorization"]], cwd=PROJECT_ROOT,
                         env=settings_env(stack.settings), capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["loaded"] == [] and got["after"] <= got["before"] * 1.10, got

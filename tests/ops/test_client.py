"""The Python client and the ``trainyard`` command against a live server: submit -> wait -> download, verified."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading

import pytest
from werkzeug.serving import make_server

from app.config import PROJECT_ROOT
from app.services import workers as worker_rows
from tests.support import free_port
from trainyard_client import ApiError, ChecksumMismatch, TrainyardClient
from trainyard_client.cli import config_path, main


class Recorder:
    """WSGI middleware that remembers what each request carried and how it was answered."""

    def __init__(self, app) -> None:
        self.app, self.seen = app, []

    def __call__(self, environ, start_response):
        entry = {"path": environ["PATH_INFO"], "auth": environ.get("HTTP_AUTHORIZATION"),
                 "range": environ.get("HTTP_RANGE")}
        self.seen.append(entry)

        def recording(status, headers, *args):
            entry["status"] = int(status.split()[0])
            return start_response(status, headers, *args)

        return self.app(environ, recording)


@pytest.fixture(scope="module")
def server(sqlite_stack):
    recorder = Recorder(sqlite_stack.app)
    port = free_port()
    httpd = make_server("127.0.0.1", port, recorder, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", recorder
    httpd.shutdown()


@pytest.fixture(scope="module")
def token(sqlite_stack) -> str:
    """A real admin API token: the server checks it."""
    return sqlite_stack.account("admin")[2]


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("TRAINYARD_URL", raising=False)
    monkeypatch.delenv("TRAINYARD_TOKEN", raising=False)
    return tmp_path / "config"


def test_cli_login_submit_wait_download(server, token, config_home, tmp_path, model_name, capsys):
    url, recorder = server
    assert main(["login", "--url", url, "--token", token]) == 0
    saved = config_path()
    assert json.loads(saved.read_text()) == {"url": url, "token": token}
    assert saved.stat().st_mode & 0o777 == 0o600
    params = tmp_path / "params.yaml"
    params.write_text("epochs: 2\nbatch_size: 16\nlearning_rate: 0.01\n")
    code = main(["submit", "mlp", "--dataset", "iris", "--model", model_name, "--params-file", str(params),
                 "--param", "epochs=3", "--wait", "--timeout", "240"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"{model_name} v1" in out and "100.0%" in err and "epoch 3/3" in err  # the bar reached the end
    assert all(r["auth"] == f"Bearer {token}" for r in recorder.seen if r["path"].startswith("/api/"))

    assert main(["download", model_name, "1", "--out", str(tmp_path / "v1")]) == 0
    c = TrainyardClient(url, token)
    for a in c.version(model_name, 1)["artifacts"]:
        data = (tmp_path / "v1" / a["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == a["sha256"] and len(data) == a["size_bytes"]
    assert not list((tmp_path / "v1").glob("*.part"))
    assert main(["versions", model_name]) == 0
    listed = capsys.readouterr().out
    assert "v1" in listed and "test_accuracy" in listed


def test_download_resumes_with_a_range_request_and_refuses_a_bad_file(server, token, tmp_path, model_name):
    url, recorder = server
    c = TrainyardClient(url, token)
    job = c.submit("mlp", "iris", model_name, {"epochs": 2, "batch_size": 16})
    assert c.wait(job["id"], timeout=240)["status"] == "succeeded"
    whole = c.download(model_name, 1, "model.keras", tmp_path / "a" / "model.keras").read_bytes()
    # An interrupted download: the first half is on disk. The client asks for the rest only.
    dest = tmp_path / "b" / "model.keras"
    dest.parent.mkdir()
    dest.with_name("model.keras.part").write_bytes(whole[: len(whole) // 2])
    recorder.seen.clear()
    assert c.download(model_name, 1, "model.keras", dest).read_bytes() == whole
    ranged = [r for r in recorder.seen if r["path"].endswith("/artifacts/model.keras")]
    assert ranged[-1]["range"] == f"bytes={len(whole) // 2}-" and ranged[-1]["status"] == 206
    # A partial file that is not a prefix of the real one fails the checksum and is not kept.
    bad = tmp_path / "c" / "model.keras"
    bad.parent.mkdir()
    bad.with_name("model.keras.part").write_bytes(b"\0" * (len(whole) // 2))
    with pytest.raises(ChecksumMismatch):
        c.download(model_name, 1, "model.keras", bad)
    assert not bad.exists() and not bad.with_name("model.keras.part").exists()


def test_client_lifecycle_calls(server, token, sqlite_stack, model_name):
    url, _ = server
    c = TrainyardClient(url, token)
    job = c.submit("mlp", "iris", model_name, {"epochs": 2, "batch_size": 16})
    assert c.wait(job["id"], timeout=240)["status"] == "succeeded"
    job2 = c.submit("mlp", "iris", model_name, {"epochs": 2, "batch_size": 16})
    assert c.wait(job2["id"], timeout=240)["status"] == "succeeded"
    assert any(e["kind"] == "log" for e in c.logs(job["id"]))
    assert [v["version"] for v in c.versions(model_name)] == [2, 1]
    c.promote(model_name, 1, reason="first")
    c.promote(model_name, 2, reason="better")
    assert c.rollback(model_name, reason="oops")["version"] == 1
    with pytest.raises(ApiError) as err:
        c.submit("mlp", "iris", model_name, {"epochs": 2}, queue="tpu")
    assert err.value.status == 422 and "queue" in err.value.fields
    # A job parked on a queue nobody consumes (gpu.3) is still queued: cancelling it is immediate.
    with sqlite_stack.runtime.session() as session:
        worker_rows.record_beat(session, "gpu0-2@client-test", host="client-test", pid=2, queues=["gpu", "gpu.3"],
                                gpus=[{"index": i, "name": "NVIDIA L4"} for i in range(3)])
    try:
        parked = c.submit("mlp", "iris", model_name, {"epochs": 2}, queue="gpu", gpus=3)
        assert parked["queue"] == "gpu.3"
        assert c.cancel(parked["id"])["status"] == "cancelled"
    finally:
        with sqlite_stack.runtime.session() as session:
            worker_rows.mark_stopped(session, "gpu0-2@client-test")


def test_the_client_needs_neither_flask_nor_tensorflow():
    code = ("import sys, trainyard_client.cli; "
            "bad = [m for m in ('flask', 'tensorflow', 'sqlalchemy', 'celery') if m in sys.modules]; "
            "assert not bad, bad")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    assert out.returncode == 0, out.stderr


def test_the_saved_token_goes_only_to_its_server_and_a_wrong_token_is_not_saved(server, token, config_home):
    from trainyard_client.cli import _client, build_parser
    from trainyard_client.client import safe_name

    url, _ = server
    assert main(["login", "--url", url, "--token", "ty_wrong"]) != 0
    assert not config_path().exists()
    assert main(["login", "--url", url, "--token", token]) == 0
    elsewhere = _client(build_parser().parse_args(["--url", "http://other.example", "status", "x"]))
    assert elsewhere.http.headers.get("Authorization") is None
    for bad in ("../x", "/etc/passwd", "a/b", ".bashrc", ""):
        assert not safe_name(bad)
    assert safe_name("model.keras")


def test_the_cli_tells_the_truth_about_batch_jobs_cancels_and_a_closed_pipe(server, token, config_home,
                                                                            model_name, capsys):
    url, _ = server
    assert main(["login", "--url", url, "--token", token]) == 0
    c = TrainyardClient(url, token)
    trained = c.submit("mlp", "iris", model_name, {"epochs": 2, "batch_size": 16})
    assert c.wait(trained["id"], timeout=240)["status"] == "succeeded"
    infer = c._request("POST", "/jobs", json={"type": "infer", "model_name": model_name, "version": 1,
                                              "dataset": "iris"})
    capsys.readouterr()
    assert main(["wait", infer["id"], "--timeout", "240"]) == 0
    out, err = capsys.readouterr()
    assert f"scored 150 of 150 rows (0 refused) with {model_name} v1" in out, out
    assert "predictions" in out and "/api/v1/jobs/" in out  # its output files, with their URLs
    assert "rows 150 scored" in err and "epoch 0/0" not in err

    long = c.submit("mlp", "digits", model_name, {"epochs": 1000, "batch_size": 8})
    assert main(["cancel", long["id"], "--timeout", "240"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["status"] == "cancelled"

    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home), "PYTHONPATH": str(PROJECT_ROOT)}
    piped = subprocess.run(f"{sys.executable} -m trainyard_client status {trained['id']} | head -c 5", shell=True,
                           env=env, capture_output=True, text=True, timeout=120)
    assert piped.stdout == "{\n  \"" and "Traceback" not in piped.stderr, piped.stderr

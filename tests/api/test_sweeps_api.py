"""The sweeps API: 422s that name the field, the owner rule, pause/resume/cancel, and the `trainyard sweep` command."""
from __future__ import annotations

import pytest
import yaml

from app.services.usecases.sweep import advance_sweeps


def body(model_name, **overrides):
    out = {"kind": "mlp", "dataset": "iris", "model_name": model_name, "metric": "val_accuracy",
           "strategy": "asha", "space": {"hidden_units": [4, 8, 16], "learning_rate": {"min": 0.001, "max": 0.1,
                                                                                        "scale": "log"}},
           "budget": {"trials": 4, "parallel": 2, "epochs": 3}}
    out.update(overrides)
    return out


@pytest.mark.parametrize("change, field", [
    ({"space": {"dropout": {"min": 0.0, "max": 2.0}}}, "space.dropout.max"),
    ({"space": {}}, "space"),
    ({"metric": "bleu"}, "metric"),
    ({"budget": {"trials": 0, "parallel": 1, "epochs": 3}}, "budget.trials"),
    ({"space": {"hidden_units": ["many"]}}, "space.hidden_units.0"),
    ({"kind": "word2vec", "dataset": "lee_background", "space": {"vector_size": [8, 16]}}, "metric"),
])
def test_bad_input_is_a_422_naming_the_field(db_stack, model_name, change, field):
    r = db_stack.client.post("/api/v1/sweeps", json=body(model_name, **change))
    assert r.status_code == 422, r.get_data(as_text=True)
    assert field in r.get_json()["fields"]


def test_create_read_pause_resume_cancel(db_stack, model_name):
    c = db_stack.client_as("member")
    r = c.post("/api/v1/sweeps", json=body(model_name))
    assert r.status_code == 201, r.get_json()
    sweep = r.get_json()
    assert r.headers["Location"] == sweep["url"] and sweep["status"] == "running"
    assert sweep["space"]["hidden_units"] == {"type": "list", "values": [4, 8, 16]}
    advance_sweeps(db_stack.runtime)
    got = c.get(sweep["url"]).get_json()
    assert len(got["trials"]) == 2 and all(t["status"] == "running" for t in got["trials"])
    assert db_stack.client_as("viewer").post(f"{sweep['url']}/pause").status_code == 403
    assert c.post(f"{sweep['url']}/pause").get_json()["status"] == "paused"
    assert c.post(f"{sweep['url']}/pause").status_code == 409
    assert c.post(f"{sweep['url']}/resume").get_json()["status"] == "running"
    assert c.post(f"{sweep['url']}/register").status_code == 409  # no completed trial yet
    cancelled = c.post(f"{sweep['url']}/cancel").get_json()
    assert cancelled["status"] == "cancelled"
    jobs = [c.get(f"/api/v1/jobs/{t['job_id']}").get_json()["status"] for t in cancelled["trials"]]
    assert jobs == ["cancelled", "cancelled"]  # still queued: cancelled at once
    assert any(s["id"] == sweep["id"] for s in c.get("/api/v1/sweeps").get_json()["items"])


def test_the_command_line_creates_a_sweep_from_yaml(db_stack, model_name, tmp_path, capsys, monkeypatch):
    import threading

    from werkzeug.serving import make_server

    from tests.support import free_port
    from trainyard_client.cli import main

    port = free_port()
    httpd = make_server("127.0.0.1", port, db_stack.app, threaded=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        monkeypatch.setenv("TRAINYARD_TOKEN", db_stack.account("member")[2])
        url = f"http://127.0.0.1:{port}"
        good = tmp_path / "sweep.yaml"
        good.write_text(yaml.safe_dump(body(model_name)))
        assert main(["--url", url, "sweep", "create", str(good)]) == 0
        out = capsys.readouterr()
        assert "sweep" in out.out and "asha" in out.out and "created sweep" in out.err
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(body(model_name, budget={"trials": 0, "parallel": 1, "epochs": 1})))
        assert main(["--url", url, "sweep", "create", str(bad)]) == 2
        assert "budget.trials" in capsys.readouterr().err
        assert main(["--url", url, "sweep", "list"]) == 0
        assert model_name in capsys.readouterr().out
    finally:
        httpd.shutdown()

"""Kinds from installed packages: a broken one is listed and harms nothing, a kind only the web has is
refused at submit, and a kind scaffolded by ``trainyard kinds new`` installs, is listed and trains."""
from __future__ import annotations

import subprocess
import sys

import pytest

from app import create_app
from app.config import PROJECT_ROOT
from tests.kinds.packages import broken_package, pip_install, visible, worker_env
from tests.support import wait_until

pytestmark = pytest.mark.faults  # private redis-server and worker processes


def _worker(c, prefix: str) -> dict:
    items = c.client.get("/api/v1/workers").get_json()["items"]
    return next((w for w in items if w["name"].startswith(prefix) and w["alive"]), {})


def test_broken_kind_packages_are_listed_and_every_other_kind_trains(cluster, tmp_path):
    c = cluster
    target = pip_install(broken_package(tmp_path), tmp_path / "site")
    w = c.start_worker("w", extra_env=worker_env(target))
    with visible(target):
        app = create_app(c.settings)  # the platform starts with the broken package installed
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {c.token}"
        assert client.get("/api/v1/health").status_code == 200
        body = client.get("/api/v1/kinds").get_json()
        broken = {b["name"]: b for b in body["broken"]}
        assert set(broken) == {"explodes", "invalid", "mlp"}
        assert "import failed" in broken["explodes"]["error"] and "cannot be imported" in broken["explodes"]["error"]
        assert "invalid spec" in broken["invalid"]["error"] and "audio" in broken["invalid"]["error"]
        assert "taken by package 'trainyard'" in broken["mlp"]["error"]
        assert all(b["package"] == "trainyard-broken-kinds" for b in broken.values())
        mlp = next(k for k in body["items"] if k["name"] == "mlp")
        assert mlp["package"] == "trainyard"  # the built-in kept its name
        # The worker lists the same, and trains the other kinds.
        row = wait_until(lambda: (r := _worker(c, "w@")) and len(r.get("broken_kinds") or []) == 3 and r,
                         timeout=120, what="the worker to advertise its broken kinds")
        assert {b["name"] for b in row["broken_kinds"]} == {"explodes", "invalid", "mlp"}
        done = c.wait_done(c.submit("after-broken", epochs=2), timeout=240)
        assert done["status"] == "succeeded", done["error"]
        # The package's valid kind trains on the same worker; running out of memory says what to lower.
        r = client.post("/api/v1/jobs", json={"kind": "oom", "dataset": "iris", "model_name": "oom-model",
                                               "params": {"batch_size": 4096}})
        assert r.status_code == 201, r.get_data(as_text=True)
        failed = c.wait_done(r.get_json()["id"], timeout=240)
        assert failed["status"] == "failed"
        assert failed["error"].startswith("out of memory while training: lower batch_size (now 4096)")
        page = client.get("/workers").get_data(as_text=True)
        assert "Broken kinds" in page and "this kind cannot be imported" in page
    assert "is broken and not offered" in w.log.read_text(errors="replace")


def test_a_scaffolded_kind_is_refused_until_a_worker_has_it_then_trains(cluster, tmp_path):
    c = cluster
    made = subprocess.run([sys.executable, "-m", "trainyard_client", "kinds", "new", "scaffolded",
                           "--dir", str(tmp_path)], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    root = tmp_path / "trainyard-scaffolded"
    assert str(root) in made.stdout
    target = pip_install(root, tmp_path / "site")
    plain = c.start_worker("plain")
    wait_until(lambda: _worker(c, "plain@").get("kinds"), timeout=120, what="the worker to advertise its kinds")
    body = {"kind": "scaffolded", "dataset": "iris", "model_name": "scaffolded-model",
            "params": {"epochs": 30, "learning_rate": 0.02}}
    with visible(target):
        listed = {k["name"]: k for k in c.client.get("/api/v1/kinds").get_json()["items"]}
        assert listed["scaffolded"]["package"] == "trainyard-scaffolded"
        assert "val_accuracy" in listed["scaffolded"]["epoch_metrics"]  # what a sweep of it may optimise
        r = c.client.post("/api/v1/jobs", json=body)
        assert r.status_code == 422, r.get_data(as_text=True)
        assert "'scaffolded'" in r.get_json()["fields"]["kind"]
        page = c.client.get("/workers").get_data(as_text=True)
        assert "kind &#39;scaffolded&#39; is installed on the web but not on this worker" in page
        # Install it on a worker (and take the one without it away): now it trains.
        plain.stop()
        c.start_worker("has", extra_env=worker_env(target))
        wait_until(lambda: "scaffolded" in (_worker(c, "has@").get("kinds") or {}), timeout=120,
                   what="the new worker to advertise the kind")
        r = c.client.post("/api/v1/jobs", json=body)
        assert r.status_code == 201, r.get_data(as_text=True)
        done = c.wait_done(r.get_json()["id"], timeout=240)
        assert done["status"] == "succeeded", done["error"]
        assert done["metrics"]["test_accuracy"] >= 0.8
        version = c.client.get("/api/v1/models/scaffolded-model/versions/1").get_json()
        assert (version["framework"]["kind_package"], version["framework"]["kind_version"]) == \
            ("trainyard-scaffolded", "0.1.0")

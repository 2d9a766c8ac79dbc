"""The example kind package (examples/trainyard-attention, installed by scripts/test.sh) end to end on a
real worker: progress, cancel, a kill -9 resumed from its checkpoint, the version and its lineage,
download, prediction on plain strings and batch scoring; the same as a built-in kind."""
from __future__ import annotations

import hashlib

import pytest

from app.kinds import KINDS
from tests.support import upload

pytestmark = pytest.mark.faults  # a private redis-server, a worker whose child is killed, beat

PARAMS = {"batch_size": 16, "learning_rate": 0.01, "units": 16, "embedding_dim": 16, "sequence_length": 24}


def _submit(c, model: str, epochs: int) -> str:
    r = c.client.post("/api/v1/jobs", json={"kind": "attention", "dataset": "attention-texts", "model_name": model,
                                             "params": {**PARAMS, "epochs": epochs}})
    assert r.status_code == 201, r.get_data(as_text=True)
    return r.get_json()["id"]


def test_the_attention_kind_trains_resumes_serves_and_scores_like_a_builtin(cluster):
    assert "attention" in KINDS, "scripts/test.sh installs examples/trainyard-attention (pip install -e)"
    from trainyard_attention.sample import csv_text

    c = cluster
    w = c.start_worker("att")
    c.start_beat()
    assert upload(c.client, "attention-texts", "text", csv_text(600).encode()).status_code == 201

    # Cancel: a running job stops at the next batch and registers nothing.
    doomed = _submit(c, "attention-cancelled", 500)
    c.wait_epoch(doomed, 1, timeout=240)
    assert c.client.post(f"/api/v1/jobs/{doomed}/cancel").status_code == 202
    assert c.wait_done(doomed)["status"] == "cancelled" and c.versions_of(doomed) == 0

    # kill -9 of the job's process: the next attempt resumes from the last epoch's checkpoint.
    job = _submit(c, "attention-model", 30)
    c.wait_epoch(job, 3, timeout=240)
    c.kill_child(w)
    done = c.wait_done(job, timeout=400)
    assert done["status"] == "succeeded", done["error"]
    m = done["metrics"]
    assert m["resumed_from_epoch"] >= 3 and m["test_accuracy"] >= 0.9, m
    assert (done["epoch"], done["total_epochs"], done["progress"], m["epochs_run"]) == (30, 30, 1.0, 30)
    epoch_ends = [e for e in c.events(job) if e["kind"] == "epoch"]
    assert len(epoch_ends) >= 30 and "loss" in epoch_ends[-1]  # per-epoch metrics were streamed

    version = c.client.get("/api/v1/models/attention-model/versions/1").get_json()
    assert version["framework"]["kind_package"] == "trainyard-attention"
    assert version["framework"]["kind_version"] == "0.1.0"
    art = next(a for a in version["artifacts"] if a["name"] == "model.keras")
    got = c.client.get(art["url"])
    assert got.status_code == 200 and hashlib.sha256(got.data).hexdigest() == art["sha256"]

    # Prediction on plain strings, through the production alias (the serve process warms it at start).
    c.client.post("/api/v1/models/attention-model/aliases/production", json={"version": 1, "reason": "first"})
    c.start_serve()
    r = c.client.post("/api/v1/models/attention-model/predict",
                      json={"instances": ["the storm and rain today", "a penalty in the match", "the bank loan"]})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert [p["label"] for p in r.get_json()["predictions"]] == ["weather", "sport", "money"]

    # Batch scoring of a whole text file with that version.
    r = c.client.post("/api/v1/jobs", json={"type": "infer", "model_name": "attention-model",
                                            "dataset": "attention-texts"})
    assert r.status_code == 201, r.get_data(as_text=True)
    scored = c.wait_done(r.get_json()["id"], timeout=240)
    assert scored["status"] == "succeeded", scored["error"]
    assert scored["metrics"]["scored"] == 600 and scored["metrics"]["errors"] == 0
    assert set(scored["metrics"]["label_distribution"]) == {"money", "sport", "weather"}
    assert c.versions_of(job) == 1

"""A downloaded text model predicts on plain strings: its model.keras with the predict.py shipped beside it.

Downloaded through the API and run in a fresh Python that has keras and tensorflow but not this repository
on its path, as a person would run it on their own machine.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support import learnable_texts, run_job, upload

PROBE = """
import json, numpy as np, predict
model = predict.load("model.keras")
texts = ["good film", "bad film", "a wonderful superb film", "dreadful and boring plot"]
as_list = model.predict(texts)
as_array = model.predict(np.array(texts))
as_objects = model.predict(np.array(texts, dtype=object).reshape(-1, 1))
print(json.dumps({"shape": list(as_list.shape), "best": as_list.argmax(1).tolist(),
                  "same": bool(np.allclose(as_list, as_array) and np.allclose(as_list, as_objects))}))
"""


def _download(client, name: str, version: int, folder: Path) -> None:
    artifacts = {a["name"] for a in client.get(f"/api/v1/models/{name}/versions/{version}").get_json()["artifacts"]}
    assert {"model.keras", "predict.py"} <= artifacts, artifacts
    for file in ("model.keras", "predict.py"):
        r = client.get(f"/api/v1/models/{name}/versions/{version}/artifacts/{file}")
        assert r.status_code == 200, r.get_data(as_text=True)
        (folder / file).write_bytes(r.get_data())


def _run(folder: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def _texts_dataset(client, name: str) -> str:
    csv = "text,label\n" + "\n".join(f"{t},{label}" for t, label in learnable_texts())
    r = upload(client, f"texts-{name}", "text", csv.encode())
    assert r.status_code == 201, r.get_data(as_text=True)
    return f"{r.get_json()['name']}:{r.get_json()['version']}"


def _check(client, name: str, folder: Path, learned: bool = True) -> None:
    _download(client, name, 1, folder)
    got = json.loads(_run(folder, "-c", PROBE).strip().splitlines()[-1])
    classes = client.get(f"/api/v1/models/{name}/versions/1").get_json()["metrics"]["class_names"]
    assert got["shape"] == [4, len(classes)] and got["same"], got
    if learned:
        assert [classes[i] for i in got["best"][2:]] == ["pos", "neg"], (classes, got)
    rows = _run(folder, "predict.py", "model.keras", "a wonderful superb film", "dull").strip().splitlines()
    assert len(rows) == 2 and all(len(r.split()) == len(classes) for r in rows), rows


def test_a_downloaded_text_model_predicts_on_a_list_and_a_numpy_array(sqlite_stack, model_name, tmp_path):
    c = sqlite_stack.client
    run_job(c, {"kind": "text", "dataset": _texts_dataset(c, model_name), "model_name": model_name,
                "params": {"epochs": 15, "embedding_dim": 16, "learning_rate": 0.01}})
    _check(c, model_name, tmp_path)


def test_a_downloaded_hierarchical_model_takes_plain_strings_too(sqlite_stack, model_name, tmp_path):
    c = sqlite_stack.client
    run_job(c, {"kind": "word2vec", "dataset": "lee_background", "model_name": f"{model_name}-emb",
                "params": {"epochs": 1, "vector_size": 12, "min_count": 2}})
    run_job(c, {"kind": "hierarchical", "dataset": _texts_dataset(c, model_name), "model_name": model_name,
                "params": {"embedding": f"{model_name}-emb:1", "epochs": 1, "units": 4}})
    _check(c, model_name, tmp_path, learned=False)  # one epoch: the shape and the inputs are what count here

"""The predict API serves a model's production version (or one chosen), with checked input.

Through the web, forwarded to a real serve process (tests/serve/ tests the process itself)."""
from __future__ import annotations

import os

from sklearn.datasets import load_iris

from tests.support import learnable_texts, run_job, upload, wait_until


def test_predict_with_the_production_version(sqlite_stack, model_name):
    c = sqlite_stack.client
    sqlite_stack.serve()
    run_job(c, {"kind": "mlp", "dataset": "iris", "model_name": model_name,
                "params": {"epochs": 60, "batch_size": 8, "learning_rate": 0.01}})
    url = f"/api/v1/models/{model_name}/predict"
    assert c.post(url, json={"instances": [[1, 2, 3, 4]]}).status_code == 404  # nothing promoted yet
    c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1, "reason": "first"})
    iris = load_iris()
    rows = [iris.data[0].tolist(), iris.data[75].tolist(), iris.data[149].tolist()]
    r = c.post(url, json={"instances": rows})
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["version"] == 1 and body["answered_by"] == "alias production"
    assert [p["label"] for p in body["predictions"]] == ["setosa", "versicolor", "virginica"]
    assert abs(sum(body["predictions"][0]["probabilities"].values()) - 1) < 1e-3
    named = dict(zip(iris.feature_names, iris.data[0].tolist(), strict=True))
    assert c.post(f"{url}?version=1", json={"instances": [named]}).get_json()["predictions"][0]["label"] == "setosa"

    for bad, field in (([[1, 2, 3]], "instances[0]"), ([[1, 2, "x", 4]], "instances[0][2]"),
                       ([], "instances"), ("rows", "instances"), ([[1, 2, 3, float("inf")]], "instances[0][3]")):
        if bad == [[1, 2, 3, float("inf")]]:  # JSON has no infinity; Python's parser accepts this spelling
            r = c.post(url, data='{"instances": [[1, 2, 3, Infinity]]}', content_type="application/json")
        else:
            r = c.post(url, json={"instances": bad})
        assert r.status_code == 400, (bad, r.get_data(as_text=True))
        assert field in r.get_json()["fields"]
    too_many = c.post(url, json={"instances": [[0, 0, 0, 0]] * 1001})
    assert too_many.status_code == 413 and too_many.get_json()["setting"] == "MAX_PREDICT_INSTANCES"
    assert c.post(f"{url}?alias=staging", json={"instances": rows}).status_code == 404
    assert c.post("/api/v1/models/nope/predict", json={"instances": rows}).status_code == 404

    # A model already loaded is checked again once its file changes: one byte flipped in place, with
    # size and mtime kept, is refused (409, audited), not answered from the cache.
    from app.services import registry
    from tests.api.test_downloads import flip_a_byte

    with sqlite_stack.runtime.session() as s:
        artifact = registry.get_artifact(s, model_name, 1, "model.keras")
    stored = sqlite_stack.runtime.store.resolve(artifact.path)
    os.utime(stored)  # touched, bytes unchanged: checked again and still answered
    assert c.post(url, json={"instances": rows}).status_code == 200
    flip_a_byte(stored)
    refused = c.post(url, json={"instances": rows})
    assert refused.status_code == 409 and "checksum" in refused.get_json()["message"]
    from app.services import audit

    with sqlite_stack.runtime.session() as s:
        logged = audit.entries(s, action="artifact.tampered")
    assert logged and logged[0].target == artifact.path and logged[0].actor == "test-admin"
    assert "fails its checksum" in logged[0].detail["error"]


def test_predict_raw_text(sqlite_stack, model_name):
    c = sqlite_stack.client
    sqlite_stack.serve()
    rows = learnable_texts()
    csv = "text,label\n" + "\n".join(f"{t},{label}" for t, label in rows)
    assert upload(c, f"texts-{model_name}", "text", csv.encode()).status_code == 201
    run_job(c, {"kind": "text", "dataset": f"texts-{model_name}", "model_name": model_name,
                "params": {"epochs": 15, "embedding_dim": 16, "learning_rate": 0.01}})
    c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1, "reason": "first"})
    r = c.post(f"/api/v1/models/{model_name}/predict",
               json={"instances": ["a wonderful superb film", "dreadful and boring plot"]})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert [p["label"] for p in r.get_json()["predictions"]] == ["pos", "neg"]
    assert c.post(f"/api/v1/models/{model_name}/predict", json={"instances": [""]}).status_code == 400


def test_promote_and_roll_back_change_who_answers_without_a_restart(sqlite_stack, model_name):
    c = sqlite_stack.client
    sqlite_stack.serve()
    for epochs in (1, 2):
        run_job(c, {"kind": "mlp", "dataset": "iris", "model_name": model_name, "params": {"epochs": epochs}})
    url = f"/api/v1/models/{model_name}/predict"
    rows = {"instances": [load_iris().data[0].tolist()]}
    c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1, "reason": "first"})
    assert c.post(url, json=rows).get_json()["version"] == 1
    # The serve process hears of a move on Redis and swaps within a second or two.
    c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 2, "reason": "better"})
    wait_until(lambda: c.post(url, json=rows).get_json()["version"] == 2, 3, 0.05, "v2 to answer")
    c.post(f"/api/v1/models/{model_name}/aliases/production/rollback", json={"reason": "worse in the field"})
    wait_until(lambda: c.post(url, json=rows).get_json()["version"] == 1, 3, 0.05, "v1 to answer again")
    answer = c.post(url, json=rows).get_json()
    assert answer["version"] == 1 and answer["answered_by"] == "alias production"


def test_words_answers_most_similar_and_vectors(sqlite_stack, model_name):
    c = sqlite_stack.client
    sqlite_stack.serve()
    run_job(c, {"kind": "word2vec", "dataset": "lee_background", "model_name": model_name,
                "params": {"epochs": 1, "vector_size": 12, "min_count": 2}})
    c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1, "reason": "first"})
    url = f"/api/v1/models/{model_name}/predict"
    r = c.post(url, json={"most_similar": ["government"], "vectors": ["the"], "topn": 4})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert len(body["most_similar"]["government"]) == 4 and len(body["vectors"]["the"]) == 12
    assert body["most_similar"]["government"][0]["similarity"] <= 1
    bad = c.post(url, json={"most_similar": ["zzznotaword"]})
    assert bad.status_code == 400 and "most_similar[0]" in bad.get_json()["fields"]
    assert c.post(url, json={"instances": [[1]]}).status_code == 400

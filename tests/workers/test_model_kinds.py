"""Every model kind trains end to end through a real worker, with honest held-out metrics."""
from __future__ import annotations

import io
import math

import numpy as np
import pytest

from tests.support import assert_accuracy_measured_on_the_test_split, learnable_texts, run_job, upload


def _version(client, done):
    return client.get(f"/api/v1/models/{done['model_name']}/versions/{done['version']}").get_json()


@pytest.mark.parametrize(("kind", "dataset", "params", "floor"), [
    ("mlp", "digits", {"epochs": 30}, 0.95),
    ("cnn", "digits_images", {"epochs": 15}, 0.96),
    ("mlp", "breast_cancer", {"epochs": 30}, 0.93),
])
def test_builtin_floors(sqlite_stack, model_name, kind, dataset, params, floor):
    done = run_job(sqlite_stack.client, {"kind": kind, "dataset": dataset, "model_name": model_name,
                                         "params": params})
    v = _version(sqlite_stack.client, done)
    m = v["metrics"]
    assert m["test_accuracy"] >= floor
    for key in ("test_macro_precision", "test_macro_recall", "test_macro_f1", "train_seconds",
                "param_count", "samples_per_second"):
        assert m[key] > 0, key
    n = len(m["class_names"])
    assert len(m["confusion_matrix"]) == n
    assert sum(map(sum, m["confusion_matrix"])) == m["split"]["test_rows"]
    names = {a["name"] for a in v["artifacts"]}
    assert {"model.keras", "preprocessing.json", "metrics.json", "history.csv", "training_curves.png",
            "confusion_matrix.png"} <= names
    png_url = next(a["url"] for a in v["artifacts"] if a["name"] == "confusion_matrix.png")
    png = sqlite_stack.client.get(png_url)
    assert png.get_data()[:8] == b"\x89PNG\r\n\x1a\n"


def test_word2vec_on_lee_background(sqlite_stack, model_name):
    done = run_job(sqlite_stack.client, {"kind": "word2vec", "dataset": "lee_background",
                                         "model_name": model_name, "params": {"epochs": 5}})
    v = _version(sqlite_stack.client, done)
    m = v["metrics"]
    assert m["vocabulary_size"] >= 1000
    assert m["wordsim353_spearman"] is not None and math.isfinite(m["wordsim353_spearman"])
    assert m["words_per_second"] > 0
    assert m["analogy_evaluated"] > 0 and 0 <= m["analogy_accuracy"] <= 1
    assert {"word2vec.model", "vectors.txt", "metrics.json"} <= {a["name"] for a in v["artifacts"]}


def test_text_kinds_learn_an_uploaded_text_file(sqlite_stack, model_name):
    rows = learnable_texts()
    csv = "text,label\n" + "\n".join(f"{t},{label}" for t, label in rows)
    r = upload(sqlite_stack.client, f"reviews-{model_name}", "text", csv.encode())
    assert r.status_code == 201, r.get_data(as_text=True)
    ds = f"{r.get_json()['name']}:{r.get_json()['version']}"
    for kind, params in (("text", {"epochs": 15, "embedding_dim": 16, "learning_rate": 0.01}),
                         ("rnn", {"epochs": 4, "units": 16, "embedding_dim": 16, "cell": "gru",
                                  "bidirectional": True, "learning_rate": 0.01})):
        done = run_job(sqlite_stack.client, {"kind": kind, "dataset": ds,
                                             "model_name": f"{model_name}-{kind}", "params": params})
        v = _version(sqlite_stack.client, done)
        assert v["metrics"]["test_accuracy"] >= 0.9, (kind, v["metrics"])
        assert "vocabulary.txt" in {a["name"] for a in v["artifacts"]}


def test_hierarchical_trains_two_linked_jobs_and_records_lineage(sqlite_stack, model_name):
    c = sqlite_stack.client
    done = run_job(c, {"kind": "hierarchical", "dataset": "pang_lee_polarity", "model_name": model_name,
                       "params": {"corpus": "lee_background", "w2v_epochs": 2, "w2v_vector_size": 16,
                                  "epochs": 2, "units": 8, "freeze_embeddings": True}})
    assert done["depends_on"] and done["input_version"]["model_name"] == f"{model_name}-embeddings"
    stage1 = c.get(f"/api/v1/jobs/{done['depends_on']}").get_json()
    assert stage1["kind"] == "word2vec" and stage1["status"] == "succeeded"
    v = _version(c, done)
    assert v["parent"] == {"model_name": f"{model_name}-embeddings", "version": 1}
    assert v["metrics"]["embeddings_frozen"] is True and v["metrics"]["embedding_coverage"] > 0.3
    emb = c.get(f"/api/v1/models/{model_name}-embeddings/versions/1").get_json()
    assert emb["children"] == [{"model_name": model_name, "version": 1}]
    page = c.get(f"/models/{model_name}/versions/1").get_data(as_text=True)
    assert f"{model_name}-embeddings v1" in page

    # Reusing the embedding version starts stage 2 at once, with the same lineage.
    again = run_job(c, {"kind": "hierarchical", "dataset": "pang_lee_polarity", "model_name": model_name,
                        "params": {"embedding": f"{model_name}-embeddings:1", "epochs": 1, "units": 8}})
    assert again["depends_on"] is None and again["version"] == 2
    assert _version(c, again)["parent"]["version"] == 1

    # The embedding cannot be archived while live classifiers depend on it.
    refused = c.post(f"/api/v1/models/{model_name}-embeddings/versions/1/archive")
    assert refused.status_code == 409 and f"{model_name} v1" in refused.get_json()["message"]
    for n in (1, 2):
        assert c.post(f"/api/v1/models/{model_name}/versions/{n}/archive").status_code == 200
    assert c.post(f"/api/v1/models/{model_name}-embeddings/versions/1/archive").status_code == 200


def test_hierarchical_stage2_fails_when_stage1_fails(sqlite_stack, model_name):
    from tests.support import wait_for_job

    c = sqlite_stack.client
    assert upload(c, f"tiny-{model_name}", "corpus", b"one small corpus\nof two lines\n").status_code == 201
    r = c.post("/api/v1/jobs", json={"kind": "hierarchical", "dataset": "pang_lee_polarity",
                                     "model_name": model_name,
                                     # min_count above any word's count: stage 1 fails with a reason
                                     "params": {"corpus": f"tiny-{model_name}", "w2v_min_count": 1000}})
    job = wait_for_job(c, r.get_json()["id"])
    assert job["status"] == "failed" and "did not produce a version" in job["error"]
    stage1 = c.get(f"/api/v1/jobs/{job['depends_on']}").get_json()
    assert stage1["status"] == "failed" and "min_count=1000" in stage1["error"]


def test_every_kind_trains_on_an_uploaded_file_of_its_kind(sqlite_stack, model_name):
    c = sqlite_stack.client
    from sklearn.datasets import load_digits, load_iris

    iris = load_iris()
    csv = "a,b,c,d,species\n" + "\n".join(
        ",".join(map(str, row)) + f",{iris.target_names[t]}"
        for row, t in zip(iris.data, iris.target, strict=True))
    tab = upload(c, f"iris-{model_name}", "tabular", csv.encode(), label_column="species")
    assert tab.status_code == 201, tab.get_data(as_text=True)
    done = run_job(c, {"kind": "mlp", "dataset": f"iris-{model_name}", "model_name": f"{model_name}-mlp",
                       "params": {"epochs": 60, "batch_size": 8, "learning_rate": 0.01}})
    assert _version(c, done)["metrics"]["class_names"] == ["setosa", "versicolor", "virginica"]

    digits = load_digits()
    buf = io.BytesIO()
    np.savez(buf, X=digits.images[:400], y=digits.target[:400])
    img = upload(c, f"digits-{model_name}", "images", buf.getvalue())
    assert img.status_code == 201, img.get_data(as_text=True)
    assert img.get_json()["schema"]["image_shape"] == [8, 8, 1]
    run_job(c, {"kind": "cnn", "dataset": f"digits-{model_name}", "model_name": f"{model_name}-cnn",
                "params": {"epochs": 2, "conv_layers": 1, "filters": 4}})

    corpus = "\n".join(t for t, _ in learnable_texts(200)).encode()
    cor = upload(c, f"corpus-{model_name}", "corpus", corpus)
    assert cor.status_code == 201, cor.get_data(as_text=True)
    run_job(c, {"kind": "word2vec", "dataset": f"corpus-{model_name}", "model_name": f"{model_name}-w2v",
                "params": {"epochs": 2, "vector_size": 8, "min_count": 1}})


def test_the_same_job_gives_the_same_metrics_twice(sqlite_stack, model_name):
    body = {"kind": "mlp", "dataset": "wine", "model_name": model_name,
            "params": {"epochs": 5, "dropout": 0.2, "seed": 7}}
    first = run_job(sqlite_stack.client, body)["metrics"]
    second = run_job(sqlite_stack.client, body)["metrics"]
    for key in ("test_accuracy", "test_loss", "final_loss", "final_val_loss"):
        assert first[key] == second[key], key


def test_early_stopping_keeps_the_best_epoch(sqlite_stack, model_name):
    done = run_job(sqlite_stack.client, {"kind": "mlp", "dataset": "iris", "model_name": model_name,
                                         "params": {"epochs": 300, "patience": 2, "learning_rate": 0.05,
                                                    "validation_split": 0.3}})
    m = done["metrics"]
    assert m["stopped_early"] is True and m["epochs_run"] < 300
    assert m["best_epoch"] <= m["epochs_run"]


@pytest.mark.parametrize("kind", ["rnn", "text"])
def test_text_kinds_train_on_the_builtin_polarity_sentences(sqlite_stack, model_name, kind):
    done = run_job(sqlite_stack.client, {"kind": kind, "dataset": "pang_lee_polarity",
                                         "model_name": model_name,
                                         "params": {"epochs": 1, "embedding_dim": 8}})
    # 200 sentences and one epoch: no accuracy floor (see the issue), but the figure must be the real one.
    assert_accuracy_measured_on_the_test_split(done["metrics"], "builtin:gensim.pang_lee_polarity")


def test_tflite_export_records_size_and_accuracy(sqlite_stack, model_name):
    done = run_job(sqlite_stack.client, {"kind": "cnn", "dataset": "digits_images", "model_name": model_name,
                                         "params": {"epochs": 3, "tflite": True}})
    v = _version(sqlite_stack.client, done)
    m = v["metrics"]
    tfl = next(a for a in v["artifacts"] if a["name"] == "model.tflite")
    assert m["tflite_bytes"] == tfl["size_bytes"] < m["model_bytes"]
    assert abs(m["tflite_test_accuracy"] - m["test_accuracy"]) < 0.05

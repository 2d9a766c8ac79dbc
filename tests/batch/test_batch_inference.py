"""Batch inference with a real worker: outputs, bad rows, alias resolved at submit, word2vec, cancel."""
from __future__ import annotations

import csv
import hashlib
import io
import json

import pyarrow.parquet as pq
import pytest
from sklearn.datasets import load_iris

from tests.support import run_job, train_body, upload, wait_for_job, wait_until

IRIS = load_iris()
FEATURES = list(IRIS.feature_names)


def scoring_csv(n: int, bad: dict[int, str] | None = None) -> bytes:
    """``n`` iris-like rows with an id key column; ``bad`` maps a 1-based row to a broken line."""
    out = io.StringIO()
    out.write(",".join(["id", *FEATURES]) + "\n")
    for i in range(1, n + 1):
        if bad and i in bad:
            out.write(bad[i] + "\n")
            continue
        x = IRIS.data[i % 150]
        out.write(f"r{i}," + ",".join(f"{v:.1f}" for v in x) + "\n")
    return out.getvalue().encode()


PLANTED = {7: "r7,5.1,oops,1.4,0.2", 300: "r300,5.1,3.5", 1999: "r1999,,3.0,1.4,0.2", 1500: "r1500,nan,1,1,1"}


@pytest.fixture(scope="module")
def scorer(sqlite_stack):
    """A trained iris model with v1 in production and a v2 that is not."""
    c = sqlite_stack.client
    run_job(c, train_body("scorer", params={"epochs": 5, "batch_size": 16}))
    run_job(c, train_body("scorer", params={"epochs": 1, "batch_size": 16}))
    r = c.post("/api/v1/models/scorer/aliases/production", json={"version": 1, "reason": "first"})
    assert r.status_code == 200, r.get_json()
    assert upload(c, "to-score", "tabular", scoring_csv(2000, PLANTED), purpose="scoring",
                  key_column="id").status_code == 201
    return c


def _download(c, job, name):
    out = next(o for o in job["outputs"] if o["name"] == name)
    r = c.get(out["url"])
    assert r.status_code == 200
    assert hashlib.sha256(r.data).hexdigest() == out["sha256"] == r.headers["X-Checksum-Sha256"]
    return r.data


def test_scores_every_good_row_and_lists_the_bad_ones(scorer, tmp_path):
    c = scorer
    r = c.post("/api/v1/jobs", json={"type": "infer", "model_name": "scorer", "dataset": "to-score",
                                     "params": {"chunk_rows": 500}})
    assert r.status_code == 201, r.get_json()
    job = r.get_json()
    assert job["type"] == "infer" and job["params"]["model_version"] == 1
    assert job["params"]["resolved_from"] == "alias production"
    # Moving the alias now must not change what the job scores with: it was resolved at submit.
    c.post("/api/v1/models/scorer/aliases/production", json={"version": 2, "reason": "move during the job"})
    done = wait_for_job(c, job["id"])
    assert done["status"] == "succeeded", done["error"]
    s = done["metrics"]
    assert (s["rows"], s["scored"], s["errors"], s["model_version"]) == (2000, 1996, 4, 1)
    assert sum(s["label_distribution"].values()) == 1996 and set(s["label_distribution"]) <= set(IRIS.target_names)
    assert {o["name"] for o in done["outputs"]} == {"predictions.csv", "predictions.parquet", "errors.csv",
                                                   "summary.json"}
    rows = list(csv.DictReader(io.StringIO(_download(c, done, "predictions.csv").decode())))
    assert len(rows) == 1996
    assert rows[0]["row_id"] == "1" and rows[0]["key"] == "r1" and rows[0]["label"] in IRIS.target_names
    assert abs(sum(float(rows[0][f"p_{n}"]) for n in IRIS.target_names) - 1) < 1e-4
    ids = [int(r["row_id"]) for r in rows]
    assert ids == sorted(ids) and not set(ids) & set(PLANTED)
    errors = list(csv.DictReader(io.StringIO(_download(c, done, "errors.csv").decode())))
    reasons = {int(e["row_id"]): e["reason"] for e in errors}
    assert set(reasons) == set(PLANTED)
    assert "'oops' is not a number" in reasons[7] and "has 3 fields" in reasons[300]
    assert "empty" in reasons[1999] and "finite" in reasons[1500]
    parquet = tmp_path / "p.parquet"
    parquet.write_bytes(_download(c, done, "predictions.parquet"))
    table = pq.read_table(parquet)
    assert table.num_rows == 1996 and table.column("row_id").to_pylist() == ids
    assert json.loads(_download(c, done, "summary.json"))["rows_per_s"] > 0
    page = c.get(f"/jobs/{done['id']}").get_data(as_text=True)
    assert "predictions.parquet" in page and "1,996" in page


def test_a_builtin_dataset_can_be_scored_by_version(scorer):
    done = run_job(scorer, {"type": "infer", "model_name": "scorer", "version": 2, "dataset": "iris"})
    assert done["metrics"]["rows"] == 150 and done["metrics"]["errors"] == 0
    assert done["params"]["resolved_from"] == "version 2"


@pytest.mark.parametrize("body,field", [
    ({"model_name": "nope", "dataset": "iris"}, "alias"),
    ({"model_name": "scorer", "version": 99, "dataset": "iris"}, "version"),
    ({"model_name": "scorer", "version": 1, "alias": "production", "dataset": "iris"}, "alias"),
    ({"model_name": "scorer", "dataset": "digits"}, "dataset"),
    ({"model_name": "scorer", "dataset": "lee_background"}, "dataset"),
    ({"model_name": "scorer", "dataset": "iris", "params": {"chunk_rows": 5}}, "params.chunk_rows"),
    ({"model_name": "scorer", "dataset": "to-score", "params": {"key_column": "nope"}}, "params.key_column"),
    ({"model_name": "scorer", "dataset": "iris", "params": {"bogus": 1}}, "params.bogus"),
])
def test_bad_requests_name_the_field(scorer, body, field):
    r = scorer.post("/api/v1/jobs", json={"type": "infer", **body})
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["fields"], r.get_json()


def test_a_scoring_upload_cannot_be_trained_on(scorer):
    r = scorer.post("/api/v1/jobs", json=train_body("x", dataset="to-score"))
    assert r.status_code == 422 and "uploaded for scoring" in r.get_json()["fields"]["dataset"]


def test_cancel_stops_a_running_batch_job(scorer, sqlite_stack):
    c = scorer
    assert upload(c, "big-score", "tabular", scoring_csv(200_000), purpose="scoring",
                  key_column="id").status_code == 201
    job = c.post("/api/v1/jobs", json={"type": "infer", "model_name": "scorer", "dataset": "big-score",
                                       "params": {"chunk_rows": 100}}).get_json()  # 2,000 chunks
    wait_until(lambda: c.get(f"/api/v1/jobs/{job['id']}").get_json()["metrics"].get("rows_done", 0) > 0,
               timeout=120, what="the batch job to score its first chunks")
    assert c.post(f"/api/v1/jobs/{job['id']}/cancel").status_code == 202  # requested: it stops at the next chunk
    done = wait_for_job(c, job["id"])
    assert done["status"] == "cancelled" and done.get("outputs") == []
    parts = sqlite_stack.settings.models_store / "batch" / job["id"]
    wait_until(lambda: not parts.exists(), timeout=10, what="the chunk parts to be removed")


def test_word2vec_neighbours_and_vectors(sqlite_stack):
    c = sqlite_stack.client
    run_job(c, {"kind": "word2vec", "dataset": "lee_background", "model_name": "w2v-batch",
                "params": {"epochs": 1, "vector_size": 16, "min_count": 2}})
    done = run_job(c, {"type": "infer", "model_name": "w2v-batch", "version": 1,
                       "params": {"words": ["the", "government", "zzzunknown"], "topn": 3}})
    assert (done["metrics"]["rows"], done["metrics"]["scored"], done["metrics"]["errors"]) == (3, 2, 1)
    rows = list(csv.DictReader(io.StringIO(_download(c, done, "predictions.csv").decode())))
    assert len(rows) == 6 and {r["word"] for r in rows} == {"the", "government"}
    assert [r["rank"] for r in rows[:3]] == ["1", "2", "3"]
    vectors = run_job(c, {"type": "infer", "model_name": "w2v-batch", "version": 1, "dataset": "lee_background",
                          "params": {"mode": "vectors", "chunk_rows": 1000}})
    assert vectors["metrics"]["scored"] > 100
    first = next(csv.DictReader(io.StringIO(_download(c, vectors, "predictions.csv").decode())))
    assert len([k for k in first if k.startswith("v")]) == 16


def _big_csv(path, n: int, bad_every: int) -> set[int]:
    """Write ``n`` rows straight to disk (never all in memory); every ``bad_every``-th row is broken."""
    import numpy as np

    rng = np.random.default_rng(0)
    bad = set()
    with open(path, "w") as fh:
        fh.write(",".join(["id", *FEATURES]) + "\n")
        for start in range(0, n, 100_000):
            x = IRIS.data[rng.integers(0, 150, size=min(100_000, n - start))]
            lines = []
            for offset, row in enumerate(x):
                i = start + offset + 1
                if i % bad_every == 0:
                    bad.add(i)
                    lines.append(f"r{i},{row[0]:.1f},not-a-number,{row[2]:.1f},{row[3]:.1f}")
                else:
                    lines.append(f"r{i},{row[0]:.1f},{row[1]:.1f},{row[2]:.1f},{row[3]:.1f}")
            fh.write("\n".join(lines) + "\n")
    return bad


def test_a_million_rows_in_flat_memory(scorer, tmp_path):
    """1,000,000 rows: every row accounted for, planted bad rows listed, peak memory within 1.3x of 100,000 rows."""
    c = scorer
    peaks = {}
    for n in (100_000, 1_000_000):
        path = tmp_path / f"rows-{n}.csv"
        bad = _big_csv(path, n, bad_every=99_991)
        with open(path, "rb") as fh:
            r = c.post(f"/api/v1/datasets?name=rows-{n}&kind=tabular&purpose=scoring&key_column=id", data=fh,
                       content_type="text/csv")
        assert r.status_code == 201, r.get_json()
        path.unlink()
        done = run_job(c, {"type": "infer", "model_name": "scorer", "version": 1, "dataset": f"rows-{n}",
                           "params": {"chunk_rows": 50_000}}, timeout=600)
        s = done["metrics"]
        assert (s["rows"], s["scored"], s["errors"]) == (n, n - len(bad), len(bad))
        errors = list(csv.DictReader(io.StringIO(_download(c, done, "errors.csv").decode())))
        assert {int(e["row_id"]) for e in errors} == bad
        peaks[n] = s["peak_rss_mb"]
        print(f"{n:,} rows: {s['rows_per_s']:,.0f} rows/s (loop {s['scoring_rows_per_s']:,.0f}, {s['phase_s']}), "
              f"peak RSS {s['peak_rss_mb']} MiB (at start {s['rss_at_start_mb']} MiB)")
    assert peaks[1_000_000] <= 1.3 * peaks[100_000], peaks


def test_a_tampered_model_is_refused_and_audited(sqlite_stack, model_name):
    from app.services import audit, registry

    c = sqlite_stack.client
    run_job(c, train_body(model_name))
    with sqlite_stack.runtime.session() as s:
        artifact = registry.get_artifact(s, model_name, 1, "model.keras")
    stored = sqlite_stack.runtime.store.resolve(artifact.path)
    stored.write_bytes(stored.read_bytes() + b"tampered")
    r = c.post("/api/v1/jobs", json={"type": "infer", "model_name": model_name, "version": 1, "dataset": "iris"})
    done = wait_for_job(c, r.get_json()["id"])
    assert done["status"] == "failed" and "refused a tampered input" in done["error"], done["error"]
    assert done.get("outputs") == []
    with sqlite_stack.runtime.session() as s:
        logged = [e for e in audit.entries(s, action="artifact.tampered") if e.detail.get("job") == done["id"]]
    assert logged


def test_quoted_fields_are_read_and_a_field_spanning_lines_is_reported(tmp_path):
    """The fast reader splits lines; quotes send a line to the csv module, one line at a time."""
    from workers.jobs import scoring

    path = tmp_path / "q.csv"
    path.write_text('id,a,b\n"x\ny",1,2\nz,3,4\n"k,1",5,6\nw,oops,1\n')
    (chunk,) = scoring.tabular_chunks(path, {"encoding": "utf-8", "delimiter": ","}, ["a", "b"], "id", 100)
    assert list(chunk.ids) == [3, 4] and list(chunk.keys) == ["z", "k,1"]
    assert chunk.x.tolist() == [[3.0, 4.0], [5.0, 6.0]]
    assert [row for row, _ in chunk.errors] == [1, 2, 5] and "spans lines" in chunk.errors[0][1]

"""Parquet and JSON Lines uploads through the real upload path (API, store, database, worker)."""
from __future__ import annotations

import csv
import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from tests.api.test_uploads import _nothing_stored
from tests.support import learnable_texts, run_job, upload


def _parquet_bytes(table: pa.Table, **kw) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, **kw)
    return buf.getvalue()


def _wine_table() -> pa.Table:
    from sklearn.datasets import load_wine

    wine = load_wine()
    columns = {name: wine.data[:, i] for i, name in enumerate(wine.feature_names)}
    return pa.table({**columns, "cultivar": pa.array([f"c{y}" for y in wine.target])})


def test_a_parquet_upload_is_stored_as_parquet_previewed_and_downloadable_schema(db_stack):
    data = _parquet_bytes(_wine_table(), row_group_size=50)
    r = upload(db_stack.client, "wine-pq", "tabular", data, label_column="cultivar")
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert (body["rows"], body["size_bytes"], body["schema"]["format"]) == (178, len(data), "parquet")
    assert body["schema"]["row_groups"] == 4 and len(body["schema"]["features"]) == 13
    assert body["schema"]["label"]["classes"] == ["c0", "c1", "c2"]
    preview = db_stack.client.get("/api/v1/datasets/wine-pq/versions/1/preview?rows=3").get_json()
    assert preview["columns"][-1] == "cultivar" and len(preview["rows"]) == 3
    assert preview["rows"][0][0] == "14.23" and preview["rows"][0][-1] == "c0"
    page = db_stack.client.get("/datasets/wine-pq").get_data(as_text=True)
    assert "parquet" in page and "14.23" in page


def test_a_broken_parquet_is_a_422_naming_row_and_column_and_nothing_is_kept(db_stack):
    table = pa.table({"a": [1.0, 2.0, None, 4.0], "label": ["x", "y", "x", "y"]})
    r = upload(db_stack.client, "holes", "tabular", _parquet_bytes(table))
    assert r.status_code == 422
    assert r.get_json()["fields"]["file"] == "row 3, column 'a' is empty (missing values are not supported)"
    r = upload(db_stack.client, "holes", "tabular", _parquet_bytes(table)[:300])
    assert r.status_code == 422 and "Parquet file cannot be read" in r.get_json()["fields"]["file"]
    r = upload(db_stack.client, "holes", "text", _parquet_bytes(table))
    assert r.status_code == 422 and "kind=tabular" in r.get_json()["fields"]["file"]
    _nothing_stored(db_stack)


def test_jsonl_text_and_tabular_uploads_gzipped_or_plain_and_their_errors(db_stack):
    lines = "".join(json.dumps({"id": i, "text": t, "label": y}) + "\n" for i, (t, y) in enumerate(learnable_texts(20)))
    r = upload(db_stack.client, "reviews-jsonl", "text", gzip.compress(lines.encode()))
    assert r.status_code == 201, r.get_data(as_text=True)
    schema = r.get_json()["schema"]
    assert (schema["format"], schema["compression"], schema["rows"]) == ("jsonl", "gzip", 20)
    preview = db_stack.client.get("/api/v1/datasets/reviews-jsonl/versions/1/preview").get_json()
    assert preview["columns"] == ["text", "label"] and preview["rows"][0][1] == "pos"
    r = upload(db_stack.client, "table-jsonl", "tabular", b'{"a": 1, "label": "x"}\n{"a": 2.5, "label": "y"}\n')
    assert r.status_code == 201 and r.get_json()["schema"]["columns"] == ["a", "label"], r.get_data(as_text=True)
    bad = b'{"text": "fine", "label": "pos"}\n{"text": "fine", "label": "neg"}\n{"text": "oops"}\n'
    r = upload(db_stack.client, "bad-jsonl", "text", bad)
    assert r.status_code == 422 and r.get_json()["fields"]["label_column"].startswith("line 3 has no key 'label'")
    r = upload(db_stack.client, "bad-jsonl", "tabular", b'{"a": 1, "label": "x"}\n{"a": "2", "label": "y"}\n')
    assert r.status_code == 422 and "line 2, key 'a': the string '2'" in r.get_json()["fields"]["file"]
    r = upload(db_stack.client, "bad-jsonl", "tabular", b'{"a": 1, "label": "x"}\n', format="fasttext")
    assert r.status_code == 422 and "use csv, parquet or jsonl" in r.get_json()["fields"]["format"]


def test_a_parquet_tabular_set_and_a_jsonl_text_set_train(sqlite_stack, model_name):
    c = sqlite_stack.client
    r = upload(c, "wine-parquet", "tabular", _parquet_bytes(_wine_table(), row_group_size=64), label_column="cultivar")
    assert r.status_code == 201, r.get_data(as_text=True)
    done = run_job(c, {"kind": "mlp", "dataset": "wine-parquet", "model_name": model_name,
                       "params": {"epochs": 2, "batch_size": 16}})
    assert done["metrics"]
    lines = "".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in learnable_texts(200))
    r = upload(c, "reviews-jl", "text", lines.encode())
    assert r.status_code == 201, r.get_data(as_text=True)
    done = run_job(c, {"kind": "text", "dataset": "reviews-jl", "model_name": f"{model_name}-text",
                       "params": {"epochs": 2, "embedding_dim": 8}})
    assert done["metrics"]


def test_files_to_score_with_decimal_commas_or_as_parquet(sqlite_stack, model_name):
    from sklearn.datasets import load_iris

    c = sqlite_stack.client
    run_job(c, {"kind": "mlp", "dataset": "iris", "model_name": model_name, "params": {"epochs": 2}})
    iris = load_iris()
    rows = [";".join(["id", *iris.feature_names])]
    rows += [";".join([f"r{i}", *(f"{v:.1f}".replace(".", ",") for v in x)]) for i, x in enumerate(iris.data[:40])]
    r = upload(c, f"euro-score-{model_name}", "tabular", "\n".join(rows).encode(), purpose="scoring", key_column="id")
    assert r.status_code == 201, r.get_data(as_text=True)
    assert (r.get_json()["schema"]["decimal"], r.get_json()["schema"]["decimal_detected"]) == (",", True)
    done = run_job(c, {"type": "infer", "model_name": model_name, "version": 1,
                       "dataset": f"euro-score-{model_name}"})
    assert (done["metrics"]["rows"], done["metrics"]["scored"], done["metrics"]["errors"]) == (40, 40, 0)
    columns = {name: [None if i == 5 else float(x[j]) for i, x in enumerate(iris.data)]
               for j, name in enumerate(iris.feature_names)}
    table = pa.table({"id": pa.array(range(1000, 1150), pa.int64()), **columns})
    r = upload(c, f"pq-score-{model_name}", "tabular", _parquet_bytes(table, row_group_size=64), purpose="scoring",
               key_column="id")
    assert r.status_code == 201 and r.get_json()["schema"]["format"] == "parquet", r.get_data(as_text=True)
    done = run_job(c, {"type": "infer", "model_name": model_name, "version": 1, "dataset": f"pq-score-{model_name}",
                       "params": {"chunk_rows": 1000}})
    assert (done["metrics"]["rows"], done["metrics"]["scored"], done["metrics"]["errors"]) == (150, 149, 1)
    out = next(o for o in done["outputs"] if o["name"] == "predictions.csv")
    rows = list(csv.DictReader(io.StringIO(c.get(out["url"]).get_data(as_text=True))))
    assert len(rows) == 149 and (rows[0]["row_id"], rows[0]["key"]) == ("1", "1000")
    assert [r["key"] for r in rows[4:6]] == ["1004", "1006"]  # row 6 (key 1005) has an empty value
    errors = next(o for o in done["outputs"] if o["name"] == "errors.csv")
    assert "column 'sepal length (cm)' is empty" in c.get(errors["url"]).get_data(as_text=True)

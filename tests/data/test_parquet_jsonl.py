"""Parquet and JSON Lines uploads, and decimal commas in files to score, at the data layer."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.data.formats import parquet
from app.data.uploads import inspect_upload, load_upload
from app.domain.errors import Invalid


def _problem(path, kind: str = "tabular", **options) -> dict[str, str]:
    with pytest.raises(Invalid) as caught:
        inspect_upload(path, kind, options)
    return caught.value.fields


def _parquet(tmp_path, table: pa.Table, **kw):
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, **kw)
    return path


def test_parquet_is_detected_checked_in_row_groups_and_loaded(tmp_path):
    table = pa.table({"a": pa.array(range(10), pa.int16()), "b": [i / 4 for i in range(10)],
                      "flag": [i % 3 == 0 for i in range(10)], "label": [i % 2 for i in range(10)]})
    path = _parquet(tmp_path, table, row_group_size=3)
    found = inspect_upload(path, "tabular", {})
    assert (found.rows, found.schema["format"], found.schema["row_groups"]) == (10, "parquet", 4)
    assert [f["name"] for f in found.schema["features"]] == ["a", "b", "flag"]
    assert found.schema["label"] == {"name": "label", "classes": ["0", "1"], "counts": {"0": 5, "1": 5}}
    assert inspect_upload(path, "tabular", {"format": "parquet"}).schema == found.schema
    data = load_upload(path, "tabular", found.schema)
    assert data.X.shape == (10, 3) and data.X.dtype.name == "float32"
    assert data.X[9].tolist() == [9.0, 2.25, 1.0] and data.y.tolist() == [0, 1] * 5


@pytest.mark.parametrize(("table", "options", "field", "fragment"), [
    (pa.table({"a": [1.0, 2.0, None], "label": ["x", "y", "x"]}), {}, "file", "row 3, column 'a' is empty"),
    (pa.table({"a": [1.0, float("inf")], "label": ["x", "y"]}), {}, "file", "row 2, column 'a': inf is not a finite"),
    (pa.table({"a": [1.0, 1e39], "label": ["x", "y"]}), {}, "file", "row 2, column 'a': 1e+39 is too large"),
    (pa.table({"city": ["Rome", "Oslo"], "label": ["x", "y"]}), {}, "file",
     "column 'city' has type string; feature columns must be numbers"),
    (pa.table({"a": [1.0, 2.0], "label": ["x", None]}), {}, "file", "row 2: the label is empty"),
    (pa.table({"a": [1.0, 2.0], "label": ["x", " "]}), {}, "file", "row 2: the label is empty"),
    (pa.table({"a": [1.0, 2.0], "label": ["x", "x"]}), {}, "file", "single class 'x'"),
    (pa.table({"a": [1.0, 2.0], "y": ["x", "z"]}), {}, "label_column", "no column 'label' in the Parquet file"),
    (pa.table({"label": ["x", "z"]}), {}, "file", "only the label column"),
    (pa.table({"a": [1.0, 2.0], "label": ["x", "z"]}), {"delimiter": ";"}, "delimiter", "this file is Parquet"),
    (pa.table({"a": [1.0, 2.0], "label": ["x", "z"]}), {"encoding": "latin-1"}, "encoding", "this file is Parquet"),
    (pa.table({"a": [1.0, 2.0], "label": ["x", "z"]}), {"format": "jsonl"}, "format", "the file is Parquet"),
])
def test_parquet_errors_name_row_column_and_reason(tmp_path, table, options, field, fragment):
    assert fragment in _problem(_parquet(tmp_path, table), **options)[field]


def test_parquet_bounds_and_damage(tmp_path, monkeypatch):
    path = _parquet(tmp_path, pa.table({"a": list(range(1000)), "label": [i % 2 for i in range(1000)]}))
    monkeypatch.setattr(parquet, "MAX_ROW_GROUP_BYTES", 100)
    assert "write it with smaller row groups" in _problem(path)["file"]
    monkeypatch.setattr(parquet, "MAX_VALUES", 999)
    assert "more than 999 values" in _problem(path)["file"]
    truncated = tmp_path / "cut.parquet"
    truncated.write_bytes(path.read_bytes()[:200])
    assert "cannot be read" in _problem(truncated)["file"]
    assert "Parquet is accepted for tabular" in _problem(path, "text")["file"]
    csv = tmp_path / "c.csv"
    csv.write_text("a,label\n1,x\n2,y\n")
    assert "not Parquet" in _problem(csv, format="parquet")["format"]


def test_a_parquet_file_to_score_is_checked_for_columns_and_read_in_exact_chunks(tmp_path):
    from workers.jobs.scoring_parquet import parquet_chunks

    table = pa.table({"id": [f"r{i}" for i in range(1, 8)], "a": [1.0, None, 3.0, float("nan"), 5.0, 6.0, 7.0],
                      "b": pa.array([1, 2, 3, 4, 5, 6, 7], pa.int8())})
    path = _parquet(tmp_path, table, row_group_size=3)
    found = inspect_upload(path, "tabular", {"purpose": "scoring", "key_column": "id"})
    assert found.rows == 7 and [f["name"] for f in found.schema["features"]] == ["a", "b"]
    assert (found.schema["format"], found.schema["purpose"], found.schema["key_column"]) == ("parquet", "scoring", "id")
    chunks = list(parquet_chunks(path, ["a", "b"], "id", 4))
    assert [c.rows for c in chunks] == [4, 3] and [c.index for c in chunks] == [0, 1]
    assert list(chunks[0].ids) == [1, 3] and chunks[0].keys.to_pylist() == ["r1", "r3"]
    assert chunks[0].errors == [(2, "column 'a' is empty"), (4, "column 'a': nan is not a finite float32 number")]
    assert chunks[1].x.tolist() == [[5.0, 5.0], [6.0, 6.0], [7.0, 7.0]] and list(chunks[1].ids) == [5, 6, 7]
    assert "no column 'key'" in _problem(path, purpose="scoring", key_column="key")["key_column"]
    text = _parquet(tmp_path, pa.table({"a": [1.0], "city": ["Oslo"]}))
    assert "column 'city' has type string" in _problem(text, purpose="scoring")["file"]
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text('{"a": 1}\n')
    assert "CSV or Parquet files" in _problem(jsonl, purpose="scoring")["purpose"]


def _jsonl(tmp_path, text: str):
    path = tmp_path / "t.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


def test_jsonl_tabular_is_detected_and_loaded(tmp_path):
    path = _jsonl(tmp_path, '{"a": 1, "b": 2.5, "label": "x"}\n\n{"b": -4e2, "a": 3, "label": "y"}\n')
    found = inspect_upload(path, "tabular", {})
    assert (found.rows, found.schema["format"], found.schema["columns"]) == (2, "jsonl", ["a", "b", "label"])
    data = load_upload(path, "tabular", found.schema)
    assert data.X.tolist() == [[1.0, 2.5], [3.0, -400.0]] and data.y.tolist() == [0, 1]


@pytest.mark.parametrize(("text", "fragment"), [
    ('{"a": 1, "label": "x"}\n{"a": "2", "label": "y"}\n', "line 2, key 'a': the string '2' is not a number"),
    ('{"a": 1, "label": "x"}\n{"a": true, "label": "y"}\n', "line 2, key 'a': 'true' is not a number"),
    ('{"a": 1, "label": "x"}\n{"a": null, "label": "y"}\n', "line 2, key 'a' is null"),
    ('{"a": 1, "label": "x"}\n{"a": 2}\n', "line 2 has no key 'label'"),
    ('{"a": 1, "label": "x"}\n{"a": 2, "label": "y", "c": 3}\n', "line 2 has a key 'c' that the first line"),
    ('{"a": 1, "label": "x"}\n{"a": 2, "label": "y"\n', "line 2 is not valid JSON"),
    ('{"a": 1, "label": "x"}\n[2, "y"]\n', "line 2 is a JSON list, not an object"),
    ('{"a": NaN, "label": "x"}\n', "line 1 is not valid JSON (NaN is not a number JSON allows"),
    ('{"a": 1e400, "label": "x"}\n', "line 1, key 'a': 'inf' is not a finite float32 number"),
    ('{"a": 1, "label": "x"}\n{"a": 2, "label": ["y"]}\n', "line 2, key 'label'"),
    ('{"a": 1, "label": "x"}\n{"a": 2, "label": "x"}\n', "single class 'x'"),
])
def test_jsonl_tabular_errors_name_line_key_and_reason(tmp_path, text, fragment):
    assert fragment in _problem(_jsonl(tmp_path, text))["file"]


def test_jsonl_text_is_detected_keeps_other_keys_out_and_names_missing_keys(tmp_path):
    path = _jsonl(tmp_path, '{"id": 1, "text": " a great film ", "label": "pos"}\n{"text": "dull", "label": "neg"}\n')
    found = inspect_upload(path, "text", {})
    assert (found.rows, found.schema["format"], found.schema["label"]["classes"]) == (2, "jsonl", ["neg", "pos"])
    assert load_upload(path, "text", found.schema).texts == ["a great film", "dull"]
    custom = _jsonl(tmp_path, '{"body": "good", "y": 1}\n{"body": "bad", "y": 0}\n')
    assert inspect_upload(custom, "text", {"text_column": "body", "label_column": "y"}).schema["label"]["classes"] == [
        "0", "1"]
    assert "line 1 has no key 'text' (keys: body, y); pass text_column" in _problem(custom, "text")["text_column"]
    empty = _jsonl(tmp_path, '{"text": "good", "label": "a"}\n{"text": "  ", "label": "b"}\n')
    assert "line 2: the text key 'text' is empty" in _problem(empty, "text")["file"]
    assert "this file is JSON Lines" in _problem(path, "text", delimiter=";")["delimiter"]
    assert "not a format of text files" in _problem(path, "text", format="parquet")["format"]


def test_files_to_score_take_decimal_commas_given_or_detected(tmp_path):
    path = tmp_path / "score.csv"
    path.write_text("id;a;b\nr1;1,5;2\nr2;3;4,25\n")
    detected = inspect_upload(path, "tabular", {"purpose": "scoring", "key_column": "id"}).schema
    assert (detected["decimal"], detected["decimal_detected"]) == (",", True)
    given = inspect_upload(path, "tabular", {"purpose": "scoring", "decimal": ","}).schema
    assert given["decimal"] == "," and "decimal_detected" not in given
    plain = tmp_path / "plain.csv"
    plain.write_text("a;b\n1.5;2\n3;4\n")
    assert inspect_upload(plain, "tabular", {"purpose": "scoring"}).schema["decimal"] == "."


def test_a_batch_job_reads_decimal_commas_and_names_a_point(tmp_path):
    from workers.jobs import scoring

    path = tmp_path / "score.csv"
    path.write_text("id;a;b\nr1;1,5;2\nr2;3;4,25\nr3;1.5;2\nr4;x;1\n")
    schema = {"encoding": "utf-8", "delimiter": ";", "decimal": ","}
    (chunk,) = scoring.tabular_chunks(path, schema, ["a", "b"], "id", 100)
    assert list(chunk.ids) == [1, 2] and list(chunk.keys) == ["r1", "r2"]
    assert chunk.x.tolist() == [[1.5, 2.0], [3.0, 4.25]]
    assert [row for row, _ in chunk.errors] == [3, 4] and "'1.5' is not a number" in chunk.errors[0][1]


def test_jsonl_with_a_byte_order_mark_is_read_and_previewed(tmp_path):
    from app.data.formats.jsonl import preview_jsonl

    path = tmp_path / "bom.jsonl"
    path.write_bytes('\ufeff{"text": "é bien", "label": "pos"}\n{"text": "mal", "label": "neg"}\n'.encode())
    found = inspect_upload(path, "text", {})
    assert found.schema["format"] == "jsonl" and found.rows == 2
    assert preview_jsonl(path, "utf-8", ["text", "label"], 5)["rows"] == [["é bien", "pos"], ["mal", "neg"]]

"""Compressed and European CSV uploads through the real upload path (API, store, database, worker)."""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile

import pytest

from tests.api.test_uploads import _nothing_stored
from tests.support import run_job, upload

TABLE = b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n"


def _zip(*members: tuple[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(("pack", "name"), [(gzip.compress, "gzip"), (bz2.compress, "bzip2"),
                                            (lzma.compress, "xz"), (lambda d: _zip(("t.csv", d)), "zip")])
def test_compressed_tabular_uploads_are_unpacked_and_stored_plain(db_stack, pack, name):
    packed = pack(TABLE)
    r = upload(db_stack.client, "packed", "tabular", packed)
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert (body["rows"], body["size_bytes"]) == (3, len(TABLE))
    assert (body["schema"]["compression"], body["schema"]["compressed_bytes"]) == (name, len(packed))
    preview = db_stack.client.get(f"/api/v1/datasets/packed/versions/{body['version']}/preview").get_json()
    assert preview["columns"] == ["a", "b", "label"]


def test_compressed_text_and_corpus_uploads(db_stack):
    r = upload(db_stack.client, "corpus-gz", "corpus", gzip.compress(b"one doc here\nanother one\n"))
    assert r.status_code == 201 and r.get_json()["rows"] == 2, r.get_data(as_text=True)
    r = upload(db_stack.client, "text-xz", "text", lzma.compress(b"text,label\ngood film,pos\nbad film,neg\n"))
    assert r.status_code == 201 and r.get_json()["rows"] == 2, r.get_data(as_text=True)


@pytest.mark.parametrize(("content", "fragment"), [
    (gzip.compress(b"0" * (40 << 20)), "compression bomb"),
    (gzip.compress(TABLE)[:20], "damaged or truncated"),
    (_zip(("a.csv", TABLE), ("b.csv", TABLE)), "holds 2 files"),
    (gzip.compress(gzip.compress(TABLE)), "gzip-compressed twice"),
], ids=["bomb", "truncated", "two-files", "gzip-twice"])  # not the bytes: gzip's header holds the time of day,
# and xdist workers that collect a second apart would disagree on the test ids and stop the run
def test_bombs_and_broken_archives_are_refused_and_nothing_is_kept(db_stack, content, fragment):
    r = upload(db_stack.client, "bad", "tabular", content)
    assert r.status_code == 422, r.get_data(as_text=True)
    assert fragment in r.get_json()["fields"]["file"]
    _nothing_stored(db_stack)


def test_the_form_takes_the_decimal_option_and_a_gzipped_file(db_stack):
    euro = b"a;b;label\n1,5;2;x\n3;4,25;y\n"
    refused = db_stack.client.post("/datasets", content_type="multipart/form-data", data={
        "name": "euro", "kind": "tabular", "decimal": ".", "file": (io.BytesIO(euro), "euro.csv")})
    assert refused.status_code == 422 and "pass decimal=&#39;,&#39;" in refused.get_data(as_text=True)
    r = db_stack.client.post("/datasets", content_type="multipart/form-data", data={
        "name": "euro", "kind": "tabular", "decimal": ",", "file": (io.BytesIO(gzip.compress(euro)), "euro.csv.gz")})
    assert r.status_code in (200, 302, 303), r.get_data(as_text=True)
    schema = db_stack.client.get("/api/v1/datasets/euro/versions/1").get_json()["schema"]
    assert (schema["decimal"], schema["compression"], schema["rows"]) == (",", "gzip", 2)


def test_a_european_wine_table_registers_its_schema_and_trains(sqlite_stack, model_name):
    from sklearn.datasets import load_wine

    wine = load_wine()
    lines = [";".join([*wine.feature_names, "cultivar"])]
    lines += [";".join([*(f"{v:.3f}".replace(".", ",") for v in row), str(y)])
              for row, y in zip(wine.data, wine.target, strict=True)]
    r = upload(sqlite_stack.client, "wine-eu", "tabular", "\n".join(lines).encode(), label_column="cultivar")
    assert r.status_code == 201, r.get_data(as_text=True)
    schema = r.get_json()["schema"]
    assert (schema["delimiter"], schema["decimal"], schema["decimal_detected"]) == (";", ",", True)
    assert len(schema["features"]) == 13 and schema["label"]["classes"] == ["0", "1", "2"]
    done = run_job(sqlite_stack.client, {"kind": "mlp", "dataset": "wine-eu", "model_name": model_name,
                                         "params": {"epochs": 2, "batch_size": 16}})
    assert done["metrics"]


def test_a_gzipped_digits_table_registers_and_trains(sqlite_stack, model_name):
    from sklearn.datasets import load_digits

    digits = load_digits()
    lines = [",".join(["digit", *digits.feature_names])]
    lines += [",".join([str(y), *(f"{v:g}" for v in row)]) for row, y in zip(digits.data, digits.target, strict=True)]
    r = upload(sqlite_stack.client, "digits-gz", "tabular", gzip.compress("\n".join(lines).encode()),
               label_column="digit")
    assert r.status_code == 201, r.get_data(as_text=True)
    body = r.get_json()
    assert body["rows"] == 1797 and body["schema"]["compression"] == "gzip"
    assert len(body["schema"]["features"]) == 64 and len(body["schema"]["label"]["classes"]) == 10
    done = run_job(sqlite_stack.client, {"kind": "mlp", "dataset": "digits-gz", "model_name": model_name,
                                         "params": {"epochs": 2, "batch_size": 32}})
    assert done["metrics"]

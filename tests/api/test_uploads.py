"""Uploads: each malformed file gets its precise error through the API and the form; nothing is stored."""
from __future__ import annotations

import html
import io

import numpy as np
import pytest
from sqlalchemy import func, select

from app.models import Dataset
from tests.support import upload


def _npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


WIDE = (",".join(f"column_{i:06d}" for i in range(12_000)) + ",label\n1,x\n").encode()  # 168,000 characters
BAD = [
    ("tabular", b"", {}, "file", "empty"),
    ("tabular", b"a,b,label\n", {}, "file", "no data rows"),
    ("tabular", b"a;b;label\n1;2;x\n3;4;y\n", {"delimiter": ","}, "delimiter", ";"),
    ("tabular", b"a,b,c\n1,2,x\n3,4,y\n", {}, "label_column", "no column 'label'"),
    ("tabular", b"a,b,label\n1,2,x\n3,4\n", {}, "file", "line 3"),
    ("tabular", b"a,b,label\n1,2,x\n3,abc,y\n", {}, "file", "'abc' is not a number"),
    ("tabular", b"a,b,label\n1,2,x\n3,4,x\n", {}, "file", "single class"),
    ("text", "text,label\ncaf\u00e9 ok,pos\nbad,neg\n".encode("latin-1"), {}, "file", "latin-1"),
    ("text", b"text,label\n,pos\nfine,neg\n", {}, "file", "line 2"),
    ("images", _npz(X=np.zeros((4, 8, 8))), {}, "file", "no array 'y'"),
    ("images", _npz(X=np.zeros((4, 8, 8)), y=np.arange(3)), {}, "file", "4 rows"),
    ("images", b"this is not a zip file", {}, "file", "npz"),
    ("corpus", b"\n\n  \n", {}, "file", "no"),
    ("tabular", b"a,label\n1,x\n2,y\n", {"encoding": "klingon"}, "encoding", "unknown encoding"),
    ("tabular", b"a,label\n1,x\n2,y\n", {"colour": "red"}, "colour", "not an option"),
    ("spreadsheet", b"a,label\n1,x\n", {}, "kind", "must be one of"),
    # A header longer than the csv module's field limit under some candidate delimiter (was a 500):
    ("tabular", WIDE, {}, "file", "12,001 columns"),
    ("tabular", WIDE, {"purpose": "scoring"}, "file", "12,001 columns"),
]


def _nothing_stored(stack) -> None:
    with stack.runtime.session() as s:
        assert s.scalar(select(func.count()).select_from(Dataset).where(Dataset.source == "upload")) == 0
    root = stack.settings.models_store
    for folder in ("datasets", "tmp"):
        files = [p for p in (root / folder).rglob("*") if p.is_file()] if (root / folder).exists() else []
        assert files == [], folder


@pytest.mark.parametrize(("kind", "content", "options", "field", "fragment"), BAD)
def test_malformed_uploads_are_refused_with_the_reason(db_stack, kind, content, options, field, fragment):
    r = upload(db_stack.client, "bad-data", kind, content, **options)
    assert r.status_code == 422, r.get_data(as_text=True)
    body = r.get_json()
    assert field in body["fields"], body
    assert fragment in body["fields"][field], body
    _nothing_stored(db_stack)


@pytest.mark.parametrize(("kind", "content", "options", "field", "fragment"), BAD[:8])
def test_the_form_shows_the_same_errors(db_stack, kind, content, options, field, fragment):
    data = {"name": "bad-data", "kind": kind, **options, "file": (io.BytesIO(content), "upload.csv")}
    r = db_stack.client.post("/datasets", data=data, content_type="multipart/form-data")
    assert r.status_code == 422
    assert fragment in html.unescape(r.get_data(as_text=True))
    _nothing_stored(db_stack)


def test_a_new_upload_under_a_name_makes_the_next_version(db_stack):
    good = b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n"
    first = upload(db_stack.client, "pairs", "tabular", good)
    second = upload(db_stack.client, "pairs", "tabular", good + b"9,10,x\n")
    assert (first.status_code, second.status_code) == (201, 201)
    assert (first.get_json()["version"], second.get_json()["version"]) == (1, 2)
    assert second.get_json()["rows"] == 5
    versions = db_stack.client.get("/api/v1/datasets/pairs").get_json()["items"]
    assert [v["version"] for v in versions] == [2, 1]
    stored = db_stack.settings.models_store / "datasets" / "pairs" / "v2" / "data.csv"
    assert stored.read_bytes() == good + b"9,10,x\n"
    assert first.get_json()["schema"]["label"]["classes"] == ["x", "y"]


def test_multipart_upload_through_the_api_and_the_pang_lee_file(db_stack):
    from gensim.test.utils import datapath

    with open(datapath("pang_lee_polarity.cor"), "rb") as fh:
        r = db_stack.client.post("/api/v1/datasets", data={
            "name": "polarity", "kind": "text", "encoding": "latin-1", "file": (fh, "polarity.cor")},
            content_type="multipart/form-data")
    assert r.status_code == 201, r.get_data(as_text=True)
    assert r.get_json()["rows"] == 200


def test_an_upload_over_the_limit_is_413_and_leaves_nothing(db_stack):
    from app import create_app
    from app.config import Settings

    small = create_app(Settings(**{**db_stack.settings.__dict__, "max_upload_bytes": 1000}))
    client = small.test_client()
    client.environ_base.update({"HTTP_AUTHORIZATION": db_stack.auth()["Authorization"]})
    r = upload(client, "big", "corpus", b"word " * 1000)
    assert r.status_code == 413
    assert "upload limit" in r.get_json()["fields"]["file"]
    small.extensions["trainyard"].engine.dispose()
    _nothing_stored(db_stack)


def test_an_npz_zip_bomb_is_a_422_naming_the_reason_and_leaves_nothing(db_stack):
    buf = io.BytesIO()
    np.savez_compressed(buf, X=np.zeros((2000, 64, 64)), y=np.arange(2000) % 2)
    r = upload(db_stack.client, "bomb", "images", buf.getvalue())
    assert r.status_code == 422, r.get_data(as_text=True)
    assert "refused as a zip bomb" in r.get_json()["fields"]["file"]
    _nothing_stored(db_stack)


def test_upload_names_are_never_paths(db_stack):
    for name in ("../evil", "a/b", "..", ""):
        r = upload(db_stack.client, name, "corpus", b"some words here\n")
        assert r.status_code == 422 and "name" in r.get_json()["fields"], name
    _nothing_stored(db_stack)

"""The OpenAPI document lists every upload option the code accepts, with its type and meaning, and no other."""
from __future__ import annotations

from app.data.uploads import UPLOAD_OPTIONS
from app.web.api.openapi import document

NOT_OPTIONS = {"name", "kind", "description", "file"}


def test_every_upload_option_is_documented_with_its_type_and_meaning():
    accepted = {name for names in UPLOAD_OPTIONS.values() for name in names}
    post = document()["paths"]["/datasets"]["post"]
    query = {p["name"]: p["schema"] for p in post["parameters"] if p["name"] not in NOT_OPTIONS}
    form = post["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    form = {k: v for k, v in form.items() if k not in NOT_OPTIONS}
    assert set(query) == accepted and set(form) == accepted
    assert {"label_column", "text_column", "delimiter", "encoding", "decimal", "format", "purpose",
            "key_column"} <= accepted
    for name, schema in query.items():
        assert ("type" in schema or "enum" in schema) and len(schema["description"]) > 20, name
        kinds = [kind for kind, names in UPLOAD_OPTIONS.items() if name in names]
        assert f"(kinds: {', '.join(kinds)})" in schema["description"], name

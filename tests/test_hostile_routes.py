"""Every route in the URL map, sent NUL bytes (path, query, form, JSON) and JSON nested 1,000 deep, on PostgreSQL.

PostgreSQL refuses a NUL byte in a text column and Python's JSON parser recurses: before the one check
in app/web/hostile.py both were 500s. Here no route may answer 5xx, and a refusal names the field.
"""
from __future__ import annotations

import json
import re

import pytest
from flask import url_for
from werkzeug.routing import IntegerConverter

from app.config import PROJECT_ROOT

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
EVIL = "a\x00b"
DEEP = 1000


def _names_the_code_reads() -> list[str]:
    """Every literal field name app/web reads (args.get("x"), form.get("x"), body["x"], ...)."""
    found: set[str] = set()
    for path in (PROJECT_ROOT / "app" / "web").rglob("*.py"):
        found.update(re.findall(r'(?:\.get|\.getlist|\.pop)\(\s*"([a-z_]{1,40})"', path.read_text()))
        found.update(re.findall(r'\[\s*"([a-z_]{1,40})"\s*\]', path.read_text()))
    return sorted(found)


def _url(app, rule, text: str) -> str:
    values = {arg: 999999 if isinstance(rule._converters[arg], IntegerConverter) else text
              for arg in rule.arguments}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def _variants(names: list[str], method: str) -> dict[str, dict]:
    """What to send: request keyword arguments per kind of hostile input."""
    query = {n: EVIL for n in names}
    deep_list = "[" * DEEP + "]" * DEEP
    deep_object = '{"a":' * DEEP + "1" + "}" * DEEP
    out = {"path": {}, "query": {"query_string": query}}
    if method in UNSAFE:
        out.update({
            "json": {"json": {**{n: EVIL for n in names}, "params": {"epochs\x00": 1}}},
            "json-key": {"json": {"params": {"ep\x00ochs": 1}}},
            "deep-list": {"data": json.dumps({"model_name": "x"})[:-1] + f', "params": {deep_list}}}',
                          "content_type": "application/json"},
            "deep-object": {"data": deep_object, "content_type": "application/json"},
            "form": {"data": {n: EVIL for n in names}},
        })
    return out


@pytest.mark.parametrize("db_stack", ["postgresql"], indirect=True)
def test_no_route_answers_5xx_to_nul_bytes_or_deep_json(db_stack):
    app, names = db_stack.app, _names_the_code_reads()
    bearer, browser = db_stack.client_as("admin"), db_stack.browser_client("admin")
    # Sign-out last: it ends the walking browser's session.
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "auth.logout", r.rule))
    tried, failures, unnamed = 0, [], []
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for variant, kwargs in _variants(names, method).items():
                path = _url(app, rule, EVIL if variant == "path" else "x")
                if variant == "path" and EVIL not in path.replace("%00", "\x00"):
                    continue  # no text in this route's path
                client = bearer if path.startswith("/api/") else browser
                headers = {"X-CSRF-Token": browser.csrf} if client is browser and method in UNSAFE else {}
                tried += 1
                try:  # in test mode Flask raises what would be a 500 instead of answering it
                    r = client.open(path, method=method, headers=headers, **kwargs)
                except Exception as exc:
                    failures.append(f"{method} {rule.rule} [{variant}]: {type(exc).__name__}")
                    continue
                if r.status_code >= 500:
                    failures.append(f"{method} {rule.rule} [{variant}]: {r.status_code}")
                elif r.status_code == 422 and path.startswith("/api/") and not r.get_json().get("fields"):
                    unnamed.append(f"{method} {rule.rule} [{variant}]: {r.get_json()}")
    print(f"hostile route walk: {tried} requests over {len(rules)} routes, {len(failures)} answered 5xx")
    assert not failures, f"{len(failures)} of {tried} hostile requests answered 5xx:\n" + "\n".join(failures)
    assert not unnamed, "\n".join(unnamed)
    assert tried > 3 * len(rules)


@pytest.mark.parametrize("db_stack", ["postgresql"], indirect=True)
@pytest.mark.parametrize(("how", "field"), [
    ({"query_string": {"status": EVIL}}, "status"),
    ({"json": {"kind": "mlp", "dataset": "iris", "model_name": EVIL}}, "model_name"),
    ({"json": {"kind": "mlp", "dataset": "iris", "model_name": "m", "params": {"epochs": [EVIL]}}},
     "params.epochs.0"),
    ({"json": {"kind": "mlp", "params": {"ep\x00ochs": 1}}}, "params.ep\\x00ochs"),
    ({"data": '{"params":' + "[" * DEEP + "]" * DEEP + "}", "content_type": "application/json"}, "body"),
    ({"data": '{"params":' + '{"a":' * 40 + "1" + "}" * 41, "content_type": "application/json"},
     "params" + ".a" * 32),
])
def test_a_refusal_names_the_field(db_stack, how, field):
    r = db_stack.client.post("/api/v1/jobs", **how) if "query_string" not in how else \
        db_stack.client.get("/api/v1/jobs", **how)
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert field in r.get_json()["fields"], r.get_json()


@pytest.mark.parametrize("db_stack", ["postgresql"], indirect=True)
def test_nul_in_a_path_a_header_or_a_form_is_refused_on_pages_too(db_stack):
    browser = db_stack.browser_client("admin")
    page = browser.get("/models/a%00b")
    assert page.status_code == 422 and "path" in page.get_data(as_text=True)
    api = db_stack.client.post("/api/v1/jobs", json={"kind": "mlp"}, headers={"Idempotency-Key": EVIL})
    assert api.status_code == 422 and "header Idempotency-Key" in api.get_json()["fields"]
    form = browser.post("/jobs/new", data={"model_name": EVIL, "csrf_token": browser.csrf})
    assert form.status_code == 422 and "model_name" in form.get_data(as_text=True)


@pytest.mark.parametrize("db_stack", ["postgresql"], indirect=True)
@pytest.mark.parametrize("params", ['{"epochs": "a\\u0000b"}', "[" * DEEP + "]" * DEEP])
def test_json_typed_into_a_form_is_checked_too(db_stack, params):
    browser = db_stack.browser_client("admin")
    r = browser.post("/schedules", data={"name": "s", "model_name": "m", "kind": "mlp", "dataset": "iris",
                                         "cron": "0 * * * *", "params": params, "csrf_token": browser.csrf})
    assert 400 <= r.status_code < 500 and "params" in r.get_data(as_text=True)

"""JSON bodies through orjson (app/http_json.py): the same JSON as Flask's own provider wrote, faster."""
from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime

import numpy as np
import pytest
from flask import Flask, jsonify

from app.http_json import use_orjson


@pytest.fixture
def app() -> Flask:
    flask_app = Flask("json-bodies")
    use_orjson(flask_app)
    return flask_app


def test_a_body_reads_as_flask_wrote_it(app):
    """Dates as HTTP dates, keys in the order written, a newline at the end, numpy arrays as lists."""
    body = {"z": 1, "a": [1.5, "é"], "when": datetime(2026, 11, 28, 20, 0, tzinfo=UTC), "day": date(2026, 1, 2),
            "rows": np.array([[1, 2], [3, 4]]), 7: "seven"}
    with app.app_context():
        raw = jsonify(body).get_data()
    assert raw.endswith(b"}\n") and raw.index(b'"z"') < raw.index(b'"a"')  # not sorted: the code's order
    got = json.loads(raw)
    assert got == {"z": 1, "a": [1.5, "é"], "when": "Sat, 28 Nov 2026 20:00:00 GMT",
                   "day": "Fri, 02 Jan 2026 00:00:00 GMT", "rows": [[1, 2], [3, 4]], "7": "seven"}


def test_what_orjson_refuses_falls_back_and_nan_is_null(app):
    with app.app_context():
        huge = json.loads(jsonify({"n": 2**70}).get_data())
        nan = jsonify({"loss": math.nan}).get_data()
        assert app.json.dumps({"a": 1}, indent=1) == '{\n "a": 1\n}'  # encoder options: the standard library
    assert huge == {"n": 2**70}
    assert json.loads(nan) == {"loss": None}  # the standard library wrote NaN, which JSON parsers refuse


def test_a_type_nobody_can_write_is_still_an_error(app):
    with app.app_context(), pytest.raises(TypeError):
        jsonify({"x": object()})


def test_debug_mode_indents_as_flask_did(app):
    app.debug = True
    with app.app_context():
        assert jsonify({"a": 1}).get_data() == b'{\n  "a": 1\n}\n'


def test_the_web_answers_through_it(db_stack):
    """The real app's bodies go through the provider (serve's too: tests/serve read every answer)."""
    from app.http_json import OrjsonProvider

    assert isinstance(db_stack.app.json, OrjsonProvider)
    r = db_stack.client.get("/api/v1/jobs?limit=5")
    assert r.status_code == 200 and r.get_data().endswith(b"\n") and "items" in r.get_json()


def test_a_token_request_gets_no_session_cookie_and_a_login_still_does(db_stack):
    """The session interface skips the cookie's signing when a request carries none (app/web/factory.py)."""
    r = db_stack.client.get("/api/v1/me")
    assert r.status_code == 200 and "Set-Cookie" not in r.headers and "Cookie" not in r.headers.get("Vary", "")
    browser = db_stack.browser_client("member")  # logs in through the form: the cookie is set and read back
    page = browser.get("/account")
    assert page.status_code == 200 and "test-member" in page.get_data(as_text=True)


def test_the_provider_s_settings_still_count(app):
    """``sort_keys`` and ``ensure_ascii`` do what Flask's provider did with them; ``default`` runs once a value."""
    calls = []

    def default(o):
        calls.append(o)
        raise TypeError(f"no {type(o).__name__}")

    with app.app_context():
        app.json.sort_keys = True
        assert app.json.dumps({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
        app.json.ensure_ascii = True
        assert app.json.dumps({"b": 1, "a": "é"}) == '{"a":"\\u00e9","b":1}'
        app.json.ensure_ascii, app.json.default = False, default
        with pytest.raises(TypeError):
            app.json.dumps({"x": object()})
    assert len(calls) == 1

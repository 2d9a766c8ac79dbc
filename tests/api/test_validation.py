"""Bad input gets a 4xx naming the field and the reason, never a 500, and writes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.models import Job
from app.services.usecases.doorbell import redispatch_stale
from tests.support import train_body


def _job_count(stack) -> int:
    with stack.runtime.session() as s:
        return s.scalar(select(func.count()).select_from(Job))


@pytest.mark.parametrize(("change", "field", "fragment"), [
    ({"kind": "transformer"}, "kind", "unknown model kind"),
    ({"params": {"epochs": 0}}, "params.epochs", "between 1 and 1000"),
    ({"params": {"epochs": 10**9}}, "params.epochs", "between 1 and 1000"),
    ({"params": {"epochs": "many"}}, "params.epochs", "must be an integer"),
    ({"params": {"learning_rate": "fast"}}, "params.learning_rate", "must be a number"),
    ({"params": {"epochs": 1, "layers_please": 3}}, "params.layers_please", "unknown parameter"),
    ({"dataset": "imagenet"}, "dataset", "no dataset 'imagenet'"),
    ({"dataset": "digits:99"}, "dataset", "no dataset 'digits:99'"),
    ({"dataset": 42}, "dataset", "dataset must be"),
    ({"model_name": "../../etc"}, "model_name", "letters, digits"),
    ({"model_name": ""}, "model_name", "required"),
    ({"queue": "tpu"}, "queue", "one of cpu, gpu"),
    ({"params": "epochs=3"}, "params", "must be an object"),
])
def test_invalid_submissions_are_422_with_a_message_per_field(db_stack, change, field, fragment):
    before = _job_count(db_stack)
    r = db_stack.client.post("/api/v1/jobs", json={**train_body("ok-name"), **change})
    assert r.status_code == 422, r.get_data(as_text=True)
    body = r.get_json()
    assert body["error"] == "invalid"
    assert fragment in body["fields"][field]
    assert _job_count(db_stack) == before


@pytest.mark.parametrize("data, content_type", [
    ("not json", "application/json"),
    ("[1, 2]", "application/json"),
    ("kind=mlp", "application/x-www-form-urlencoded"),
])
def test_a_body_that_is_not_a_json_object_is_refused(db_stack, data, content_type):
    r = db_stack.client.post("/api/v1/jobs", data=data, content_type=content_type)
    assert r.status_code == 422
    assert "body" in r.get_json()["fields"]


def test_unknown_job_is_404_json(db_stack):
    r = db_stack.client.get("/api/v1/jobs/00000000-0000-0000-0000-000000000000")
    assert r.status_code == 404
    assert r.get_json()["error"] == "notfound"


@pytest.mark.parametrize("query, field", [("status=exploded", "status"), ("limit=0", "limit"),
                                          ("limit=abc", "limit"), ("cursor=%%%", "cursor")])
def test_bad_list_filters_are_422(db_stack, query, field):
    r = db_stack.client.get(f"/api/v1/jobs?{query}")
    assert r.status_code == 422
    assert field in r.get_json()["fields"]


def test_unknown_api_route_is_json_404(db_stack):
    r = db_stack.client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.is_json


def test_kinds_endpoint_publishes_the_declaration(db_stack):
    kinds = db_stack.client.get("/api/v1/kinds").get_json()["items"]
    mlp = next(k for k in kinds if k["name"] == "mlp")
    epochs = next(p for p in mlp["params"] if p["name"] == "epochs")
    assert epochs["minimum"] == 1 and epochs["maximum"] == 1000 and epochs["type"] == "integer"


def test_builtin_datasets_are_registered(db_stack):
    names = {d["name"] for d in db_stack.client.get("/api/v1/datasets").get_json()["items"]}
    assert {"digits", "iris", "wine", "breast_cancer"} <= names


def test_a_job_is_accepted_even_when_redis_is_down(db_stack, model_name):
    """The database is the truth: the job is committed and stays queued for the reconciler."""
    from app import create_app
    from app.config import Settings

    broken = create_app(Settings(**{**db_stack.settings.__dict__, "redis_url": "redis://127.0.0.1:1/0"}))
    r = broken.test_client().post("/api/v1/jobs", json=train_body(model_name), headers=db_stack.auth())
    assert r.status_code == 201
    job = r.get_json()
    assert job["status"] == "queued"
    with db_stack.runtime.session() as s:
        assert s.get(Job, job["id"]).dispatched_at is None
    broken.extensions["trainyard"].engine.dispose()
    # The reconciler (here with a working broker) rings for it.
    assert job["id"] in redispatch_stale(db_stack.runtime)
    with db_stack.runtime.session() as s:
        assert s.get(Job, job["id"]).dispatched_at is not None


def test_hostile_values_get_4xx_not_500(db_stack):
    c = db_stack.client
    huge = 10**20
    cases = [
        c.post("/api/v1/jobs", json={**train_body("x"), "idempotency_key": 12}),
        c.post("/api/v1/jobs", json={**train_body("x"), "idempotency_key": "k" * 129}),
        c.post("/api/v1/jobs", json={**train_body("x"), "dataset": "digits:\u00b2"}),
        c.post("/api/v1/jobs", json={**train_body("x"), "params": {"learning_rate": 10**400}}),
        c.get(f"/api/v1/jobs/abc/events?after={huge}"),
        c.get(f"/api/v1/models/m/versions/{huge}"),
        c.get(f"/api/v1/datasets/digits/versions/{huge}"),
        c.get(f"/api/v1/datasets/digits/versions/{huge}/preview"),
        c.post("/api/v1/models/m/aliases/production", json={"version": huge, "reason": "x"}),
        c.get("/api/v1/jobs?limit=99999999999999999999"),
    ]
    # No serve process runs here: the predict API says so (503), still not a 500.
    assert c.post("/api/v1/models/m/predict", json={"instances": [[1]]}).status_code == 503
    for i, r in enumerate(cases):
        assert 400 <= r.status_code < 500, (i, r.status_code, r.get_data(as_text=True)[:200])


def test_an_unexpected_error_is_a_500_in_the_same_form(db_stack, monkeypatch):
    from app import create_app
    from app.web.auth.policy import POLICY

    app = create_app(db_stack.settings)
    monkeypatch.setitem(POLICY, "api_boom", "public")  # routes of this test only
    monkeypatch.setitem(POLICY, "page_boom", "public")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: answer instead of re-raising

    @app.get("/api/v1/test-boom")
    def api_boom():
        raise RuntimeError("boom")

    @app.get("/test-boom")
    def page_boom():
        raise RuntimeError("boom")

    api = app.test_client().get("/api/v1/test-boom")
    page = app.test_client().get("/test-boom")
    assert api.status_code == 500 and api.get_json()["error"] == "internal" and "boom" not in api.get_data(as_text=True)
    assert page.status_code == 500 and "Back to jobs" in page.get_data(as_text=True)
    app.extensions["trainyard"].engine.dispose()

"""A number in a URL larger than any id or version the database stores is a 404 saying so, on every route
that takes one, never the database's overflow error as a 500 (the API fuzzing found DELETE /webhooks/<id>)."""
from __future__ import annotations

from app.web.ids import MAX_ID

HUGE = "9" * 30


ROUTES = [
    ("DELETE", "/api/v1/webhooks/{n}"), ("GET", "/api/v1/schedules/{n}"), ("PATCH", "/api/v1/schedules/{n}"),
    ("POST", "/api/v1/schedules/{n}/pause"), ("GET", "/api/v1/models/m/versions/{n}"),
    ("POST", "/api/v1/models/m/versions/{n}/archive"), ("GET", "/api/v1/datasets/iris/versions/{n}/preview"),
    ("GET", "/models/m/versions/{n}"),
]


def test_a_number_past_any_id_is_a_404_naming_the_limit(db_stack):
    for method, path in ROUTES:
        for n in (HUGE, str(MAX_ID + 1)):
            r = db_stack.client.open(path.format(n=n), method=method, json={})
            assert r.status_code == 404, (path, n, r.status_code, r.get_data(as_text=True)[:300])
            assert str(MAX_ID) in r.get_data(as_text=True)
        r = db_stack.client.open(path.format(n=MAX_ID), method=method, json={})  # the largest id: looked up
        assert r.status_code in (404, 409, 422), (path, r.get_data(as_text=True)[:300])

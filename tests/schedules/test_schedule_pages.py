"""The schedule pages: create with inline errors, edit, pause and resume, delete."""
from __future__ import annotations

FORM = {"name": "nightly", "model_name": "nightly-model", "kind": "mlp", "dataset": "iris",
        "params": '{"epochs": 3}', "queue": "cpu", "cron": "0 3 * * *", "timezone": "Europe/Paris",
        "metric": "test_accuracy", "higher_is_better": "on", "min_improvement": "0.01", "alias": "production",
        "overlap": "skip", "catchup": "once", "max_failures": "3", "enabled": "on"}


def test_create_edit_pause_delete(db_stack):
    c = db_stack.client
    page = c.get("/schedules")
    assert page.status_code == 200 and "No schedules yet" in page.get_data(as_text=True)
    bad = c.post("/schedules", data={**FORM, "cron": "every night", "params": "[1]"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "5-field cron expression" in html and "must be a JSON object" in html
    assert 'value="every night"' in html  # values kept on error
    r = c.post("/schedules", data=FORM)
    assert r.status_code == 303
    detail = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "Schedule nightly" in detail and "Not fired yet" in detail and "enabled" in detail
    sid = int(r.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    r = c.post(f"/schedules/{sid}", data={**FORM, "params": '{"epochs": 0}'})
    assert r.status_code == 422 and "params.epochs" in r.get_data(as_text=True)
    assert c.post(f"/schedules/{sid}", data={**FORM, "cron": "30 4 * * 1"}).status_code == 303
    assert c.get(f"/api/v1/schedules/{sid}").get_json()["cron"] == "30 4 * * 1"
    c.post(f"/schedules/{sid}/pause")
    assert "Resume" in c.get(f"/schedules/{sid}").get_data(as_text=True)
    c.post(f"/schedules/{sid}/resume")
    assert c.get(f"/api/v1/schedules/{sid}").get_json()["enabled"] is True
    assert c.post(f"/schedules/{sid}/delete").status_code == 303
    assert c.get(f"/schedules/{sid}").status_code == 404

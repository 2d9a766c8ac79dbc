"""Dashboard pages for scheduled retrains: list, create, edit (with the next five runs), pause, delete."""
from __future__ import annotations

import json

from flask import redirect, render_template, request, url_for

from app.domain.errors import Invalid
from app.kinds import KINDS, default_kind
from app.services import datasets, schedules
from app.services.usecases.schedule import create_schedule as create
from app.web import hostile
from app.web.auth.guard import actor
from app.web.http import runtime
from app.web.pages import bp

_CHECKBOXES = ("enabled", "higher_is_better", "only_if_data_changed")


def _form_values(form) -> tuple[dict, dict]:
    """The schedule fields from a form; params come as a JSON object in a textarea."""
    values = {k: form.get(k) for k in ("name", "model_name", "kind", "dataset", "queue", "cron", "timezone",
                                       "metric", "min_improvement", "alias", "overlap", "catchup",
                                       "max_failures")}
    for box in _CHECKBOXES:
        values[box] = form.get(box) == "on"
    errors = {}
    try:
        params = json.loads(form.get("params") or "{}")
        if not isinstance(params, dict):
            raise ValueError
        hostile.check_json(params, "params")  # JSON inside a form: the request check cannot see into it
        values["params"] = params
    except (ValueError, RecursionError):
        errors["params"] = 'must be a JSON object such as {"epochs": 20}'
    return values, errors


def _page(template: str, status: int = 200, **context):
    with runtime().session() as session:
        newest: dict[str, bool] = {}
        for d in datasets.list_datasets(session):  # newest version first: a schedule trains on it
            newest.setdefault(d.name, d.scoring_only)
    names = sorted(name for name, scoring_only in newest.items() if not scoring_only)
    return render_template(template, kinds=KINDS, dataset_names=names, **context), status


@bp.get("/schedules")
def schedule_list():
    with runtime().session() as session:
        items = schedules.list_schedules(session)
    values = {"cron": "0 3 * * *", "timezone": "UTC", "kind": default_kind(), "dataset": "iris", "params": "{}",
              "enabled": True, "higher_is_better": True, "metric": "test_accuracy", "alias": "production",
              "max_failures": 3, "min_improvement": 0}
    return _page("schedules.html", items=items, values=values, errors={})


@bp.post("/schedules")
def create_schedule():
    values, errors = _form_values(request.form)
    try:
        if errors:  # still check the other fields, so every problem shows at once
            with runtime().session() as session:
                schedules.validate(session, {**values, "params": {}})
        else:
            created = create(runtime(), values, actor())
            return redirect(url_for("web.schedule_detail", schedule_id=created["id"]), code=303)
    except Invalid as exc:
        errors = {**exc.fields, **errors}
    with runtime().session() as session:
        items = schedules.list_schedules(session)
    values["params"] = request.form.get("params") or "{}"
    return _page("schedules.html", 422, items=items, values=values, errors=errors)


@bp.get("/schedules/<int:schedule_id>")
def schedule_detail(schedule_id: int):
    with runtime().session() as session:
        s = schedules.get_schedule(session, schedule_id)
    values = {**s, "dataset": s["dataset_name"], "params": json.dumps(s["params"], indent=1)}
    return _page("schedule.html", schedule=s, values=values, errors={})


@bp.post("/schedules/<int:schedule_id>")
def edit_schedule(schedule_id: int):
    values, errors = _form_values(request.form)
    try:
        with runtime().session() as session:
            if errors:
                schedules.validate(session, {**values, "params": {}})
            else:
                schedules.update_schedule(session, schedule_id, values)
                return redirect(url_for("web.schedule_detail", schedule_id=schedule_id), code=303)
    except Invalid as exc:
        errors = {**exc.fields, **errors}
    with runtime().session() as session:
        s = schedules.get_schedule(session, schedule_id)
    values["params"] = request.form.get("params") or "{}"
    return _page("schedule.html", 422, schedule=s, values=values, errors=errors)


def _set_enabled(schedule_id: int, enabled: bool):
    with runtime().session() as session:
        schedules.set_enabled(session, schedule_id, enabled)
    return redirect(url_for("web.schedule_detail", schedule_id=schedule_id), code=303)


@bp.post("/schedules/<int:schedule_id>/pause")
def pause_schedule(schedule_id: int):
    return _set_enabled(schedule_id, False)


@bp.post("/schedules/<int:schedule_id>/resume")
def resume_schedule(schedule_id: int):
    return _set_enabled(schedule_id, True)


@bp.post("/schedules/<int:schedule_id>/delete")
def delete_schedule(schedule_id: int):
    with runtime().session() as session:
        schedules.delete(session, schedule_id)
    return redirect(url_for("web.schedule_list"), code=303)

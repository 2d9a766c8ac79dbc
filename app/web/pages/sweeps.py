"""Dashboard pages for sweeps: the list, the form (generated from the kind's declared parameters), the live
sweep page (it polls the JSON API), and its buttons: pause, resume, cancel, register the best trial."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for

from app.domain.errors import Invalid, NotFound
from app.kinds import KINDS, default_kind
from app.services import datasets, sweeps
from app.services.sweep_definition import RESOURCE, STRATEGIES
from app.services.usecases.sweep import create_sweep as create
from app.services.usecases.sweep import move_sweep, register_best
from app.web.auth.guard import actor, require_owner_or_admin
from app.web.http import runtime
from app.web.pages import bp

BUDGET = ("trials", "parallel", "epochs", "wall_time_s", "min_epochs", "reduction_factor")
MODES = ("fixed", "list", "range")


def _number(text: str | None):
    text = (text or "").strip()
    return int(text) if text.lstrip("-").isdigit() else (text or None)


def form_body(form) -> dict:
    """The API's sweep body from the form: per parameter a mode (fixed, list, range) and its inputs."""
    spec = KINDS.get(form.get("kind", ""))
    space: dict = {}
    for p in spec.params if spec else ():
        key, mode = f"space.{p.name}", form.get(f"space.{p.name}.mode", "fixed")
        if p.name == RESOURCE:
            continue
        if mode == "list":
            space[p.name] = [v.strip() for v in form.get(f"{key}.values", "").split(",") if v.strip()]
        elif mode == "range":
            space[p.name] = {"min": form.get(f"{key}.min"), "max": form.get(f"{key}.max"),
                             "scale": form.get(f"{key}.scale", "linear")}
        elif form.get(f"{key}.value", "") != "":
            space[p.name] = form.get(f"{key}.value")
    budget = {k: _number(form.get(f"budget.{k}")) for k in BUDGET if form.get(f"budget.{k}")}
    return {"kind": form.get("kind", ""), "dataset": form.get("dataset", ""),
            "model_name": form.get("model_name", ""), "metric": form.get("metric", ""),
            "direction": form.get("direction", "maximize"), "strategy": form.get("strategy", "asha"),
            "seed": _number(form.get("seed")) or 0, "space": space, "budget": budget}


def _form(kind: str, values: dict, errors: dict, status: int = 200):
    spec = KINDS.get(kind) or KINDS[default_kind()]
    with runtime().session() as session:
        offered = [d for d in datasets.list_datasets(session) if not d.scoring_only and d.kind in spec.data_kinds]
    return render_template("new_sweep.html", kinds=KINDS.values(), spec=spec, datasets=offered, values=values,
                           errors=errors, strategies=STRATEGIES, resource=RESOURCE), status


@bp.get("/sweeps")
def sweep_list():
    with runtime().session() as session:
        items = sweeps.list_sweeps(session)
    return render_template("sweeps.html", items=items)


@bp.get("/sweeps/new")
def new_sweep():
    kind = request.args.get("kind", default_kind())
    return _form(kind, {"budget.trials": 20, "budget.parallel": 2, "budget.epochs": 9, "strategy": "asha"}, {})


@bp.post("/sweeps/new")
def create_sweep():
    body = form_body(request.form)
    try:
        created = create(runtime(), body, actor())
    except Invalid as exc:
        return _form(body["kind"], dict(request.form), exc.fields, 422)
    return redirect(url_for("web.sweep_detail", sweep_id=created["id"]), code=303)


@bp.get("/sweeps/<int:sweep_id>")
def sweep_detail(sweep_id: int):
    with runtime().session() as session:
        sweep = sweeps.get_sweep(session, sweep_id)
    searched = [name for name, entry in sweep["space"].items() if entry["type"] != "fixed"]
    return render_template("sweep.html", sweep=sweep, params=searched)


@bp.post("/sweeps/<int:sweep_id>/<action>")
def sweep_action(sweep_id: int, action: str):
    if action not in ("pause", "resume", "cancel"):
        raise NotFound(f"no sweep action {action!r}: pause, resume or cancel")
    move_sweep(runtime(), sweep_id, action, actor(), lambda owner: require_owner_or_admin(owner, f"{action} it"))
    return redirect(url_for("web.sweep_detail", sweep_id=sweep_id), code=303)


@bp.post("/sweeps/<int:sweep_id>/register")
def register_sweep_best(sweep_id: int):
    registered = register_best(runtime(), sweep_id, actor(),
                               lambda owner: require_owner_or_admin(owner, "register its best trial"))
    return redirect(url_for("web.version_detail", name=registered["model_name"], version=registered["version"]),
                    code=303)

"""The batch-inference form: pick a model and a version or alias, a dataset, and score it."""
from __future__ import annotations

import uuid

from flask import redirect, render_template, request, url_for

from app.domain.errors import Invalid
from app.kinds import Input, kinds_taking
from app.services import datasets, registry
from app.services.usecases.submit import submit_batch
from app.web.auth.guard import actor, audit_in_unit
from app.web.http import runtime
from app.web.pages import bp


def _context(values: dict, errors: dict) -> dict:
    with runtime().session() as session:
        models = registry.list_models(session)
        all_datasets = datasets.list_datasets(session)
    return {"models": models, "datasets": all_datasets, "values": values, "errors": errors,
            "word_kinds": kinds_taking(Input.WORDS),  # the kinds that score words, not rows
            "idempotency_key": values.get("idempotency_key") or str(uuid.uuid4())}


@bp.get("/jobs/new/batch")
def new_batch_job():
    values = {"model_name": request.args.get("model_name", ""), "use": "alias", "alias": "production",
              "dataset": request.args.get("dataset", ""), "chunk_rows": runtime().settings.batch_chunk_rows,
              "mode": "neighbours", "topn": 10}
    return render_template("new_batch_job.html", **_context(values, {}))


@bp.post("/jobs/new/batch")
def submit_batch_job():
    form = request.form
    values = {k: form.get(k, "") for k in ("model_name", "use", "alias", "version", "dataset", "chunk_rows",
                                           "key_column", "words", "mode", "topn", "queue", "idempotency_key")}
    raw: dict = {"model_name": values["model_name"], "queue": values["queue"] or "cpu", "params": {}}
    errors: dict[str, str] = {}
    if values["use"] == "version":
        raw["version"] = _number(values["version"], "version", errors)
    else:
        raw["alias"] = values["alias"] or "production"
    if values["dataset"]:
        raw["dataset"] = values["dataset"]
    for name in ("chunk_rows", "topn"):
        if values[name]:
            raw["params"][name] = _number(values[name], f"params.{name}", errors)
    if values["key_column"]:
        raw["params"]["key_column"] = values["key_column"]
    if values["words"].strip():
        raw["params"]["words"] = values["words"].split()
    if values["mode"]:
        raw["params"]["mode"] = values["mode"]
    try:
        if errors:
            raise Invalid(errors)
        job, _ = submit_batch(runtime(), raw, created_by=actor(), idempotency_key=values["idempotency_key"] or None,
                              audit=audit_in_unit(lambda made: url_for("web.job_detail", job_id=made.id)))
    except Invalid as exc:
        return render_template("new_batch_job.html", **_context(values, {**exc.fields, **errors})), 422
    return redirect(url_for("web.job_detail", job_id=job.id), code=303)


def _number(text: str, field: str, errors: dict[str, str]) -> int | None:
    try:
        return int(text)
    except ValueError:
        errors[field] = f"must be a whole number, got {text[:20]!r}"
        return None

"""Dashboard pages. Thin: read the form, call a use-case (or read through a service), render."""
from __future__ import annotations

import uuid

from flask import redirect, render_template, request, url_for

from app.data.types import DATA_KINDS
from app.domain.errors import Conflict, Invalid
from app.domain.status import JobStatus
from app.kinds import KINDS, default_kind, suggested_kind
from app.services import aliases, batch, datasets, registry
from app.services.events import epoch_history, job_events
from app.services.job_reads import get_job, list_jobs
from app.services.queues import QUEUES, queue_activity
from app.services.uploads import Upload
from app.services.usecases import promote as moves
from app.services.usecases.cancel import cancel_job as cancel
from app.services.usecases.submit import submit_training
from app.services.usecases.upload import upload_dataset as upload_file
from app.web.auth.guard import actor, audit_in_unit, require_owner_or_admin
from app.web.http import runtime, send_artifact
from app.web.pages import bp


@bp.get("/")
def index():
    filters = {k: request.args.get(k) or None for k in ("status", "kind", "model", "created_by", "sort")}
    with runtime().session() as session:
        page, next_cursor = list_jobs(
            session, status=filters["status"], kind=filters["kind"], model_name=filters["model"],
            created_by=filters["created_by"], oldest_first=filters["sort"] == "oldest", limit=50,
            cursor=request.args.get("cursor") or None)
    next_url = (url_for("web.index", cursor=next_cursor, **{k: v for k, v in filters.items() if v})
                if next_cursor else None)
    return render_template("index.html", jobs=page, next_url=next_url, status=filters["status"],
                           statuses=list(JobStatus), filters=filters, kinds=KINDS)


def _form_context(kind_name: str, values: dict, errors: dict) -> dict:
    """The form offers only what the kind can train on: its data kinds, never a file uploaded for scoring;
    a parameter that names a dataset (``ref="dataset:corpus"``) is a picker of that kind's datasets."""
    spec = KINDS.get(kind_name) or KINDS[default_kind()]
    with runtime().session() as session:
        trainable = [d for d in datasets.list_datasets(session) if not d.scoring_only]
    pickers = {p.name: _choices([d for d in trainable if d.kind == p.ref.partition(":")[2]],
                                str(values.get(f"params.{p.name}", p.default) or ""))
               for p in spec.params if p.ref.startswith("dataset:")}
    offered = _choices([d for d in trainable if d.kind in spec.data_kinds], str(values.get("dataset") or ""))
    return {"kinds": KINDS.values(), "spec": spec, "datasets": offered, "dataset_params": pickers,
            "values": values, "errors": errors,
            "idempotency_key": values.get("idempotency_key") or str(uuid.uuid4())}


def _choices(rows: list, current: str) -> list[dict]:
    """Options ``name:version`` (newest first); a bare ``name`` selects its newest version. A value that
    matches none (a re-run of a dataset since replaced) is kept as an option, so the form shows it."""
    out: list[dict] = []
    seen: set[str] = set()
    for d in rows:
        ref = f"{d.name}:{d.version}"
        out.append({"value": ref, "label": f"{d.name} v{d.version} ({d.rows:,} rows)",
                    "selected": current == ref or (current == d.name and d.name not in seen)})
        seen.add(d.name)
    if current and not any(o["selected"] for o in out):
        out.insert(0, {"value": current, "label": f"{current} (not offered)", "selected": True})
    return out


@bp.get("/jobs/new")
def new_job():
    rerun = request.args.get("rerun")
    if rerun:  # "Re-run with these parameters": the form pre-filled from an earlier job
        with runtime().session() as session:
            job = get_job(session, rerun)
        values = {"kind": job.kind, "dataset": f"{job.dataset}:{job.dataset_version}", "model_name": job.model_name,
                  "queue": job.queue, **{f"params.{k}": v for k, v in job.params.items()}}
        return render_template("new_job.html", **_form_context(job.kind, values, {}))
    kind = request.args.get("kind", default_kind())
    values = {"kind": kind, "dataset": request.args.get("dataset", ""),
              "model_name": request.args.get("model_name", ""), "queue": "cpu"}
    return render_template("new_job.html", **_form_context(kind, values, {}))


@bp.post("/jobs/new")
def submit_job():
    form = request.form
    kind = form.get("kind", "")
    spec = KINDS.get(kind)
    params = {p.name: form.get(f"params.{p.name}") for p in spec.params} if spec else {}
    if spec:
        for p in spec.params:  # unchecked checkboxes send nothing: that means false
            if p.type is bool:
                params[p.name] = form.get(f"params.{p.name}", "false")
    raw = {"kind": kind, "dataset": form.get("dataset", ""), "model_name": form.get("model_name", ""),
           "queue": form.get("queue", "cpu"), "gpus": form.get("gpus") or None, "params": params}
    try:
        job, _ = submit_training(runtime(), raw, created_by=actor(),
                                 idempotency_key=form.get("idempotency_key") or None,
                                 audit=audit_in_unit(lambda made: url_for("web.job_detail", job_id=made.id)))
    except Invalid as exc:
        values = {**raw, **{f"params.{k}": v for k, v in params.items()},
                  "idempotency_key": form.get("idempotency_key")}
        return render_template("new_job.html", **_form_context(kind, values, exc.fields)), 422
    return redirect(url_for("web.job_detail", job_id=job.id), code=303)


@bp.get("/jobs/<job_id>")
def job_detail(job_id: str):
    with runtime().session() as session:
        job = get_job(session, job_id)
        events = job_events(session, job_id)
        outputs = batch.outputs_of(session, job_id) if job.type == "infer" else []
    return render_template("job.html", job=job, events=events, outputs=outputs)


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    cancel(runtime(), job_id, actor=actor(), may_act=lambda owner: require_owner_or_admin(owner, "cancel this job"))
    return redirect(url_for("web.job_detail", job_id=job_id), code=303)


@bp.get("/workers")
def workers_page():
    from app.broker import queue_depths
    from app.services import workers

    with runtime().session() as session:
        activity = queue_activity(session)
        known = workers.list_workers(session)
        last = workers.last_completed_by_queue(session)
    depths = queue_depths(runtime().settings.redis_url, QUEUES) or {}
    return render_template("workers.html", activity=activity, depths=depths, workers=known, last_completed=last,
                           kinds=[KINDS.installed(name) for name in KINDS], broken_kinds=KINDS.broken)


@bp.get("/models")
def models():
    with runtime().session() as session:
        return render_template("models.html", models=registry.list_models(session))


MODEL_PAGE_VERSIONS = 100


def _model_page(name: str, error: str | None = None, status: int = 200):
    with runtime().session() as session:
        versions = registry.list_versions(session, name, limit=MODEL_PAGE_VERSIONS)
        current = aliases.aliases_of(session, name)
        moves = aliases.history(session, name)
    return render_template("model.html", name=name, versions=versions, aliases=current, history=moves,
                           error=error), status


@bp.get("/models/<name>")
def model_detail(name: str):
    return _model_page(name)


def _expected(form) -> int | None:
    raw = form.get("expected_version", "")
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 10 else None


@bp.post("/models/<name>/aliases")
def promote(name: str):
    form = request.form
    try:
        version = int(form.get("version", ""))
    except ValueError:
        return _model_page(name, "choose a version to promote", 422)
    try:
        moves.promote(runtime(), name, form.get("alias", ""), version, reason=form.get("reason", ""),
                      expected_version=_expected(form), actor=actor())
    except (Invalid, Conflict) as exc:
        return _model_page(name, exc.message, exc.status_code)
    return redirect(url_for("web.model_detail", name=name), code=303)


@bp.post("/models/<name>/aliases/<alias>/rollback")
def rollback(name: str, alias: str):
    try:
        moves.rollback(runtime(), name, alias, reason=request.form.get("reason", ""),
                       expected_version=_expected(request.form), actor=actor())
    except (Invalid, Conflict) as exc:
        return _model_page(name, exc.message, exc.status_code)
    return redirect(url_for("web.model_detail", name=name), code=303)


@bp.get("/models/<name>/compare")
def compare(name: str):
    """Two versions side by side: parameter differences, metrics, both training curves on one chart."""
    try:
        a, b = int(request.args.get("a", "")), int(request.args.get("b", ""))
    except ValueError:
        raise Invalid({"a": "choose two versions to compare"}) from None
    with runtime().session() as session:
        va, vb = registry.get_version(session, name, a), registry.get_version(session, name, b)
        histories = [{"name": f"v{a}", "history": epoch_history(session, va.job_id)},
                     {"name": f"v{b}", "history": epoch_history(session, vb.job_id)}]
    keys = sorted(set(va.params) | set(vb.params))
    params = [(k, va.params.get(k), vb.params.get(k)) for k in keys]
    scalar = [k for k in sorted(set(va.metrics) | set(vb.metrics))
              if isinstance(va.metrics.get(k, vb.metrics.get(k)), int | float | None)]
    return render_template("compare.html", name=name, va=va, vb=vb, params=params, metric_keys=scalar,
                           histories=histories)


@bp.get("/models/<name>/versions/<int:version>")
def version_detail(name: str, version: int):
    with runtime().session() as session:
        v = registry.get_version(session, name, version)
    return render_template("version.html", v=v)


@bp.get("/models/<name>/versions/<int:version>/artifacts/<filename>")
def download_artifact(name: str, version: int, filename: str):
    with runtime().session() as session:
        artifact = registry.get_artifact(session, name, version, filename)
    return send_artifact(artifact, inline=request.args.get("inline") == "1")


UPLOAD_FIELDS = ("delimiter", "encoding", "decimal", "label_column", "text_column", "format", "purpose", "key_column")


def _datasets_page(values: dict, errors: dict, status: int = 200):
    with runtime().session() as session:
        rows = datasets.list_datasets(session)
    return render_template("datasets.html", datasets=rows, kinds=DATA_KINDS, values=values,
                           errors=errors), status


@bp.get("/datasets")
def dataset_list():
    return _datasets_page({"kind": "tabular"}, {})


@bp.post("/datasets")
def upload_dataset():
    form = request.form
    upload = Upload(name=form.get("name", ""), kind=form.get("kind", ""),
                    options={k: form[k] for k in UPLOAD_FIELDS if form.get(k)},
                    description=form.get("description") or None, created_by=actor())
    file = request.files.get("file")
    try:
        if file is None or not file.filename:
            raise Invalid({"file": "choose a file to upload"})
        view = upload_file(runtime(), upload, file.stream)
    except Invalid as exc:
        return _datasets_page(dict(form), exc.fields, exc.status_code)
    return redirect(url_for("web.dataset_detail", name=view.name), code=303)


@bp.get("/datasets/<name>")
def dataset_detail(name: str):
    with runtime().session() as session:
        versions = datasets.dataset_versions(session, name)
        first = datasets.preview(session, runtime().store, name, versions[0].version)
    train_with = {d.kind: suggested_kind(d.kind) for d in versions}
    return render_template("dataset.html", name=name, versions=versions, preview=first, train_with=train_with)


@bp.get("/webhooks")
def webhooks_page():
    """Registered webhooks and the delivery log (attempts, last answer, next retry)."""
    from app.services import webhooks

    with runtime().session() as session:
        hooks = webhooks.list_webhooks(session)
        log = webhooks.deliveries(session, limit=100)
    return render_template("webhooks.html", hooks=hooks, deliveries=log)

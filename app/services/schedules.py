"""Scheduled retrains: validate and edit schedules, fire due ones, settle their runs.

Firing is safe with any number of beat processes: a due time is claimed by moving
``next_due_at`` forward conditionally on its old value AND by inserting the unique
(schedule, due time) run row, both in one transaction; the loser's transaction fails
or changes nothing. Missed due times after downtime collapse into at most one run.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.errors import Invalid, NotFound
from app.domain.status import ACTIVE, FINISHED, JobStatus
from app.models import Job, Schedule, ScheduleRun, utcnow
from app.services import lifecycle
from app.services.aliases import ALIAS, resolve_alias
from app.services.datasets import resolve_dataset
from app.services.idempotency import scoped_key
from app.services.queues import dispatchable
from app.services.submission import submit_train_job, validate_train_request
from app.services.views import _iso

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
OVERLAP = ("skip", "replace")
CATCHUP = ("once", "skip")
# A due time fired within this long after it is "on time"; older ones were missed (downtime).
ON_TIME = timedelta(seconds=90)
_FIELDS = ("name", "model_name", "kind", "dataset", "params", "queue", "cron", "timezone", "enabled", "metric",
           "higher_is_better", "min_improvement", "alias", "overlap", "catchup", "only_if_data_changed",
           "max_failures")


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def next_times(cron: str, timezone: str, after: datetime, n: int = 5) -> list[datetime]:
    """The next ``n`` due times after ``after``, in UTC (computed in the schedule's zone: DST-correct)."""
    it = croniter(cron, after.astimezone(_zone(timezone)))
    return [it.get_next(datetime).astimezone(UTC) for _ in range(n)]


def preview(cron: str, timezone: str, now: datetime) -> list[datetime]:
    """The next five due times, or the field errors of a bad cron or zone."""
    errors = {}
    try:
        _zone(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"unknown time zone {timezone!r}"
    problem = _cron_problem(cron, "UTC" if errors else timezone)
    if problem:
        errors["cron"] = problem
    if errors:
        raise Invalid(errors)
    return next_times(cron, timezone, now)


def _cron_problem(cron: Any, timezone: str) -> str | None:
    """Why ``cron`` cannot drive a schedule (not 5 fields, not valid, or never due), or None."""
    if not isinstance(cron, str) or len(cron.split()) != 5 or not croniter.is_valid(cron):
        return ("required: a 5-field cron expression (minute hour day month weekday), "
                "e.g. '0 3 * * *' for 03:00 every day")
    try:
        next_times(cron, timezone, utcnow(), 1)
    except CroniterBadDateError:
        return f"{cron!r} is never due (no date matches it, e.g. 30 February)"
    return None


def _latest_due(cron: str, timezone: str, now: datetime) -> datetime:
    """The last due time at or before ``now``."""
    local = now.astimezone(_zone(timezone)).replace(microsecond=0) + timedelta(seconds=1)
    return croniter(cron, local).get_prev(datetime).astimezone(UTC)


def _bool(value: Any, field: str, errors: dict[str, str]) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "on", "1", "yes", "false", "off", "0", "no", ""):
        return value.lower() in ("true", "on", "1", "yes")
    errors[field] = "must be true or false"
    return None


def validate(session: Session, raw: Mapping[str, Any], current: Schedule | None = None) -> dict[str, Any]:
    """Every field of a schedule checked at once; on edit, missing fields keep their current values."""
    if not isinstance(raw, Mapping):
        raise Invalid({"body": "must be a JSON object"})
    unknown = sorted(set(raw) - set(_FIELDS))
    errors: dict[str, str] = {k: f"unknown field (fields: {', '.join(_FIELDS)})" for k in unknown}
    base = _as_raw(current) if current is not None else {}
    data = {**base, **{k: v for k, v in raw.items() if k in _FIELDS}}
    out: dict[str, Any] = {}
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        errors["name"] = "required: 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
    out["name"] = name
    timezone = data.get("timezone") or "UTC"
    try:
        _zone(timezone if isinstance(timezone, str) else "")
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"unknown time zone {timezone!r} (an IANA name such as 'Europe/Paris' or 'UTC')"
    out["timezone"] = timezone
    cron = data.get("cron")
    problem = _cron_problem(cron, timezone if "timezone" not in errors else "UTC")
    if problem:
        errors["cron"] = problem
    out["cron"] = cron
    # The job template is checked exactly as a submission would be (against the dataset's newest version).
    template = {"kind": data.get("kind"), "model_name": data.get("model_name"), "dataset": data.get("dataset"),
                "params": data.get("params") or {}, "queue": data.get("queue") or "cpu"}
    if isinstance(template["dataset"], str) and ":" in template["dataset"]:
        errors["dataset"] = "a dataset name without a version: a schedule always trains on the newest version"
    try:
        spec, _dataset, params, _model, _queue, _refs = validate_train_request(session, template)
        # The queue as written: "auto" is resolved by each run, when it is submitted.
        out.update(kind=spec.name, model_name=template["model_name"], dataset_name=template["dataset"],
                   params=params, queue=template["queue"])
    except Invalid as exc:
        errors.update({k: v for k, v in exc.fields.items() if k not in errors})
    for field, choices in (("overlap", OVERLAP), ("catchup", CATCHUP)):
        value = data.get(field) or choices[0]
        if value not in choices:
            errors[field] = f"must be one of {', '.join(choices)}"
        out[field] = value
    alias = data.get("alias") or "production"
    if not isinstance(alias, str) or not ALIAS.match(alias):
        errors["alias"] = "1-32 lowercase letters, digits, '-' or '_', starting with a letter"
    out["alias"] = alias
    metric = data.get("metric") or "test_accuracy"
    if not isinstance(metric, str) or not re.match(r"^[a-z][a-z0-9_]{0,63}$", metric):
        errors["metric"] = "a metric name such as test_accuracy, test_macro_f1 or test_loss"
    out["metric"] = metric
    hib = data.get("higher_is_better")
    out["higher_is_better"] = (metric not in ("test_loss",)) if hib is None or hib == "" else _bool(
        hib, "higher_is_better", errors)
    for field, default in (("enabled", True), ("only_if_data_changed", False)):
        value = data.get(field)
        out[field] = default if value is None else _bool(value, field, errors)
    try:
        out["min_improvement"] = float(data.get("min_improvement") or 0.0)
        if not 0 <= out["min_improvement"] <= 1e6:
            raise ValueError
    except (TypeError, ValueError):
        errors["min_improvement"] = "a number >= 0 (how much better the new version must be)"
    try:
        out["max_failures"] = int(data.get("max_failures") or 3)
        if not 1 <= out["max_failures"] <= 100:
            raise ValueError
    except (TypeError, ValueError):
        errors["max_failures"] = "a whole number from 1 to 100 (consecutive failed runs before pausing)"
    if errors:
        raise Invalid(errors)
    return out


def _as_raw(s: Schedule) -> dict[str, Any]:
    return {"name": s.name, "model_name": s.model_name, "kind": s.kind, "dataset": s.dataset_name,
            "params": s.params, "queue": s.queue, "cron": s.cron, "timezone": s.timezone, "enabled": s.enabled,
            "metric": s.metric, "higher_is_better": s.higher_is_better, "min_improvement": s.min_improvement,
            "alias": s.alias, "overlap": s.overlap, "catchup": s.catchup,
            "only_if_data_changed": s.only_if_data_changed, "max_failures": s.max_failures}


def _get(session: Session, schedule_id: int) -> Schedule:
    found = session.get(Schedule, schedule_id) if isinstance(schedule_id, int) and 0 < schedule_id < 2**31 else None
    if found is None:
        raise NotFound(f"no schedule {schedule_id}")
    return found


def create(session: Session, raw: Mapping[str, Any], actor: str | None = None,
           now: datetime | None = None) -> dict[str, Any]:
    values = validate(session, raw)
    if session.scalars(select(Schedule.id).where(Schedule.name == values["name"])).first() is not None:
        raise Invalid({"name": f"a schedule named {values['name']!r} exists already"})
    now = now or utcnow()
    s = Schedule(**values, created_by=actor, created_at=now, updated_at=now, consecutive_failures=0,
                 next_due_at=next_times(values["cron"], values["timezone"], now, 1)[0])
    session.add(s)
    session.flush()
    return describe(session, s, now)


def update_schedule(session: Session, schedule_id: int, raw: Mapping[str, Any],
                    now: datetime | None = None) -> dict[str, Any]:
    s = _get(session, schedule_id)
    values = validate(session, raw, current=s)
    clash = session.scalars(select(Schedule.id).where(Schedule.name == values["name"], Schedule.id != s.id)).first()
    if clash is not None:
        raise Invalid({"name": f"a schedule named {values['name']!r} exists already"})
    now = now or utcnow()
    timing_changed = (values["cron"], values["timezone"]) != (s.cron, s.timezone)
    resumed = values["enabled"] and not s.enabled
    for key, value in values.items():
        setattr(s, key, value)
    if resumed:
        s.consecutive_failures, s.paused_reason = 0, None
    if timing_changed or resumed:
        s.next_due_at = next_times(s.cron, s.timezone, now, 1)[0]
    s.updated_at = now
    session.flush()
    return describe(session, s, now)


def set_enabled(session: Session, schedule_id: int, enabled: bool, now: datetime | None = None) -> dict[str, Any]:
    """Pause or resume. Resuming starts from the next due time (no catch-up of the paused period)."""
    s = _get(session, schedule_id)
    return update_schedule(session, s.id, {"enabled": enabled}, now)


def delete(session: Session, schedule_id: int) -> None:
    s = _get(session, schedule_id)
    session.execute(update(Job).where(Job.schedule_id == s.id).values(schedule_id=None)
                    .execution_options(synchronize_session=False))
    session.delete(s)
    session.flush()


def list_schedules(session: Session, now: datetime | None = None) -> list[dict[str, Any]]:
    rows = session.scalars(select(Schedule).order_by(Schedule.name)).all()
    return [describe(session, s, now or utcnow(), runs=1) for s in rows]


def get_schedule(session: Session, schedule_id: int, now: datetime | None = None) -> dict[str, Any]:
    return describe(session, _get(session, schedule_id), now or utcnow(), runs=50)


def describe(session: Session, s: Schedule, now: datetime, runs: int = 20) -> dict[str, Any]:
    recent = session.scalars(select(ScheduleRun).where(ScheduleRun.schedule_id == s.id)
                             .order_by(ScheduleRun.id.desc()).limit(runs)).all()
    return {**_as_raw(s), "id": s.id, "dataset_name": s.dataset_name, "paused_reason": s.paused_reason,
            "consecutive_failures": s.consecutive_failures, "created_by": s.created_by,
            "next_due_at": _iso(s.next_due_at) if s.enabled else None,
            "next_runs": [_iso(t) for t in next_times(s.cron, s.timezone, now)] if s.enabled else [],
            "runs": [{"id": r.id, "due_at": _iso(r.due_at), "fired_at": _iso(r.fired_at), "status": r.status,
                      "job_id": r.job_id, "outcome": r.outcome, "detail": r.detail} for r in recent]}


# --- firing --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Fired:
    schedule_id: int
    due_at: datetime
    status: str
    job_id: str | None
    to_ring: list[tuple[str, str]]


def due_schedule_ids(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(Schedule.id).where(Schedule.enabled.is_(True), Schedule.next_due_at <= now)
                                .order_by(Schedule.next_due_at)))


def fire(session: Session, schedule_id: int, now: datetime) -> Fired | None:
    """Claim this schedule's due time and start (or skip, recording why) its run.

    Returns None when there is nothing to do or another process claimed the due time first
    (then the caller's flush may also raise IntegrityError on the unique run row).
    """
    s = session.get(Schedule, schedule_id)
    if s is None or not s.enabled or s.next_due_at is None or s.next_due_at > now:
        return None
    latest = max(_latest_due(s.cron, s.timezone, now), s.next_due_at)
    missed = 1 + _count_between(s, s.next_due_at, latest) if s.next_due_at < latest else 0
    following = next_times(s.cron, s.timezone, now, 1)[0]
    advanced = session.execute(update(Schedule).where(Schedule.id == s.id, Schedule.next_due_at == s.next_due_at)
                               .values(next_due_at=following).execution_options(synchronize_session=False))
    if advanced.rowcount != 1:
        return None  # another beat moved it first
    status, detail, job_id, to_ring = "started", None, None, []
    late = now - latest > ON_TIME
    if missed:
        detail = f"{missed} earlier due time(s) missed while nothing was firing; not run (no bursts)"
    if late and s.catchup == "skip":
        status, detail = "skipped-missed", (f"due at {_iso(latest)}, noticed {int((now - latest).total_seconds())} s "
                                            "late; catch-up policy is skip")
    else:
        status, detail, job_id, to_ring = _start(session, s, latest, detail)
    session.add(ScheduleRun(schedule_id=s.id, due_at=latest, fired_at=now, status=status, job_id=job_id,
                            detail=detail, outcome="failed" if status == "skipped-invalid" else None))
    session.flush()  # the unique (schedule, due_at) row: a second beat fails here
    if status == "skipped-invalid":
        _count_failure(session, s, detail or "invalid job template")
    return Fired(s.id, latest, status, job_id, to_ring)


def _count_between(s: Schedule, start: datetime, end: datetime) -> int:
    """Due times strictly after ``start`` and before ``end`` (bounded: a cron after a long outage)."""
    it = croniter(s.cron, start.astimezone(_zone(s.timezone)))
    count = 0
    while count < 10_000 and it.get_next(datetime).astimezone(UTC) < end:
        count += 1
    return count


def _start(session: Session, s: Schedule, due: datetime,
           detail: str | None) -> tuple[str, str | None, str | None, list[tuple[str, str]]]:
    active = session.scalars(select(Job.id).where(Job.schedule_id == s.id,
                                                  Job.status.in_(ACTIVE))).all()
    if active and s.overlap == "skip":
        return "skipped-overlap", f"the previous run's job {active[0]} is still {_status(session, active[0])}", None, []
    if s.only_if_data_changed:
        unchanged = _data_unchanged(session, s)
        if unchanged:
            return "skipped-unchanged", unchanged, None, []
    for job_id in active:  # and the stages it waits for (a hierarchical run's word2vec job)
        while job_id is not None:
            job = session.get(Job, job_id)
            if job is not None and job.status in ACTIVE:
                lifecycle.request_cancel(session, job_id, actor=f"schedule:{s.name}")
            job_id = job.depends_on_job_id if job is not None else None
    raw = {"kind": s.kind, "model_name": s.model_name, "dataset": s.dataset_name, "params": s.params,
           "queue": s.queue}
    actor = f"schedule:{s.name}"
    key = scoped_key(actor, f"schedule-{s.id}-{due.strftime('%Y%m%dT%H%M%S.%f')}")
    try:
        view, created = submit_train_job(session, raw, created_by=actor, idempotency_key=key)
    except Invalid as exc:
        return "skipped-invalid", f"the job template no longer validates: {exc}", None, []
    if not created or view.created_by != actor:  # never adopt a job someone else submitted
        return "skipped-invalid", f"job {view.id} already exists for this due time", None, []
    session.execute(update(Job).where(Job.id == view.id).values(schedule_id=s.id)
                    .execution_options(synchronize_session=False))
    return "started", detail, view.id, dispatchable(session, view.id)


def _status(session: Session, job_id: str) -> str:
    return session.scalar(select(Job.status).where(Job.id == job_id)) or "gone"


def _data_unchanged(session: Session, s: Schedule) -> str | None:
    """Why to skip when the champion was trained on the dataset's newest version; None to run."""
    try:
        newest = resolve_dataset(session, s.dataset_name)
        champion = resolve_alias(session, s.model_name, s.alias)
    except NotFound:
        return None
    if champion.dataset_id == newest.id:
        return (f"{s.alias} v{champion.version} was trained on {newest.name}:{newest.version}, "
                "still the newest version of the dataset")
    return None


# --- settling ------------------------------------------------------------------------------------

def settle(session: Session) -> list[dict[str, Any]]:
    """Record how finished runs ended; pause a schedule after ``max_failures`` failures in a row."""
    rows = session.execute(select(ScheduleRun, Job.status, Job.error).join(Job, Job.id == ScheduleRun.job_id)
                           .where(ScheduleRun.outcome.is_(None),
                                  Job.status.in_(FINISHED))).all()
    settled = []
    for run, status, error in rows:
        done = session.execute(update(ScheduleRun).where(ScheduleRun.id == run.id, ScheduleRun.outcome.is_(None))
                               .values(outcome=status).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            continue  # another process settled it
        s = session.get(Schedule, run.schedule_id)
        if s is None:
            continue
        if status == JobStatus.FAILED:
            last_line = (error or "").strip().splitlines()[-1:] or ["job failed"]
            _count_failure(session, s, last_line[0][:300])
        elif status == JobStatus.SUCCEEDED:
            session.execute(update(Schedule).where(Schedule.id == s.id).values(consecutive_failures=0)
                            .execution_options(synchronize_session=False))
        settled.append({"schedule_id": s.id, "run_id": run.id, "outcome": status})
    session.flush()
    return settled


def _count_failure(session: Session, s: Schedule, why: str) -> None:
    session.execute(update(Schedule).where(Schedule.id == s.id)
                    .values(consecutive_failures=Schedule.consecutive_failures + 1)
                    .execution_options(synchronize_session=False))
    session.refresh(s)
    if s.enabled and s.consecutive_failures >= s.max_failures:
        session.execute(update(Schedule).where(Schedule.id == s.id, Schedule.enabled.is_(True)).values(
            enabled=False, updated_at=utcnow(),
            paused_reason=f"paused itself after {s.consecutive_failures} consecutive failed runs (last: {why})")
            .execution_options(synchronize_session=False))


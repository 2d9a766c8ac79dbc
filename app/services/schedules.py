"""Scheduled retrains: edit and read schedules, fire due ones, settle their runs.

What a schedule may say (and when its cron is due) is app/services/schedule_definition.py.

Firing is safe with any number of beat processes: a due time is claimed by moving
``next_due_at`` forward conditionally on its old value AND by inserting the unique
(schedule, due time) run row, both in one transaction; the loser's transaction fails
or changes nothing. Missed due times after downtime collapse into at most one run.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.errors import Invalid, NotFound
from app.domain.status import ACTIVE, FINISHED, JobStatus
from app.models import Job, Schedule, ScheduleRun, utcnow
from app.services import lifecycle
from app.services.aliases import resolve_alias
from app.services.datasets import resolve_dataset
from app.services.idempotency import scoped_key
from app.services.queues import dispatchable
from app.services.schedule_definition import as_raw, count_between, cron_problem, latest_due, next_times, validate, zone
from app.services.submission import submit_train_job
from app.services.views import _iso

# A due time fired within this long after it is "on time"; older ones were missed (downtime).
ON_TIME = timedelta(seconds=90)


def preview(cron: str, timezone: str, now: datetime) -> list[datetime]:
    """The next five due times, or the field errors of a bad cron or zone."""
    errors = {}
    try:
        zone(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"unknown time zone {timezone!r}"
    problem = cron_problem(cron, "UTC" if errors else timezone)
    if problem:
        errors["cron"] = problem
    if errors:
        raise Invalid(errors)
    return next_times(cron, timezone, now)


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
    return {**as_raw(s), "id": s.id, "dataset_name": s.dataset_name, "paused_reason": s.paused_reason,
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
    latest = max(latest_due(s.cron, s.timezone, now), s.next_due_at)
    missed = 1 + count_between(s, s.next_due_at, latest) if s.next_due_at < latest else 0
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
                            detail=detail, outcome=JobStatus.FAILED if status == "skipped-invalid" else None))
    session.flush()  # the unique (schedule, due_at) row: a second beat fails here
    if status == "skipped-invalid":
        _count_failure(session, s, detail or "invalid job template")
    return Fired(s.id, latest, status, job_id, to_ring)


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
    for job_id in active:  # and the stage jobs it waits for
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


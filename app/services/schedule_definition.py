"""A schedule's definition: every field checked at once, and the times its cron makes it due.

Used by app/services/schedules.py, which creates, edits and fires schedules.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, croniter
from sqlalchemy.orm import Session

from app.domain.errors import Invalid
from app.models import Schedule, utcnow
from app.services.aliases import ALIAS
from app.services.submission import validate_train_request

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
OVERLAP = ("skip", "replace")
CATCHUP = ("once", "skip")
FIELDS = ("name", "model_name", "kind", "dataset", "params", "queue", "cron", "timezone", "enabled", "metric",
          "higher_is_better", "min_improvement", "alias", "overlap", "catchup", "only_if_data_changed",
          "max_failures")


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def next_times(cron: str, timezone: str, after: datetime, n: int = 5) -> list[datetime]:
    """The next ``n`` due times after ``after``, in UTC (computed in the schedule's zone: DST-correct)."""
    it = croniter(cron, after.astimezone(zone(timezone)))
    return [it.get_next(datetime).astimezone(UTC) for _ in range(n)]


def latest_due(cron: str, timezone: str, now: datetime) -> datetime:
    """The last due time at or before ``now``."""
    local = now.astimezone(zone(timezone)).replace(microsecond=0) + timedelta(seconds=1)
    return croniter(cron, local).get_prev(datetime).astimezone(UTC)


def count_between(s: Schedule, start: datetime, end: datetime) -> int:
    """Due times strictly after ``start`` and before ``end`` (bounded: a cron after a long outage)."""
    it = croniter(s.cron, start.astimezone(zone(s.timezone)))
    count = 0
    while count < 10_000 and it.get_next(datetime).astimezone(UTC) < end:
        count += 1
    return count


def cron_problem(cron: Any, timezone: str) -> str | None:
    """Why ``cron`` cannot drive a schedule (not 5 fields, not valid, or never due), or None."""
    if not isinstance(cron, str) or len(cron.split()) != 5 or not croniter.is_valid(cron):
        return ("required: a 5-field cron expression (minute hour day month weekday), "
                "e.g. '0 3 * * *' for 03:00 every day")
    try:
        next_times(cron, timezone, utcnow(), 1)
    except CroniterBadDateError:
        return f"{cron!r} is never due (no date matches it, e.g. 30 February)"
    return None


def as_raw(s: Schedule) -> dict[str, Any]:
    """A stored schedule's fields, as a request would write them."""
    return {"name": s.name, "model_name": s.model_name, "kind": s.kind, "dataset": s.dataset_name,
            "params": s.params, "queue": s.queue, "cron": s.cron, "timezone": s.timezone, "enabled": s.enabled,
            "metric": s.metric, "higher_is_better": s.higher_is_better, "min_improvement": s.min_improvement,
            "alias": s.alias, "overlap": s.overlap, "catchup": s.catchup,
            "only_if_data_changed": s.only_if_data_changed, "max_failures": s.max_failures}


def validate(session: Session, raw: Mapping[str, Any], current: Schedule | None = None) -> dict[str, Any]:
    """Every field of a schedule checked at once; on edit, missing fields keep their current values."""
    if not isinstance(raw, Mapping):
        raise Invalid({"body": "must be a JSON object"})
    unknown = sorted(set(raw) - set(FIELDS))
    errors: dict[str, str] = {k: f"unknown field (fields: {', '.join(FIELDS)})" for k in unknown}
    base = as_raw(current) if current is not None else {}
    data = {**base, **{k: v for k, v in raw.items() if k in FIELDS}}
    out: dict[str, Any] = {}
    _check_timing(data, out, errors)
    _check_template(session, data, out, errors)
    _check_policy(data, out, errors)
    if errors:
        raise Invalid(errors)
    return out


def _check_timing(data: dict[str, Any], out: dict[str, Any], errors: dict[str, str]) -> None:
    """The name, the time zone and the cron expression."""
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        errors["name"] = "required: 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
    out["name"] = name
    timezone = data.get("timezone") or "UTC"
    try:
        zone(timezone if isinstance(timezone, str) else "")
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"unknown time zone {timezone!r} (an IANA name such as 'Europe/Paris' or 'UTC')"
    out["timezone"] = timezone
    cron = data.get("cron")
    problem = cron_problem(cron, timezone if "timezone" not in errors else "UTC")
    if problem:
        errors["cron"] = problem
    out["cron"] = cron


def _check_template(session: Session, data: dict[str, Any], out: dict[str, Any], errors: dict[str, str]) -> None:
    """The job template, checked exactly as a submission would be (against the dataset's newest version)."""
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


def _check_policy(data: dict[str, Any], out: dict[str, Any], errors: dict[str, str]) -> None:
    """Overlap and catch-up, the promotion gate (alias, metric, improvement) and when to pause."""
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


def _bool(value: Any, field: str, errors: dict[str, str]) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "on", "1", "yes", "false", "off", "0", "no", ""):
        return value.lower() in ("true", "on", "1", "yes")
    errors[field] = "must be true or false"
    return None

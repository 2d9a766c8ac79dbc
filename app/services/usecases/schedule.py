"""Scheduled retrains: create a schedule (a race for its name is a field error), fire the due ones.

The validation and the firing rules live in ``app.services.schedules``; this module owns the
units of work around them and rings after each commit.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.domain.errors import Invalid
from app.services import schedules
from app.services.usecases.deps import Deps
from app.services.usecases.doorbell import ring


def create_schedule(deps: Deps, body: Mapping[str, Any], actor: str | None) -> dict[str, Any]:
    """Validate and create a schedule; two creations of one name at once: the loser gets a field error."""
    try:
        with deps.session() as session:
            return schedules.create(session, body, actor)
    except IntegrityError:
        raise Invalid({"name": f"a schedule named {body.get('name')!r} exists already"}) from None


def fire_due_schedules(deps: Deps, now: datetime | None = None) -> list[schedules.Fired]:
    """Start (or skip, recorded) every due schedule's run, then settle finished runs.

    Each schedule fires in its own transaction; losing the race for a due time to another
    beat ends in an IntegrityError or a no-op, and is not an error.
    """
    now = now or deps.clock()
    with deps.session() as session:
        due = schedules.due_schedule_ids(session, now)
    fired = []
    for schedule_id in due:
        try:
            with deps.session() as session:
                result = schedules.fire(session, schedule_id, now)
        except IntegrityError:
            continue
        if result is not None:
            fired.append(result)
            ring(deps, result.to_ring)
    with deps.session() as session:
        schedules.settle(session)
    return fired

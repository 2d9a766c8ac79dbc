"""Sweeps: create one, move it (pause, resume, cancel), register its best trial, and beat's decisions.

The rules live in app/services/sweeps.py (what a person does) and app/services/sweep_decisions.py
(what beat decides); this module owns the units of work around them and rings after each commit.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.domain.errors import Conflict
from app.services import sweeps
from app.services.registry import ensure_model
from app.services.sweep_decisions import Advanced, advance, sweeps_to_advance
from app.services.usecases.deps import Deps
from app.services.usecases.doorbell import ring_marked


def create_sweep(deps: Deps, body: Mapping[str, Any], actor: str | None) -> dict[str, Any]:
    """Validate and create a sweep (a 422 naming each bad field); beat starts its trials."""
    with deps.session() as session:
        return sweeps.create(session, body, actor)


MayAct = Callable[[str | None], None]  # given the sweep's creator; raises Forbidden when the caller may not act


def move_sweep(deps: Deps, sweep_id: int, action: str, actor: str | None,
               may_act: MayAct | None = None) -> dict[str, Any]:
    """``pause``, ``resume`` or ``cancel``; a cancel asks every unfinished trial to stop within a batch."""
    with deps.session() as session:
        if may_act is not None:
            may_act(sweeps.get_sweep(session, sweep_id)["created_by"])
        return sweeps.move(session, sweep_id, action, actor)


def register_best(deps: Deps, sweep_id: int, actor: str | None, may_act: MayAct | None = None) -> dict[str, Any]:
    """Register the best completed trial as a version of the sweep's model, with its lineage."""
    with deps.session() as session:
        sweep = sweeps.get_sweep(session, sweep_id)
    if may_act is not None:
        may_act(sweep["created_by"])
    model_name = sweep["model_name"]
    for _ in range(3):
        try:
            with deps.session() as session:
                ensure_model(session, model_name)
            with deps.session() as session:
                return sweeps.register_best(session, sweep_id, actor)
        except IntegrityError:  # a race for the model row or a version number: read again
            continue
    raise Conflict(f"could not register sweep {sweep_id}'s best trial: the model kept changing; try again")


def advance_sweeps(deps: Deps, now: datetime | None = None) -> list[Advanced]:
    """Beat's decisions for every sweep, one transaction each (see sweep_decisions); rings after each commit."""
    now = now or deps.clock()
    with deps.session() as session:
        ids = sweeps_to_advance(session)
    done = []
    for sweep_id in ids:
        try:
            with deps.session() as session:
                result = advance(session, sweep_id, now)
        except IntegrityError:  # another beat started the same trial number first: it decided
            continue
        if result is not None:
            ring_marked(deps, result.to_ring)
            if result.started or result.stopped or result.ended:
                done.append(result)
    return done

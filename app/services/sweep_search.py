"""The search itself, by Optuna: which point a new trial tries, and whether a trial stops at its rung.

Optuna's study is rebuilt in memory from our own trial rows for every decision (``_study``), and
what its pruner records about a trial (its rung values, Optuna's system attributes) is handed
back to be stored on that trial's row. So the sweep's whole state lives in our tables, and each
decision commits in the same transaction as the trial row or stop request it causes; two beats
never decide the same thing twice (app/services/sweeps.py holds the guard). Optuna's own RDB
storage would keep the study in tables of its own, written in transactions of its own.

Samplers: ``grid`` walks every combination in order, ``random`` is Optuna's RandomSampler, the
adaptive strategies sample with TPE; ``asha`` stops trials with Optuna's SuccessiveHalvingPruner
(asynchronous successive halving), ``hyperband`` with its HyperbandPruner.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from app.domain.status import TrialStatus
from app.services.sweep_definition import ADAPTIVE, grid_points

optuna.logging.set_verbosity(logging.WARNING)

STATES = {TrialStatus.RUNNING: TrialState.RUNNING, TrialStatus.COMPLETED: TrialState.COMPLETE,
          TrialStatus.PRUNED: TrialState.PRUNED, TrialStatus.FAILED: TrialState.FAIL,
          TrialStatus.CANCELLED: TrialState.FAIL}


@dataclass(frozen=True)
class Setup:
    """What the search needs to know about its sweep."""

    id: int
    space: Mapping[str, Any]
    strategy: str
    direction: str
    epochs: int
    min_epochs: int
    reduction_factor: int
    seed: int


@dataclass
class Point:
    """One trial as the search sees it."""

    number: int
    params: dict[str, Any]
    status: str
    values: dict[int, float] = field(default_factory=dict)  # epoch -> the metric
    value: float | None = None
    pruner_state: dict[str, Any] = field(default_factory=dict)


def distributions(space: Mapping[str, Any]) -> dict[str, BaseDistribution]:
    out: dict[str, BaseDistribution] = {}
    for name, e in space.items():
        if e["type"] == "list":
            out[name] = CategoricalDistribution(e["values"])
        elif e["type"] == "range":
            kind = IntDistribution if isinstance(e["min"], int) and isinstance(e["max"], int) else FloatDistribution
            out[name] = kind(e["min"], e["max"], log=e["scale"] == "log")
    return out


def _pruner(setup: Setup) -> optuna.pruners.BasePruner:
    if setup.strategy == "asha":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=setup.min_epochs,
                                                      reduction_factor=setup.reduction_factor)
    if setup.strategy == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=setup.min_epochs, max_resource=setup.epochs,
                                              reduction_factor=setup.reduction_factor)
    return optuna.pruners.NopPruner()


def _sampler(setup: Setup, number: int) -> optuna.samplers.BaseSampler:
    seed = setup.seed * 10_007 + number  # each trial's draw is reproducible, whoever rebuilds the study
    if setup.strategy in ADAPTIVE:
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
    return optuna.samplers.RandomSampler(seed=seed)


def _study(setup: Setup, points: Sequence[Point], number: int) -> optuna.Study:
    study = optuna.create_study(study_name=f"sweep-{setup.id}", direction=setup.direction,
                                sampler=_sampler(setup, number), pruner=_pruner(setup))
    dists = distributions(setup.space)
    for p in sorted(points, key=lambda p: p.number):
        state = STATES[p.status]
        study.add_trial(optuna.trial.create_trial(
            state=state, params=p.params, distributions={n: dists[n] for n in p.params if n in dists},
            value=p.value if state == TrialState.COMPLETE else None,
            intermediate_values={int(k): v for k, v in p.values.items()}, system_attrs=dict(p.pruner_state)))
    return study


def suggest(setup: Setup, points: Sequence[Point], number: int) -> dict[str, Any] | None:
    """The sampled parameters of trial ``number``; None when a grid has no point left."""
    if setup.strategy == "grid":
        grid = grid_points(setup.space)
        return grid[number] if number < len(grid) else None
    tried = [p.params for p in points]
    params: dict[str, Any] = {}
    for attempt in range(10):  # a small discrete space: do not try one point twice if another is left
        study = _study(setup, points, number + attempt * 100_003)
        params = study.ask(distributions(setup.space)).params
        if params not in tried:
            break
    return params


def judge(setup: Setup, points: Sequence[Point], number: int) -> tuple[bool, int | None, dict[str, Any]]:
    """Should trial ``number`` stop at its latest epoch? Returns (stop, its rung, the pruner's records)."""
    if setup.strategy not in ADAPTIVE:
        return False, None, {}
    study = _study(setup, points, number)
    frozen = next(t for t in study.get_trials(deepcopy=False) if t.number == number)
    stop = study.pruner.prune(study, frozen)
    state = dict(study.get_trials(deepcopy=False)[frozen.number].system_attrs)
    rungs = sum(1 for key in state if "completed_rung_" in key)
    return stop, (rungs - 1 if stop and rungs else None), state

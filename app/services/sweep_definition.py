"""What a sweep may say: its search space against the kind's declared parameters, its metric, strategy, budget.

Every problem is collected before raising, one ``Invalid`` naming each field (``space.dropout.max``,
``metric``, ``budget.trials``), so a bad request is a 422 with all of them, never a 500.

A space entry is written in one of three ways (YAML or JSON):
  ``dropout: 0.1``                                    fixed
  ``hidden_units: [16, 64, 256]`` or ``{values: [...]}``   a list
  ``learning_rate: {min: 0.0001, max: 0.1, scale: log}``  a range (numbers only; ``scale``: linear | log)
It is stored in the canonical form ``{"type": "fixed"|"list"|"range", ...}``.
"""
from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from app.domain.errors import Invalid
from app.domain.params import Param
from app.kinds import KINDS, KindSpec
from app.services.submission import validate_train_request

STRATEGIES = ("grid", "random", "asha", "hyperband")
ADAPTIVE = ("asha", "hyperband")  # TPE picks the points, the pruner stops weak trials at rungs
DIRECTIONS = ("maximize", "minimize")
RESOURCE = "epochs"  # the parameter a trial's budget sets; never part of the space
MAX_TRIALS, MAX_PARALLEL, MAX_LIST = 1000, 64, 100


def _entry(p: Param, raw: Any, field: str, errors: dict[str, str]) -> dict[str, Any] | None:
    """One space entry in canonical form, or None with its errors recorded."""
    if isinstance(raw, list) or (isinstance(raw, Mapping) and "values" in raw):
        values = raw if isinstance(raw, list) else raw["values"]
        if not isinstance(values, list) or not values or len(values) > MAX_LIST:
            errors[field] = f"a list needs 1 to {MAX_LIST} values"
            return None
        clean = []
        for i, value in enumerate(values):
            try:
                clean.append(p.coerce(value))
            except ValueError as exc:
                errors[f"{field}.{i}"] = str(exc)
        return {"type": "list", "values": list(dict.fromkeys(clean))} if len(clean) == len(values) else None
    if isinstance(raw, Mapping) and ("min" in raw or "max" in raw):
        return _range(p, raw, field, errors)
    if isinstance(raw, Mapping):
        if "value" not in raw:
            errors[field] = "give a value, a list of values, or a range {min, max, scale}"
            return None
        raw = raw["value"]
    try:
        return {"type": "fixed", "value": p.coerce(raw)}
    except ValueError as exc:
        errors[field] = str(exc)
        return None


def _range(p: Param, raw: Mapping[str, Any], field: str, errors: dict[str, str]) -> dict[str, Any] | None:
    if p.type not in (int, float):
        errors[field] = f"a range needs a number parameter; {p.name} takes a list of values"
        return None
    bounds = {}
    for end in ("min", "max"):
        try:
            bounds[end] = p.coerce(raw.get(end))
        except ValueError as exc:
            errors[f"{field}.{end}"] = str(exc) if raw.get(end) is not None else "required"
    scale = raw.get("scale", "linear")
    if scale not in ("linear", "log"):
        errors[f"{field}.scale"] = "must be linear or log"
    if len(bounds) < 2 or f"{field}.scale" in errors:
        return None
    if bounds["min"] >= bounds["max"]:
        errors[field] = "min must be below max"
        return None
    if scale == "log" and bounds["min"] <= 0:
        errors[f"{field}.min"] = "a log scale needs a minimum above 0"
        return None
    return {"type": "range", "min": bounds["min"], "max": bounds["max"], "scale": scale}


def validate_space(spec: KindSpec, raw: Any) -> dict[str, Any]:
    errors: dict[str, str] = {}
    if not isinstance(raw, Mapping) or not raw:
        raise Invalid({"space": "empty: give at least one parameter a list of values or a range"})
    known = {p.name: p for p in spec.params}
    space: dict[str, Any] = {}
    for name, entry in raw.items():
        field = f"space.{name}"
        if name == RESOURCE:
            errors[field] = "set by budget.epochs (each trial's most epochs), not searched"
        elif name not in known:
            errors[field] = f"unknown parameter for kind {spec.name!r}"
        else:
            clean = _entry(known[name], entry, field, errors)
            if clean is not None:
                space[name] = clean
    if not errors and not any(e["type"] != "fixed" for e in space.values()):
        errors["space"] = "empty: every parameter is fixed; give at least one a list of values or a range"
    if errors:
        raise Invalid(errors)
    return space


def grid_points(space: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the listed values, in a fixed order (the grid strategy's trials)."""
    names = [n for n, e in space.items() if e["type"] == "list"]
    return [dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(space[n]["values"] for n in names))]


def _int(raw: Mapping[str, Any], key: str, field: str, low: int, high: int, errors: dict[str, str],
         default: int | None = None) -> int | None:
    value = raw.get(key, default)
    if value is None and default is None and key == "wall_time_s":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = f"must be an integer from {low} to {high}"
        return None
    return value


def validate_budget(spec: KindSpec, raw: Any, strategy: str, space: Mapping[str, Any] | None,
                    errors: dict[str, str]) -> dict[str, Any]:
    raw = raw if isinstance(raw, Mapping) else {}
    epochs_param = next((p for p in spec.params if p.name == RESOURCE), None)
    if epochs_param is None:
        errors["kind"] = f"kind {spec.name!r} declares no {RESOURCE!r} parameter to budget"
        return {}
    budget = {
        "max_trials": _int(raw, "trials", "budget.trials", 1, MAX_TRIALS, errors),
        "parallel": _int(raw, "parallel", "budget.parallel", 1, MAX_PARALLEL, errors, 1),
        "epochs": _int(raw, "epochs", "budget.epochs", 1, int(epochs_param.max or 1000), errors),
        "wall_time_s": _int(raw, "wall_time_s", "budget.wall_time_s", 1, 30 * 86400, errors),
        "min_epochs": _int(raw, "min_epochs", "budget.min_epochs", 1, 1000, errors, 1),
        "reduction_factor": _int(raw, "reduction_factor", "budget.reduction_factor", 2, 10, errors, 3),
    }
    if strategy == "grid" and space is not None:
        size = len(grid_points(space))
        if any(e["type"] == "range" for e in space.values()):
            errors["space"] = "the grid strategy takes lists of values, not ranges"
        elif budget["max_trials"] and budget["max_trials"] > size:
            budget["max_trials"] = size  # the grid has fewer points than the budget allows
    return budget


def validate(session: Session, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check a sweep request; returns the values of a Sweep row (dataset resolved), or raises Invalid."""
    if not isinstance(raw, Mapping):
        raise Invalid({"body": "must be an object"})
    errors: dict[str, str] = {}
    kind = raw.get("kind")
    spec = KINDS.get(kind) if isinstance(kind, str) else None
    if spec is None:
        raise Invalid({"kind": f"unknown model kind {kind!r}; known kinds: {', '.join(sorted(KINDS))}"})
    space = None
    try:
        space = validate_space(spec, raw.get("space"))
    except Invalid as exc:
        errors.update(exc.fields)
    metric = raw.get("metric", "val_accuracy")
    if metric not in spec.epoch_metrics:
        errors["metric"] = (f"kind {spec.name!r} reports {', '.join(spec.epoch_metrics)} at each epoch"
                            if spec.epoch_metrics else f"kind {spec.name!r} reports no metric at each epoch")
    direction = raw.get("direction", "minimize" if str(metric).endswith("loss") else "maximize")
    if direction not in DIRECTIONS:
        errors["direction"] = "must be maximize or minimize"
    strategy = raw.get("strategy", "asha")
    if strategy not in STRATEGIES:
        errors["strategy"] = f"must be one of {', '.join(STRATEGIES)}"
    seed = raw.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        errors["seed"] = "must be an integer from 0 to 2147483647"
    budget = validate_budget(spec, raw.get("budget"), strategy, space, errors)
    sample = {n: (e["value"] if e["type"] == "fixed" else e["values"][0] if e["type"] == "list" else e["min"])
              for n, e in (space or {}).items()}
    try:
        _, dataset, _, model_name, queue, _ = validate_train_request(
            session, {**raw, "params": {**sample, RESOURCE: budget.get("epochs") or 1}})
    except Invalid as exc:
        errors.update({k.replace("params.", "space.", 1): v for k, v in exc.fields.items()})
    if errors:
        raise Invalid(errors)
    return {"kind": spec.name, "dataset_id": dataset.id, "model_name": model_name, "queue": queue,
            "space": space, "metric": metric, "direction": direction, "strategy": strategy, "seed": seed,
            **budget}

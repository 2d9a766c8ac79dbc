"""Turning JSON instances into model input, checked against the version's recorded schema."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from app.domain.errors import Invalid, OverLimit
from app.kinds.spec import Input

MAX_INSTANCES = 1000


class BadInstances(Invalid):
    """Input that does not fit the version's recorded schema: a 400 with the reason, per instance."""

    status_code = 400


def parse_instances(takes: Input, schema: dict[str, Any], instances: Any,
                    max_instances: int = MAX_INSTANCES) -> np.ndarray:
    """Validate every instance and build the array the model takes; errors name the instance.

    ``takes`` is the kind's declared input; ``max_instances`` (the MAX_PREDICT_INSTANCES setting)
    bounds one call's work and memory: more is a 413 naming the limit.
    """
    if not isinstance(instances, list) or not instances:
        raise BadInstances({"instances": "required: a non-empty list"})
    over_limit("instances", len(instances), max_instances)
    if takes is Input.TEXT:
        return _texts(instances)
    if takes is Input.IMAGES:
        return _images(instances, schema)
    return _rows(instances, schema)


def over_limit(field: str, count: int, limit: int, what: str = "instances") -> None:
    """A 413 when one call carries more than ``limit`` instances (or words) in ``field``."""
    if count > limit:
        raise OverLimit(field, f"at most {limit:,} {what} per call, got {count:,}", limit, "MAX_PREDICT_INSTANCES")


def _texts(instances: list[Any]) -> np.ndarray:
    for i, text in enumerate(instances):
        if not isinstance(text, str) or not text.strip():
            raise BadInstances({f"instances[{i}]": "must be a non-empty string"})
        if len(text) > 100_000:
            raise BadInstances({f"instances[{i}]": "longer than 100,000 characters"})
    return np.array(instances, dtype=object).reshape(-1, 1)


def _rows(instances: list[Any], schema: dict[str, Any]) -> np.ndarray:
    names = [f["name"] for f in schema.get("features", [])]
    rows = []
    for i, row in enumerate(instances):
        if isinstance(row, dict):
            missing = [n for n in names if n not in row]
            if missing:
                raise BadInstances({f"instances[{i}]": f"missing features: {', '.join(missing[:5])}"})
            row = [row[n] for n in names]
        if not isinstance(row, list) or len(row) != len(names):
            raise BadInstances({f"instances[{i}]": f"must be a list of {len(names)} numbers (or an object keyed by "
                                              "feature name)"})
        for j, value in enumerate(row):
            if isinstance(value, bool) or not isinstance(value, int | float) or not _finite(value):
                raise BadInstances({f"instances[{i}][{j}]": f"{names[j]!r} must be a finite number, got {value!r}"})
        rows.append(row)
    return np.array(rows, dtype=np.float32)


def _images(instances: list[Any], schema: dict[str, Any]) -> np.ndarray:
    shape = tuple(schema.get("image_shape", []))
    out = []
    for i, image in enumerate(instances):
        try:
            arr = np.asarray(image, dtype=np.float32)
        except (TypeError, ValueError, OverflowError):
            raise BadInstances({f"instances[{i}]": "must be a nested list of numbers"}) from None
        if arr.shape == shape[:2] and len(shape) == 3 and shape[2] == 1:
            arr = arr[..., np.newaxis]
        if arr.shape != shape:
            raise BadInstances({f"instances[{i}]": f"must have shape {list(shape)}, got {list(arr.shape)}"})
        if not np.isfinite(arr).all():
            raise BadInstances({f"instances[{i}]": "contains NaN or infinite values"})
        out.append(arr)
    return np.stack(out)


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value) and abs(value) < 3.4e38  # what float32 can hold
    except OverflowError:  # an int too large for a float
        return False

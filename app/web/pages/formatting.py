"""How values read on the pages: one place for numbers, yes/no, missing values and timeline events.

Pages never show raw JSON (``null``, ``false``) or Python (``None``, ``True``): a missing value is a
dash, a boolean is yes/no, a count is an integer with thousands separators, a duration has two
decimals, a rate is a whole number, megabytes one decimal, any other fraction four decimals. A score that nothing was
evaluated for (its ``<name>_evaluated`` count is 0, or its ``<name>_oov_ratio`` is 1) says so.
The job page's live updates (``formatValue`` in app/web/static/job.js)
follow the same rules: tests/web/test_formatting.py checks this module, tests/web/test_browser_values.py the
pages in a browser.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.web.pages import bp

MISSING = "—"
NOT_EVALUATED = "not evaluated: all words out of vocabulary"
COUNT_SUFFIXES = ("rows", "_count", "_size", "scored", "errors", "documents", "words", "_evaluated", "epochs",
                  "epochs_run", "_total", "_done", "_per_second", "_per_s", "_epoch", "classes")
DURATION_SUFFIXES = ("_seconds", "_s")
SIZE_SUFFIXES = ("_mb", "_mib", "_gb")  # memory and sizes already in large units: one decimal


def value(v: Any, key: str = "") -> str:
    """One value as a person reads it; ``key`` (the metric's name) tells counts and durations apart."""
    if v is None:
        return MISSING
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return _number(v, key.lower())
    if isinstance(v, list | tuple):
        return ", ".join(value(x) for x in v) or MISSING
    if isinstance(v, Mapping):
        return ", ".join(f"{k} {value(x, str(k))}" for k, x in v.items()) or MISSING
    return str(v)


def _number(v: float, key: str) -> str:
    if not math.isfinite(v):
        return str(v)
    if key.endswith(COUNT_SUFFIXES) or v.is_integer() or abs(v) >= 1000:
        return f"{round(v):,}"
    if key.endswith(DURATION_SUFFIXES):
        return f"{v:,.2f}"
    if key.endswith(SIZE_SUFFIXES):
        return f"{v:,.1f}"
    return f"{v:.4f}"


def metric(v: Any, key: str = "", metrics: Mapping[str, Any] | None = None) -> str:
    """A metric; a score that nothing was evaluated for says why instead of showing 0 or a dash.

    ``analogy_accuracy`` with ``analogy_evaluated`` 0 (every question out of vocabulary), and
    ``wordsim353_spearman`` missing with ``wordsim353_oov_ratio`` 1, read "not evaluated: ...".
    """
    metrics = metrics or {}
    prefix = key.rsplit("_", 1)[0]
    if key != f"{prefix}_evaluated" and metrics.get(f"{prefix}_evaluated") == 0:
        return NOT_EVALUATED
    if v is None and metrics.get(f"{prefix}_oov_ratio") == 1.0:
        return NOT_EVALUATED
    if v == "":
        return ""
    return value(v, key)


def plain(v: Any) -> str:
    """A parameter's value: like ``value`` but a float keeps its own digits (0.003, not 0.0030)."""
    if isinstance(v, float) and math.isfinite(v):
        return f"{v:g}"
    return value(v)


def event_text(kind: str, payload: Mapping[str, Any] | None) -> str:
    """A timeline line: ``epoch 3: loss 0.4120 · accuracy 0.9000``, ``status running (attempt 1)``, ..."""
    p = dict(payload or {})
    if kind == "epoch":
        rest = " · ".join(f"{k} {value(v, k)}" for k, v in p.items() if k != "epoch")
        return f"epoch {p.get('epoch')}: {rest}"
    if kind == "status":
        extra = ", ".join(f"{k} {value(v, k)}" for k, v in p.items() if k != "status")
        return f"{p.get('status')}" + (f" ({extra})" if extra else "")
    if p.get("message"):
        return f"{kind} {p['message']}"
    return kind + (" (" + ", ".join(f"{k} {value(v, k)}" for k, v in p.items()) + ")" if p else "")


def when(iso: str | None) -> str:
    """An ISO timestamp as ``2026-11-27 21:27:39`` (UTC), or a dash."""
    return iso[:19].replace("T", " ") if iso else MISSING


for _name, _fn in (("value", value), ("metric", metric), ("plain", plain), ("event_text", event_text),
                   ("when", when)):
    bp.add_app_template_filter(_fn, _name)
bp.add_app_template_global(metric, "format_metric")

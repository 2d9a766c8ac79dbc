"""(p)'s figures: the per-round markdown table, and summary rows (medians over rounds) for run.py's table."""
from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from bench.loadgen import Load
from bench.report import Row

if TYPE_CHECKING:
    from bench.peers import Results, Side

# load -> required Trainyard/MLflow req/s ratio (issue 16's targets)
TARGETS = {"single": 5.0, "alias": 5.0, "list": 10.0, "write": 6.0}
P99_LIMIT_MS = 50.0  # single read at 32 connections


def _median(loads: list[Load], attr: str) -> float:
    """Median of one attribute over rounds."""
    return statistics.median(getattr(x, attr) for x in loads)


def _ratio(x: float, y: float) -> str:
    """x/y as ``2.50x``; a dash when y is 0 (no request finished in the round)."""
    return f"{x / y:.2f}x" if y else "—"


def round_table(results: Results, sides: tuple[Side, Side], loads: tuple[tuple[str, str, int], ...]) -> str:
    """Every round of every load: both sides' req/s, p50 and p99, and the req/s ratio; medians last."""
    a, b = (s.name for s in sides)
    lines = [f"| load | conns | round | {a} req/s | {a} p50 / p99 ms | {b} req/s | {b} p50 / p99 ms | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for load, label, conns in loads:
        ours, theirs = results[(load, a)], results[(load, b)]
        for r, (x, y) in enumerate(zip(ours, theirs, strict=True), 1):
            err = f" ({x.errors}/{y.errors} errors)" if x.errors or y.errors else ""
            lines.append(f"| {label} | {conns} | {r} | {x.rps:,.0f} | {x.p50_ms:.1f} / {x.p99_ms:.1f} | "
                         f"{y.rps:,.0f} | {y.p50_ms:.1f} / {y.p99_ms:.1f} | {_ratio(x.rps, y.rps)}{err} |")
        rps_a, rps_b = _median(ours, "rps"), _median(theirs, "rps")
        lines.append(f"| **{label}** | {conns} | median | **{rps_a:,.0f}** | {_median(ours, 'p50_ms'):.1f} / "
                     f"{_median(ours, 'p99_ms'):.1f} | **{rps_b:,.0f}** | {_median(theirs, 'p50_ms'):.1f} / "
                     f"{_median(theirs, 'p99_ms'):.1f} | **{_ratio(rps_a, rps_b)}** |")
    return "\n".join(lines)


def rows(results: Results, sides: tuple[Side, Side], n: int) -> list[Row]:
    """Medians over rounds, Trainyard as the value and MLflow as the baseline, with the issue's targets."""
    a, b = (s.name for s in sides)
    peer = "MLflow, gunicorn 2 sync"
    out: list[Row] = []
    for load, label, p99_label in (
            ("single", f"single read req/s, 32 conns, {n:,} jobs/runs", "single read p99 ms, 32 conns"),
            ("alias", "alias read req/s, 32 conns", "alias read p99 ms"),
            ("list", "list 50 newest req/s, 32 conns", "list 50 newest p99 ms"),
            ("write", "writes/s, 32 conns (MLflow: create + log-batch)", "write p99 ms")):
        ours, theirs = results[(load, a)], results[(load, b)]
        rps, base = _median(ours, "rps"), _median(theirs, "rps")
        want = TARGETS[load]
        out.append(Row("p", label, rps, base, peer, f"≥ {want:g}x", rps >= want * base))
        p99, p99_base = _median(ours, "p99_ms"), _median(theirs, "p99_ms")
        if load == "single":
            out.append(Row("p", p99_label, p99, p99_base, peer, f"≤ {P99_LIMIT_MS:g} ms", p99 <= P99_LIMIT_MS))
        else:
            out.append(Row("p", p99_label, p99, p99_base, peer))
    ours, theirs = results[("seq", a)], results[("seq", b)]
    out += [Row("p", "sequential single read p50 ms, 1 conn", _median(ours, "p50_ms"), _median(theirs, "p50_ms"),
                peer),
            Row("p", "sequential single read p99 ms, 1 conn", _median(ours, "p99_ms"), _median(theirs, "p99_ms"),
                peer)]
    return out

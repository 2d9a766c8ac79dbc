"""One result row per figure, and the markdown table that prints them."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """A platform figure next to its same-run baseline; ``target`` is checked on ``ratio`` or ``value``."""

    bench: str
    metric: str
    value: float
    baseline: float | None
    baseline_name: str
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        """Platform figure divided by the baseline figure."""
        return self.value / self.baseline if self.baseline else None


def _num(x: float | None) -> str:
    """Compact number formatting for the table."""
    if x is None:
        return "—"
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.2f}" if abs(x) >= 1 else f"{x:.3f}"


def table(rows: Iterable[Row]) -> str:
    """The rows as a GitHub markdown table."""
    lines = ["| bench | metric | platform | baseline | ratio | target | met |",
             "|---|---|---:|---:|---:|---|---|"]
    for r in rows:
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        base = f"{_num(r.baseline)} ({r.baseline_name})" if r.baseline is not None else "—"
        ratio = "—" if r.ratio is None else f"{r.ratio:.2f}x"
        target = r.target or "—"
        lines.append(f"| {r.bench} | {r.metric} | {_num(r.value)} | {base} | {ratio} | {target} | {met} |")
    return "\n".join(lines)

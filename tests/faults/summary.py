"""The fault suite's closing summary: one row per scenario (written when its cluster closes), one line.

``manual restarts`` counts the times the harness itself had to restart a worker or beat process to make
progress, as a person watching the cluster would (``Cluster.rescue``): a restart that is not the fault a
scenario injects. Each scenario asserts it is 0; the line shows the total however the tests ended.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from app.config import PROJECT_ROOT

SUMMARY_DIR = Path(os.environ.get("TRAINYARD_FAULT_SUMMARY", PROJECT_ROOT / "var" / "fault-summary"))
KEYS = ("faults", "jobs", "lost", "timed_out", "executions", "duplicated", "manual_restarts")


def record_summary(folder: Path, test: str, faults: int, jobs: int, *, lost: int, timed_out: int, executions: int,
                   duplicated: int, manual_restarts: int = 0) -> None:
    """One scenario's row for the closing summary (tests/conftest.py adds them up)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{os.getpid()}.jsonl", "a") as fh:
        fh.write(json.dumps({"test": test, "faults": faults, "jobs": jobs, "lost": lost, "timed_out": timed_out,
                             "executions": executions, "duplicated": duplicated,
                             "manual_restarts": manual_restarts}) + "\n")


def read_rows(folder: Path) -> list[dict]:
    return [json.loads(line) for f in sorted(folder.glob("*.jsonl")) for line in f.read_text().splitlines()]


def summary_lines(rows: list[dict]) -> list[str]:
    """The summary line, then one line per scenario that lost, duplicated or needed a manual restart."""
    total = {k: sum(r.get(k, 0) for r in rows) for k in KEYS}
    lines = [f"fault-injection summary: {len(rows)} scenarios, {total['faults']} faults injected, "
             f"{total['jobs']} jobs ({total['executions']} attempts started), {total['lost']} lost "
             f"({total['timed_out']} never ended), {total['duplicated']} duplicated executions, "
             f"{total['manual_restarts']} manual restarts"]
    for r in rows:
        if r.get("lost") or r.get("duplicated") or r.get("manual_restarts"):
            lines.append(f"  {r['test']}: {r['lost']} lost ({r.get('timed_out', 0)} never ended), "
                         f"{r['duplicated']} duplicated executions, {r.get('manual_restarts', 0)} manual restarts")
    return lines

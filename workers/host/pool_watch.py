"""What a worker's parent knows of its job child: starting, ready, or wedged.

The parent outlives its children, so a worker whose children keep dying (or never get
TensorFlow imported) used to look alive to every supervisor while its queue stalled.
The heartbeat asks this watch each beat and writes the answer into the worker's row,
where the workers page, ``/metrics`` and ``/api/v1/health`` show it:

- ``ready``: a live child has TensorFlow loaded (``workers.jobs.warmup.WARM_PID``);
- ``starting``: no ready child yet, for less than ``wedged_after_s``;
- ``wedged``: no ready child for ``wedged_after_s`` or more.

``child_starts`` counts the children started since the worker started; one that climbs
while the state stays ``starting`` or ``wedged`` is a pool in a crash loop.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from app.models import utcnow


def child_pids(parent: int) -> set[int]:
    """Pids whose parent is ``parent``, read from /proc (no extra dependency)."""
    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        if int(fields[1]) == parent:
            kids.add(int(stat.parent.name))
    return kids


@dataclass(frozen=True)
class PoolState:
    state: str
    since: datetime
    child_starts: int


class PoolWatch:
    def __init__(self, wedged_after_s: float, warm_pid: Callable[[], int],
                 children: Callable[[], set[int]] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 started: Callable[[], int] | None = None) -> None:
        self.wedged_after_s = wedged_after_s
        self._warm_pid, self._clock, self._started = warm_pid, clock, started
        self._children = children or (lambda: child_pids(os.getpid()))
        self._seen: set[int] = set()
        self.child_starts = 0
        self._unready_since: float | None = clock()
        self._state = PoolState("starting", utcnow(), 0)

    def observe(self) -> PoolState:
        children = self._children()
        # Exact when the children count themselves (workers.jobs.warmup.CHILD_STARTS); sampling pids
        # once a beat misses children that die between two beats.
        self.child_starts = self._started() if self._started else self.child_starts + len(children - self._seen)
        self._seen = children
        now = self._clock()
        if self._warm_pid() in children:
            self._unready_since, state = None, "ready"
        else:
            if self._unready_since is None:
                self._unready_since = now
            state = "wedged" if now - self._unready_since >= self.wedged_after_s else "starting"
        since = utcnow() if state != self._state.state else self._state.since
        self._state = PoolState(state, since, self.child_starts)
        return self._state

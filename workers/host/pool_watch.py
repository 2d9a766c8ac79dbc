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
from pathlib import Path

from app.models import utcnow
from app.services.workers import Pool


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


class PoolWatch:
    def __init__(self, wedged_after_s: float, warm_pid: Callable[[], int], started: Callable[[], int],
                 children: Callable[[], set[int]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``warm_pid``: the pid of the child that has TensorFlow loaded; ``started``: how many children
        have started (both shared with the children: workers.jobs.warmup)."""
        self.wedged_after_s = wedged_after_s
        self._warm_pid, self._started, self._clock = warm_pid, started, clock
        self._children = children or (lambda: child_pids(os.getpid()))
        self._unready_since: float | None = clock()
        self._state = Pool("starting", utcnow(), 0)

    def observe(self) -> Pool:
        now = self._clock()
        if self._warm_pid() in self._children():
            self._unready_since, state = None, "ready"
        else:
            if self._unready_since is None:
                self._unready_since = now
            state = "wedged" if now - self._unready_since >= self.wedged_after_s else "starting"
        since = utcnow() if state != self._state.state else self._state.since
        self._state = Pool(state, since, self._started())
        return self._state

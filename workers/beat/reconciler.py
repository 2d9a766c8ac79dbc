"""The beat process's own loops: the reconciler, the schedule firer and the sweeps' decider, each in a thread.

Every RECONCILE_INTERVAL_S the reconciler takes back lost jobs and re-rings lost
messages; every SCHEDULE_TICK_S the firer starts due scheduled retrains and settles
finished ones; every SWEEP_TICK_S the sweeps' decider starts trials and stops
weak ones at their rung. Every decision either makes is a conditional UPDATE or a unique row,
so a second beat started by mistake does no harm.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from celery import Celery
from sqlalchemy.exc import OperationalError

from app.services.usecases.reconcile import reconcile
from app.services.usecases.report import one_line
from app.services.usecases.schedule import fire_due_schedules
from app.services.usecases.sweep import advance_sweeps
from workers.context import runtime_for

log = logging.getLogger(__name__)


class Loop:
    """Call ``step(runtime)`` every ``interval(settings)`` seconds until stopped; log, never die."""

    def __init__(self, celery: Celery, name: str, step: Callable, interval: Callable) -> None:
        self.celery, self.name, self.step, self.interval = celery, name, step, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        rt = runtime_for(self.celery)
        log.info("%s: every %s s", self.name, self.interval(rt.settings))
        while True:
            try:
                result = self.step(rt)
                if result:
                    log.info("%s: %s", self.name, result)
            except OperationalError as exc:  # the database is away: one line per pass, not a traceback
                log.warning("%s pass skipped, database unavailable: %s", self.name, one_line(exc))
            except Exception:
                log.exception("%s pass failed", self.name)
            if self._stop.wait(self.interval(rt.settings)):
                return


def reconciler(celery: Celery) -> Loop:
    return Loop(celery, "reconciler", lambda rt: {k: v for k, v in reconcile(rt).items() if v},
                lambda s: s.reconcile_interval_s)


def schedule_firer(celery: Celery) -> Loop:
    return Loop(celery, "schedules", lambda rt: [f"{f.schedule_id}@{f.due_at:%H:%M}: {f.status}"
                                                  for f in fire_due_schedules(rt)],
                lambda s: s.schedule_tick_s)


def sweep_decider(celery: Celery) -> Loop:
    return Loop(celery, "sweeps", lambda rt: [f"sweep {a.sweep_id}: started {a.started}, stopped {a.stopped}"
                                               f"{', ' + a.ended if a.ended else ''}" for a in advance_sweeps(rt)],
                lambda s: s.sweep_tick_s)

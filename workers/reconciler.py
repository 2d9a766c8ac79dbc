"""The reconciler loop: every RECONCILE_INTERVAL_S, take back lost jobs and re-ring lost messages.

Runs in the beat process (one per deployment). Every decision it makes is a
conditional UPDATE, so a second beat started by mistake does no harm.
"""
from __future__ import annotations

import logging
import threading

from celery import Celery

from workers.context import runtime_for

log = logging.getLogger(__name__)


class Reconciler:
    def __init__(self, celery: Celery) -> None:
        self.celery = celery
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reconciler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        rt = runtime_for(self.celery)
        log.info("reconciler: every %s s (lease %s s)", rt.settings.reconcile_interval_s, rt.settings.lease_s)
        while True:
            try:
                counts = rt.reconcile()
                if any(counts.values()):
                    log.info("reconciler: %s", counts)
            except Exception:
                log.exception("reconciler pass failed")
            if self._stop.wait(rt.settings.reconcile_interval_s):
                return

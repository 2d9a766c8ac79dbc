"""A worker's own heartbeat row: who it is, which queues it takes, its GPUs, how busy they are, and
whether its job child is ready (workers.host.pool_watch).

Runs as a thread of the worker's main process (never in the job's child), so a long
job never delays it; the row is what the workers page, the API, /metrics and job
submission (``queue=auto``, the GPU count check) read.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import threading

from app.config import Settings
from app.kinds import KINDS
from app.runtime import Runtime
from app.services import workers as worker_rows
from workers.host.gpus import live_stats
from workers.host.pool_watch import PoolWatch

log = logging.getLogger(__name__)


def advertised_gpus() -> list[dict]:
    """The GPUs the launcher gave this worker (TRAINYARD_GPUS), empty for a CPU worker."""
    try:
        gpus = json.loads(os.environ.get("TRAINYARD_GPUS") or "[]")
    except ValueError:
        log.warning("TRAINYARD_GPUS is not JSON; advertising no GPU")
        return []
    return gpus if isinstance(gpus, list) else []


class Heartbeat:
    """Owns a runtime of its own, built in the worker's main process and kept referenced for the
    process's life: a job child forked later inherits it untouched and never closes its connections."""

    def __init__(self, settings: Settings, name: str, queues: list[str], interval_s: float,
                 pool: PoolWatch | None = None) -> None:
        self.settings, self.name, self.queues, self.interval_s = settings, name, queues, interval_s
        self.pool = pool
        self._runtime: Runtime | None = None
        self.host = name.split("@", 1)[1] if "@" in name else socket.gethostname()
        self.gpus = advertised_gpus()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-heartbeat", daemon=True)

    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = Runtime.build(self.settings)
        return self._runtime

    def start(self) -> None:
        self._thread.start()

    def beat(self) -> None:
        pool = self.pool.observe() if self.pool else None
        with self.runtime().session() as session:
            worker_rows.record_beat(session, self.name, host=self.host, pid=os.getpid(), queues=self.queues,
                                    gpus=live_stats(self.gpus), pool=pool, kinds=KINDS.advertised())

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():  # a beat in flight must not land after "stopped" and revive the row
            self._thread.join(timeout=30)
        try:
            with self.runtime().session() as session:
                worker_rows.mark_stopped(session, self.name)
        except Exception:
            log.warning("could not mark worker %s stopped", self.name, exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat()
            except Exception:  # the database is away: the next beat tries again
                log.warning("worker heartbeat failed", exc_info=True)
            self._stop.wait(self.interval_s)

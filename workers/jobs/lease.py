"""The lease of a running attempt: a heartbeat thread that also carries stop requests.

The training thread never waits on the database for this: it reads flags the
heartbeat thread keeps fresh, and stops at the next batch boundary when asked.
"""
from __future__ import annotations

import threading
import time

from app.runtime import Runtime
from app.services.usecases import report
from workers.jobs import warmup
from workers.trainers.base import Cancelled, Fenced, HandBack, TimeLimit


class Lease:
    def __init__(self, rt: Runtime, job_id: str, attempt: int) -> None:
        self.rt, self.job_id, self.attempt = rt, job_id, attempt
        self.owned, self.cancel, self.handback = True, False, False
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{job_id[:8]}", daemon=True)

    def __enter__(self) -> Lease:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def beat(self) -> bool | None:
        """Renew now; True if this attempt still owns the job, False if not, None if the database is away."""
        b = report.heartbeat(self.rt, self.job_id, self.attempt)
        if b is None:  # the database blinked: keep training; the lease may lapse, fencing holds
            return None
        self.owned, self.cancel, self.handback = b.owned, b.cancel, b.handback
        return b.owned

    def _run(self) -> None:
        while not self._stop.wait(self.rt.settings.heartbeat_interval_s):
            self.beat()

    def check(self) -> None:
        """Raise the reason to stop, if any (called at every batch boundary)."""
        if not self.owned:
            raise Fenced(f"job {self.job_id} attempt {self.attempt} no longer owns the job")
        if self.cancel:
            raise Cancelled("cancelled by request")
        if self.handback or warmup.STOPPING.value:  # the flag: a claim that raced the shutdown's request
            raise HandBack("the worker is shutting down")
        elapsed = time.monotonic() - self.started
        if elapsed > self.rt.settings.soft_time_limit_s:
            raise TimeLimit(f"time limit: ran {elapsed:.0f} s, the soft limit is "
                            f"{self.rt.settings.soft_time_limit_s} s")

"""The beat process's webhook sender: deliver owed webhooks every WEBHOOK_POLL_S, in its own thread.

Separate from the reconciler so a slow receiver never delays taking back lost jobs. Two
beats by mistake are harmless: each delivery is claimed with a conditional UPDATE first.
"""
from __future__ import annotations

import logging
import threading

from celery import Celery

from app.webhook_sender import deliver_due
from workers.context import runtime_for

log = logging.getLogger(__name__)


class WebhookLoop:
    def __init__(self, celery: Celery) -> None:
        self.celery = celery
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        rt = runtime_for(self.celery)
        while True:
            try:
                counts = deliver_due(rt)
                if any(counts.values()):
                    log.info("webhooks: %s", counts)
            except Exception:
                log.exception("webhook pass failed")
            if self._stop.wait(rt.settings.webhook_poll_s):
                return

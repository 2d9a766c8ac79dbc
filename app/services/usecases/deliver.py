"""Deliver owed webhooks (beat, every WEBHOOK_POLL_S): claim what is due, send each, record each attempt.

No database connection is held while a receiver answers. Two beats by mistake are harmless:
each delivery is claimed with a conditional UPDATE first.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from app.domain.status import DeliveryStatus
from app.services import webhooks
from app.services.usecases.deps import Deps

log = logging.getLogger(__name__)


# Sends one delivery and says how it went: (ok, HTTP status, error). Beat passes the real HTTP sender
# (workers/beat/webhook_sender.py), so this layer holds no network code.
Sender = Callable[[webhooks.Due], tuple[bool, int | None, str | None]]


def deliver_webhooks(deps: Deps, now: datetime | None = None, *, send: Sender) -> dict[str, int]:
    """One pass. Returns counts by outcome (delivered, pending, failed)."""
    now = now or deps.clock()
    started = time.monotonic()
    with deps.session() as session:
        due = webhooks.claim_due(session, now)
    counts = {str(s): 0 for s in (DeliveryStatus.DELIVERED, DeliveryStatus.PENDING, DeliveryStatus.FAILED)}
    for d in due:
        ok, code, error = send(d)
        # The clock moves on while slow receivers answer: backoff counts from this attempt, not the pass.
        attempted = now + timedelta(seconds=time.monotonic() - started)
        with deps.session() as session:
            status = webhooks.record_attempt(session, d.id, ok=ok, status_code=code, error=error, now=attempted,
                                             max_attempts=deps.settings.webhook_max_attempts,
                                             backoff_s=deps.settings.webhook_backoff_s)
        counts[status] = counts.get(status, 0) + 1
        if not ok:
            log.warning("webhook delivery %d to %s: %s (%s)", d.id, d.url, error, status)
    return counts

"""Sending owed webhook deliveries: signed with HMAC-SHA256, retried with backoff, every attempt logged.

Each request carries ``X-Trainyard-Timestamp`` (Unix seconds) and ``X-Trainyard-Signature:
sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<body>"`` under the webhook's secret. A
receiver recomputes it and refuses an old timestamp, so a captured request cannot be replayed.
The beat process runs ``deliver_due`` every WEBHOOK_POLL_S (workers.celery_app); no database
connection is held while a receiver answers.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime, timedelta

import requests

from app.domain.status import DeliveryStatus
from app.models import utcnow
from app.runtime import Runtime
from app.services import webhooks

log = logging.getLogger(__name__)
TIMEOUT_S = 10


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, max_age_s: int = 300) -> bool:
    """What a receiver does (shown in the README): recompute, compare in constant time, check the age."""
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def _send(due: webhooks.Due) -> tuple[bool, int | None, str | None]:
    body = json.dumps({**due.payload, "delivery": due.id}, separators=(",", ":")).encode()
    ts = int(time.time())
    headers = {"Content-Type": "application/json", "User-Agent": "trainyard-webhooks",
               "X-Trainyard-Event": due.event, "X-Trainyard-Delivery": str(due.id),
               "X-Trainyard-Timestamp": str(ts), "X-Trainyard-Signature": sign(due.secret, ts, body)}
    try:
        r = requests.post(due.url, data=body, headers=headers, timeout=TIMEOUT_S, allow_redirects=False)
    except requests.RequestException as exc:
        return False, None, f"{exc.__class__.__name__}: {exc}"[:2000]
    ok = 200 <= r.status_code < 300
    return ok, r.status_code, None if ok else f"HTTP {r.status_code}: {r.text[:500]}"


def deliver_due(rt: Runtime, now: datetime | None = None) -> dict[str, int]:
    """One pass: claim what is due, send each, record each attempt. Returns counts by outcome."""
    now = now or utcnow()
    started = time.monotonic()
    with rt.session() as session:
        due = webhooks.claim_due(session, now)
    counts = {str(s): 0 for s in (DeliveryStatus.DELIVERED, DeliveryStatus.PENDING, DeliveryStatus.FAILED)}
    for d in due:
        ok, code, error = _send(d)
        # The clock moves on while slow receivers answer: backoff counts from this attempt, not the pass.
        attempted = now + timedelta(seconds=time.monotonic() - started)
        with rt.session() as session:
            status = webhooks.record_attempt(session, d.id, ok=ok, status_code=code, error=error, now=attempted,
                                             max_attempts=rt.settings.webhook_max_attempts,
                                             backoff_s=rt.settings.webhook_backoff_s)
        counts[status] = counts.get(status, 0) + 1
        if not ok:
            log.warning("webhook delivery %d to %s: %s (%s)", d.id, d.url, error, status)
    return counts

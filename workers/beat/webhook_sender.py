"""Sending owed webhook deliveries: signed with HMAC-SHA256, retried with backoff, every attempt logged.

Each request carries ``X-Trainyard-Timestamp`` (Unix seconds) and ``X-Trainyard-Signature:
sha256=<hex>``, the HMAC-SHA256 of ``"<timestamp>.<body>"`` under the webhook's secret. A
receiver recomputes it and refuses an old timestamp, so a captured request cannot be replayed.
The use-case that owns the deliveries is ``app.services.usecases.deliver``; beat runs it every
WEBHOOK_POLL_S (workers/beat/webhook_loop.py).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import requests

from app.services import webhooks

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


def send(due: webhooks.Due) -> tuple[bool, int | None, str | None]:
    """POST one delivery, signed; (delivered, HTTP status, error)."""
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

"""Sign-in throttling: slow guessing down, per account and per address, without locking anyone out.

A lock-out (N failures, then refuse even the right password for 15 minutes) let anyone lock the admin
out with five wrong passwords, and a busy address lock every account. Instead, failures are free up to
a number, then each further attempt must wait twice as long as the one before, up to a cap (30 s per
account, 60 s per address by default): a guesser gets about two tries a minute per account, while the
owner typing the right password waits at most the cap. Failures are read from the audit log
(``login_failed`` rows), so the count holds across processes and restarts.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.errors import TooManyAttempts
from app.models import AuditEntry


@dataclass(frozen=True)
class LoginLimits:
    """Failures allowed without delay, and the longest delay, per account and per client address."""

    free_per_account: int = 5
    free_per_address: int = 20
    max_delay_account_s: float = 30.0
    max_delay_address_s: float = 60.0
    window_s: int = 900  # failures older than this are forgotten


def delay_s(failures: int, free: int, cap: float) -> float:
    """How long after the last failure the next attempt may come: 0, then 1, 2, 4, ... seconds, capped."""
    if failures < free:
        return 0.0
    return min(cap, 2.0 ** min(failures - free, 30))


def _failures(session: Session, since: datetime, **where: str) -> tuple[int, datetime | None]:
    """(recent failures, when the last one was) for one account (target) or one address."""
    q = select(func.count(AuditEntry.id), func.max(AuditEntry.at)).where(
        AuditEntry.action == "login_failed", AuditEntry.at >= since)
    for column, value in where.items():
        q = q.where(getattr(AuditEntry, column) == value)
    count, last = session.execute(q).one()
    return count or 0, last


def check(session: Session, username: str, address: str | None, limits: LoginLimits, now: datetime) -> None:
    """Raise TooManyAttempts (with how many seconds to wait) if this attempt comes too soon."""
    since = now - timedelta(seconds=limits.window_s)
    checks = [("this account", {"target": username[:255]}, limits.free_per_account, limits.max_delay_account_s)]
    if address:
        checks.append(("this address", {"address": address}, limits.free_per_address,
                       limits.max_delay_address_s))
    for who, where, free, cap in checks:
        count, last = _failures(session, since, **where)
        wait = delay_s(count, free, cap) - ((now - last).total_seconds() if last else 0.0)
        if count >= free and wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyAttempts(f"too many failed sign-ins for {who}: try again in {seconds} s",
                                  retry_after_s=seconds)

"""Looking inside the broker (Redis) to see which jobs still have a live message.

The reconciler uses this to ring again only for queued jobs whose message is gone
(Redis flushed or restarted empty), so the broker never fills with duplicates.
"""
from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable

import redis

log = logging.getLogger(__name__)
# Celery's Redis transport keeps priority levels in extra lists named queue + "\x06\x16" + level.
PRIORITY_SEP = "\x06\x16"


def _task_id(raw: bytes) -> str | None:
    try:
        payload = json.loads(raw)
        if isinstance(payload, list):  # unacked entries are [message, exchange, routing key]
            payload = payload[0]
        return payload["headers"]["id"]
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def live_message_ids(redis_url: str, queues: Iterable[str], unacked_grace_s: float) -> set[str] | None:
    """Task ids waiting in the queues, or delivered less than ``unacked_grace_s`` ago and not yet
    acknowledged; None if Redis is unreachable.

    An older unacknowledged message of a job that is still queued belongs to a consumer that died
    before claiming it: Redis would only restore it after the visibility timeout (hours), so it
    does not count as live and the job is rung again.
    """
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        ids: set[str] = set()
        for queue in queues:
            for key in [queue, *(f"{queue}{PRIORITY_SEP}{level}" for level in (3, 6, 9))]:
                ids.update(filter(None, map(_task_id, client.lrange(key, 0, -1))))
        cutoff = time.time() - unacked_grace_s
        recent = client.zrangebyscore("unacked_index", cutoff, "+inf")
        if recent:
            ids.update(filter(None, map(_task_id, filter(None, client.hmget("unacked", recent)))))
        return ids
    except redis.RedisError:
        log.warning("cannot read the broker at %s; falling back to time-based re-dispatch", redis_url)
        return None


def queue_depths(redis_url: str, queues: Iterable[str]) -> dict[str, int] | None:
    """Messages waiting per queue (for the workers page and the health check)."""
    try:
        client = redis.Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
        return {q: int(client.llen(q)) for q in queues}
    except redis.RedisError:
        return None

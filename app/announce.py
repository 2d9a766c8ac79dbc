"""Announcing alias moves on Redis, so the serve process swaps within a second instead of polling.

Like the doorbell it is only a hint: the alias row is committed first, a lost announcement costs the
serve process one slow periodic check (SERVE_ALIAS_CHECK_S), never a wrong answer for long.
"""
from __future__ import annotations

import json
import logging
import threading

import redis

ALIAS_CHANNEL = "trainyard:aliases"
log = logging.getLogger(__name__)
_clients: dict[str, redis.Redis] = {}
_lock = threading.Lock()


def client(redis_url: str) -> redis.Redis:
    """One short-timeout client per URL and process: an announcement never holds up a promote."""
    with _lock:
        if redis_url not in _clients:
            _clients[redis_url] = redis.Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
        return _clients[redis_url]


def announce_alias(redis_url: str, model: str, alias: str) -> bool:
    """Publish that ``alias`` of ``model`` moved (after the commit); False if Redis could not take it."""
    try:
        client(redis_url).publish(ALIAS_CHANNEL, json.dumps({"model": model, "alias": alias}))
    except redis.RedisError:
        log.warning("could not announce the move of %s/%s; serve finds it at its next check", model, alias)
        return False
    return True

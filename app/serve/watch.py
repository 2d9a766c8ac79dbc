"""How the serve process hears of alias moves: Redis announcements, and a slow check of the database.

The promote and roll-back use-cases publish on ``ALIAS_CHANNEL`` after their commit; this thread
re-reads that alias and swaps it, usually well within a second. Every ``SERVE_ALIAS_CHECK_S`` it also
compares every alias with the database, which catches a lost announcement, a Redis outage and the
moves nobody announces (a scheduled retrain's gate, from a worker).
"""
from __future__ import annotations

import json
import logging
import threading
import time

import redis

from app.announce import ALIAS_CHANNEL, client
from app.serve.state import Loaded, Serving
from app.services import aliases

log = logging.getLogger(__name__)


def start_watching(serving: Serving) -> threading.Thread:
    """The watcher thread (a daemon: it ends with the process)."""
    thread = threading.Thread(target=_watch, args=(serving,), name="serve-watch", daemon=True)
    thread.start()
    return thread


def _watch(serving: Serving) -> None:
    serving.ready.wait()
    settings = serving.rt.settings
    next_check = time.monotonic() + settings.serve_alias_check_s
    pubsub = None
    while True:
        try:
            if pubsub is None:
                pubsub = client(settings.redis_url).pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(ALIAS_CHANNEL)
                check_every_alias(serving)  # anything missed while not subscribed
            message = pubsub.get_message(timeout=0.5)
            if message and message.get("type") == "message":
                moved = json.loads(message["data"])
                serving.refresh(str(moved["model"]), str(moved["alias"]))
        except (redis.RedisError, OSError):
            log.warning("serve: Redis is away; alias moves are found by the periodic check meanwhile")
            pubsub = None
            time.sleep(1)
        except Exception:  # a database blip or a bad message: the watcher must outlive it
            log.exception("serve: could not apply an alias move; the periodic check will retry")
        if time.monotonic() >= next_check:
            next_check = time.monotonic() + settings.serve_alias_check_s
            _safely(check_every_alias, serving)


def check_every_alias(serving: Serving) -> None:
    """Compare every alias with the database and swap (or drop) the ones that differ."""
    with serving.rt.session() as session:
        wanted = aliases.every_alias(session)
    for (name, alias), version in wanted.items():
        current = serving.aliases.get((name, alias))
        if not (isinstance(current, Loaded) and current.version == version):
            serving.refresh(name, alias, version)
    for key in set(serving.aliases) - set(wanted):
        serving.aliases.pop(key, None)


def _safely(work, serving: Serving) -> None:
    try:
        work(serving)
    except Exception:
        log.exception("serve: the periodic alias check failed; it runs again later")

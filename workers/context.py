"""The per-process runtime of a worker (database engine, store, doorbell).

Built in the process that uses it, never inherited across a fork: an engine's
connections must not be shared between parent and child.
"""
from __future__ import annotations

import os

from celery import Celery

from app.runtime import Runtime


def runtime_for(celery: Celery) -> Runtime:
    """This process's runtime for ``celery``, built on first use in each process (pid-checked)."""
    holder = celery.conf.get("trainyard_runtime")
    if holder is None or holder[0] != os.getpid():
        holder = (os.getpid(), Runtime.build(celery.conf.trainyard_settings))
        celery.conf.trainyard_runtime = holder
    return holder[1]

"""TensorFlow in a job child, imported in the background so the child says "up" at once.

Celery's parent kills a pool child that has not reported UP within
``worker_proc_alive_timeout`` (4 s by default). Importing TensorFlow takes 25 s on a
loaded machine (more with CUDA), so a child that imported it before reporting UP was
killed, replaced, killed again, and the worker stalled with its parent alive. Now the
child reports UP straight away, TensorFlow loads in a thread, and a job waits for it
before it claims anything (``wait_until_warm``): readiness no longer depends on how long
the import takes.

The parent learns that a child is warm through one shared integer (the warm child's
pid), created here before the pool forks; see ``workers.host.pool_watch``.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from multiprocessing.sharedctypes import RawValue

log = logging.getLogger(__name__)

# Written by a child once TensorFlow is imported, read by the parent's heartbeat. Created at import,
# in the parent, so every forked child shares the same memory.
WARM_PID = RawValue("q", 0)
# Set by the parent when a warm shutdown begins: a child still waiting for the import gives its
# message back unclaimed instead of starting a job the parent would then wait hours for.
STOPPING = RawValue("b", 0)

# Children started since the worker started, counted by each child itself (exact, unlike sampling pids).
CHILD_STARTS = RawValue("q", 0)

_lock = threading.Lock()
_done = threading.Event()
_started = False
_error: BaseException | None = None


def preload_enabled() -> bool:
    return os.environ.get("TRAINYARD_PRELOAD_TF", "1") == "1"


def _load() -> None:
    """Import TensorFlow once per process and set GPU memory growth before any op runs."""
    global _error
    with _lock:
        if _done.is_set():
            return
        started = time.monotonic()
        try:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            import tensorflow as tf

            # Before any op: TensorFlow would otherwise take all of the GPU's memory for this child.
            for gpu in tf.config.list_physical_devices("GPU"):
                tf.config.experimental.set_memory_growth(gpu, True)
            log.info("TensorFlow imported in %.1f s", time.monotonic() - started)
        except BaseException as exc:  # reported to the job that needs it, not lost in a thread
            _error = exc
            log.exception("importing TensorFlow failed")
        finally:
            _done.set()
    if _error is None:
        WARM_PID.value = os.getpid()


def start() -> None:
    """In a new pool child: begin the import in a thread, or say warm at once when preloading is off."""
    global _started
    CHILD_STARTS.value += 1  # one child at a time starts (concurrency 1), so no lock is needed
    if not preload_enabled():
        WARM_PID.value = os.getpid()
        return
    _started = True
    threading.Thread(target=_load, name="tensorflow-warm-up", daemon=True).start()


def wait_until_warm(timeout_s: float) -> None:
    """Block until the background import has finished (a job calls this before its claim).

    A child whose import failed, or has not finished within ``timeout_s``, exits: Celery puts the
    unclaimed message back (reject on worker lost) and forks a fresh child that tries again, so a
    transient failure heals and a lasting one shows as a crash loop (the worker turns wedged).
    """
    if not preload_enabled():
        return
    if not _started:
        _load()  # not in a pool child (an eager call): import here
    elif not _done.wait(timeout_s):
        log.error("TensorFlow has not imported in %.0f s; this child exits and a new one tries", timeout_s)
        _exit()
    if _error is not None:
        log.error("TensorFlow could not be imported (%r); this child exits and a new one tries", _error)
        _exit()


def _exit() -> None:
    logging.shutdown()
    os._exit(1)

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

_lock = threading.Lock()
_done = threading.Event()
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
    if not preload_enabled():
        WARM_PID.value = os.getpid()
        return
    threading.Thread(target=_load, name="tensorflow-warm-up", daemon=True).start()


def wait_until_warm() -> None:
    """Block until the background import has finished (a job calls this before its claim).

    Raises the import's own error, so a worker without a working TensorFlow fails its jobs
    with the reason instead of hanging.
    """
    if not preload_enabled():
        return
    _load()  # waits on the lock while the thread imports; imports here if the thread never ran
    if _error is not None:
        raise RuntimeError(f"TensorFlow could not be imported in this worker: {_error!r}") from _error

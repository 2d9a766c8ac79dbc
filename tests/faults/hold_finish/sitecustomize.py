"""Put on PYTHONPATH of a worker to hold each training job between publishing and registering (the
late-cancel and database-outage fault tests): a moment no trainer can reach, since the runner checks
the lease (and so a cancel) after the trainer returns. Test-only; the product has no hook for it.

TRAINYARD_TEST_HOLD_BEFORE_FINISH names a folder. When ``workers.jobs.runner`` is imported, its
``finish_training`` is wrapped: the worker writes ``<job>.held`` there and waits (its lease keeps
beating) until ``<job>.go`` appears, for at most five minutes, then registers as usual.
"""
import functools
import os
import sys
import time
from pathlib import Path

_FOLDER = os.environ.get("TRAINYARD_TEST_HOLD_BEFORE_FINISH")
_TARGET = "workers.jobs.runner"
HOLD_LIMIT_S = 300.0


def _hold(job_id: str) -> None:
    (Path(_FOLDER) / f"{job_id}.held").touch()
    go, deadline = Path(_FOLDER) / f"{job_id}.go", time.monotonic() + HOLD_LIMIT_S
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def _holding(finish_training):
    @functools.wraps(finish_training)
    def wrapper(rt, job_id, *args, **kwargs):
        _hold(job_id)
        return finish_training(rt, job_id, *args, **kwargs)

    return wrapper


class _HoldBeforeFinish:
    """A meta-path finder that lets the normal finders load the runner, then wraps its finish_training."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is cls or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        load = spec.loader.exec_module

        def exec_module(module):
            load(module)
            module.finish_training = _holding(module.finish_training)

        spec.loader.exec_module = exec_module  # this module's own loader instance
        return spec


if _FOLDER:
    sys.meta_path.insert(0, _HoldBeforeFinish)

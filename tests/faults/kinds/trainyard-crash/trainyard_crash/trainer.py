"""The trainer: kill -9 of its own process, as a segfaulting library or the OOM killer would."""
from __future__ import annotations

import os
import signal

from trainyard.training import TrainContext


def train(ctx: TrainContext) -> None:
    """Never returns: the worker's job child dies here, after the claim, on every attempt."""
    ctx.log.info("crash kind: killing this worker process")
    os.kill(os.getpid(), signal.SIGKILL)

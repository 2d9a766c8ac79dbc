"""Fault-injection hooks for the tests: each does nothing unless its TRAINYARD_FAULT_* variable is set."""
from __future__ import annotations

import os
import time
from pathlib import Path

HOLD_LIMIT_S = 300.0


def hold_before_finish(job_id: str) -> None:
    """Pause between training and registering until the test says go, so it can act in that gap.

    ``TRAINYARD_FAULT_HOLD_BEFORE_FINISH`` names a folder: the worker writes ``<job>.held`` there
    and waits (its lease keeps beating) until ``<job>.go`` appears, for at most five minutes.
    """
    folder = os.environ.get("TRAINYARD_FAULT_HOLD_BEFORE_FINISH")
    if not folder:
        return
    (Path(folder) / f"{job_id}.held").touch()
    go, deadline = Path(folder) / f"{job_id}.go", time.monotonic() + HOLD_LIMIT_S
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.05)

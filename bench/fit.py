"""(b) submit -> version registered for mlp/digits, 20 epochs, against a standalone fit-and-save script.

Platform: clock just before ``POST /api/v1/jobs`` to the job's ``finished_at``, which
the worker sets in the transaction that registers the version. Baseline: wall time
of ``python bench/standalone_fit.py`` (same model, split, seed, epochs, prediction
and save) in a fresh process, i.e. what a user pays without the platform. The two
alternate, repeat by repeat, so machine noise hits both alike. The warm worker has
TensorFlow imported already; the standalone script must import it.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.config import PROJECT_ROOT
from bench.report import Row
from bench.stack import Stack, parse_utc

EPOCHS = 20
BODY = {"kind": "mlp", "dataset": "digits", "model_name": "bench-fit", "params": {"epochs": EPOCHS}}


def platform_once(stack: Stack) -> float:
    """Seconds from POST to the version's registration for one job."""
    t0 = time.time()
    job = stack.submit(BODY)
    job = stack.wait_job(job["id"], interval=0.1)
    if job.get("version") is None:
        raise RuntimeError(f"job {job['id']} succeeded without a version")
    return parse_utc(job["finished_at"]) - t0


def standalone_once(env: dict[str, str]) -> float:
    """Wall seconds of one ``standalone_fit.py`` subprocess."""
    with tempfile.TemporaryDirectory(prefix="bench-standalone-") as out:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(PROJECT_ROOT / "bench" / "standalone_fit.py"),
                               "--epochs", str(EPOCHS), "--out", out], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True)
        elapsed = time.perf_counter() - t0
        if proc.returncode:
            raise RuntimeError(f"standalone_fit.py exited {proc.returncode}:\n{proc.stderr[-2000:]}")
        if not (Path(out) / "model.keras").is_file():
            raise RuntimeError("standalone_fit.py saved no model.keras")
    return elapsed


def run(stack: Stack, repeats: int) -> list[Row]:
    """Alternate platform and standalone runs; report the medians (target: at most 0.8x)."""
    stack.start_worker()
    platform_once(stack)  # warm-up: the first digits job builds the worker's runtime and graphs
    plat: list[float] = []
    solo: list[float] = []
    for _ in range(repeats):
        plat.append(platform_once(stack))
        solo.append(standalone_once(stack.env()))
    p, s = statistics.median(plat), statistics.median(solo)
    return [Row("b", f"submit→version s, digits {EPOCHS} ep (median of {repeats})", p, s,
                "standalone script", "≤ 0.8x", p <= 0.8 * s)]

"""(d) Job submissions per second: concurrent POST /api/v1/jobs with no worker consuming.

The platform worker is stopped first, so training never competes for the CPU; each
POST validates, commits the job and its event, sends the Celery message to Redis
and commits ``dispatched_at``. For context, the same client (16 keep-alive threads,
same request count) measures the constant route on the same server in the same run:
the rate no endpoint of this server can beat. The target is absolute: >= 200 jobs/s.
"""
from __future__ import annotations

import json

from bench.loadgen import Load, hammer
from bench.report import Row
from bench.stack import Stack

THREADS = 16
TARGET = 200.0
BODY = json.dumps({"kind": "mlp", "dataset": "iris", "model_name": "bench-submit",
                   "params": {"epochs": 1}}).encode()


def post_jobs(stack: Stack, total: int) -> Load:
    """``total`` POSTs from ``THREADS`` threads; only 201 counts as success."""
    return hammer("127.0.0.1", stack.port, lambda _i: ("POST", "/api/v1/jobs", BODY), THREADS,
                  total=total, ok=(201,), headers=stack.auth)


def get_constant(stack: Stack, total: int) -> Load:
    """``total`` GETs of the constant route from ``THREADS`` threads."""
    return hammer("127.0.0.1", stack.port, lambda _i: ("GET", "/bench/constant", None), THREADS, total=total)


def run(stack: Stack, total: int) -> list[Row]:
    """Stop the worker, warm up, then measure constant GETs and job POSTs back to back."""
    stack.stop("worker")
    post_jobs(stack, 2 * THREADS)
    floor = get_constant(stack, total)
    load = post_jobs(stack, total)
    if load.errors:
        raise RuntimeError(f"{load.errors} of {load.requests} submissions failed")
    return [Row("d", f"POST job/s, {THREADS} threads, {total} jobs", load.rps, floor.rps,
                "constant route", f"≥ {TARGET:.0f}/s", load.rps >= TARGET),
            Row("d", "POST job p99 ms", load.p99_ms, floor.p99_ms, "constant route")]

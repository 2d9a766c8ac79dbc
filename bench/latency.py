"""(a) submit -> running latency of a short job, against a raw Celery task's enqueue -> start.

Platform: clock just before ``POST /api/v1/jobs`` to the job's ``started_at`` (set by
the worker when it claims the job), for N sequential mlp/iris 1-epoch jobs, each
waited for before the next. Baseline (the floor): the same clock from just before
``send_task`` to the first line of a trivial task, on the same Redis server, with a
Celery worker started the same way and configured the same (prefork, concurrency 1,
acks late, prefetch 1), N sequential tasks in the same run. Both are wall-clock
``time.time()`` on one machine, and both loops idle the same gap between items, so
the ratio is the platform's own cost (HTTP, validation, two commits, claim UPDATE).
"""
from __future__ import annotations

import time
import uuid

from bench import raw_celery
from bench.loadgen import pct
from bench.report import Row
from bench.stack import Stack, parse_utc

WARMUP = 3
GAP_S = 0.05  # idle time between items, identical for both loops
BODY = {"kind": "mlp", "dataset": "iris", "model_name": "bench-latency", "params": {"epochs": 1}}


def raw_latencies(stack: Stack, n: int) -> list[float]:
    """Enqueue -> start seconds of ``n`` trivial tasks on a separate bench worker."""
    stack.start_celery("raw-worker", "bench.raw_celery", raw_celery.QUEUE, "bench-raw@%h")
    client, r = raw_celery.make_app(stack.settings.redis_url), stack.redis()
    out: list[float] = []
    try:
        for i in range(WARMUP + n):
            token = uuid.uuid4().hex
            t0 = time.time()
            client.send_task(raw_celery.TASK, args=[token], queue=raw_celery.QUEUE)
            popped = r.blpop([raw_celery.KEY.format(token=token)], timeout=60)
            if popped is None:
                raise TimeoutError("raw Celery task did not start within 60 s")
            if i >= WARMUP:
                out.append(float(popped[1]) - t0)
            time.sleep(GAP_S)
    finally:
        stack.stop("raw-worker")
    return out


def platform_latencies(stack: Stack, n: int) -> list[float]:
    """POST -> ``started_at`` seconds of ``n`` sequential mlp/iris 1-epoch jobs."""
    stack.start_worker()
    out: list[float] = []
    for i in range(WARMUP + n):
        t0 = time.time()
        job = stack.submit(BODY)
        job = stack.wait_job(job["id"], interval=0.05)
        if i >= WARMUP:
            out.append(parse_utc(job["started_at"]) - t0)
        time.sleep(GAP_S)
    return out


def run(stack: Stack, n: int) -> list[Row]:
    """Both loops, then p50 and p99 rows (target, issue 16: p50 within 2x of raw Celery)."""
    raw = raw_latencies(stack, n)
    plat = platform_latencies(stack, n)
    p50, raw50 = pct(plat, 50) * 1e3, pct(raw, 50) * 1e3
    p99, raw99 = pct(plat, 99) * 1e3, pct(raw, 99) * 1e3
    name = "raw Celery"
    return [Row("a", f"submit→running p50 ms (N={n})", p50, raw50, name, "≤ 2x", p50 <= 2 * raw50),
            Row("a", f"submit→running p99 ms (N={n})", p99, raw99, name)]

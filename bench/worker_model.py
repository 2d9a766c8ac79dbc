"""(i) The web's worker model, chosen by measurement: Granian processes x request threads.

Every configuration serves the same app, database (100,000 jobs) and token, restarted in turn and measured
in alternating rounds: GET one job, list the 50 newest, and the constant route (the server's floor), each at
32 connections. Ratios are against the configuration the Procfile ships (2 workers x 4 blocking threads),
measured in the same rounds. Uploads are not part of it: an upload holds one thread for as long as it
streams, so one thread per process would let two uploads stall a 2-worker web, which no read rate changes.
"""
from __future__ import annotations

import random
import statistics

from bench.loadgen import Load
from bench.reads import measure, seed_jobs
from bench.report import Row
from bench.stack import Stack

# name -> (workers, threads), as the Procfile's WEB_WORKERS and WEB_THREADS
CONFIGS: dict[str, tuple[int, int]] = {
    "2x4 (shipped)": (2, 4),
    "1x8": (1, 8),
    "2x2": (2, 2),
    "2x8": (2, 8),
    "4x2": (4, 2),
}
SHIPPED = "2x4 (shipped)"


def _load(stack: Stack, paths: dict[str, list[str]], seconds: float) -> dict[str, Load]:
    """One round of every load against the server now running."""
    return {name: measure(stack, p, seconds) for name, p in paths.items()}


def run(stack: Stack, seconds: float, rounds: int = 2, n_jobs: int = 100_000) -> list[Row]:
    """Seed once; for each round, restart the web in each configuration and load it; report the means."""
    ids = seed_jobs(stack, n_jobs)
    paths = {"GET job": [f"/api/v1/jobs/{i}" for i in random.Random(1).sample(ids, 1000)],
             "list 50": ["/api/v1/jobs?limit=50"], "constant": ["/bench/constant"]}
    results: dict[str, list[dict[str, Load]]] = {c: [] for c in CONFIGS}
    _load(stack, paths, seconds)  # the database's pages into the OS cache, before any configuration counts
    names = list(CONFIGS)
    for k in range(rounds):
        for config in names[k % len(names):] + names[:k % len(names)]:  # each round starts one further on
            stack.stop("web")
            stack.start_web(*CONFIGS[config])
            _load(stack, paths, 1)  # warm: connections, caches, the first requests' imports
            results[config].append(_load(stack, paths, seconds))
    errors = sum(x.errors for per in results.values() for r in per for x in r.values())
    if errors:
        raise RuntimeError(f"{errors} failed requests during the worker-model benchmark")
    stack.stop("web")
    stack.start_web()  # as it was, for the benchmarks after this one

    def mean(config: str, load: str, attr: str) -> float:
        return statistics.fmean(getattr(r[load], attr) for r in results[config])

    rows = []
    for config in CONFIGS:
        for load in paths:
            rows.append(Row("i", f"{config}: {load} req/s", mean(config, load, "rps"), mean(SHIPPED, load, "rps"),
                            SHIPPED))
        rows.append(Row("i", f"{config}: GET job p99 ms", mean(config, "GET job", "p99_ms"),
                        mean(SHIPPED, "GET job", "p99_ms"), SHIPPED))
    return rows

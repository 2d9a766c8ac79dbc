"""(g) predict API single-row latency p50/p99 and throughput, next to the loaded model called directly.

Platform: ``POST /api/v1/models/<name>/predict`` with one iris row against the web (Granian, 2
workers x 4 threads, forwarding to the serve process), N sequential calls after a warm-up,
then throughput with 4 client threads. Baseline (the floor): ``model.predict_on_batch`` on one
row, N times, in ``bench/bare_predict.py --single``.
"""
from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.batch import run_bare
from bench.report import Row
from bench.stack import Stack

ROW = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


def run(stack: Stack, n: int) -> list[Row]:
    stack.start_worker()
    job = stack.submit({"kind": "mlp", "dataset": "iris", "model_name": "bench-serve", "params": {"epochs": 3}})
    stack.wait_job(job["id"], interval=0.2)
    stack.http.post(f"{stack.base}/api/v1/models/bench-serve/aliases/production",
                    json={"version": 1, "reason": "bench"}, timeout=30).raise_for_status()
    if "serve" not in stack.procs:
        stack.start_serve()  # the web forwards predictions to the serve process
    url = f"{stack.base}/api/v1/models/bench-serve/predict"
    session = requests.Session()
    session.headers.update(stack.http.headers)  # the stack's admin token
    for _ in range(20):  # both web workers open their connections to serve
        session.post(url, json=ROW, timeout=60).raise_for_status()
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        session.post(url, json=ROW, timeout=30).raise_for_status()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()

    def burst(count: int) -> None:
        s = requests.Session()
        s.headers.update(stack.http.headers)
        for _ in range(count):
            s.post(url, json=ROW, timeout=30).raise_for_status()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(burst, [n // 4] * 4))
    per_s = (n // 4 * 4) / (time.perf_counter() - t0)
    bare = run_bare(stack, job["id"], "--single", str(n))
    p50, p99 = statistics.median(times), times[int(len(times) * 0.99) - 1]
    return [
        Row("g", f"predict p50 ms, 1 row (N={n})", p50, bare["p50_ms"], "predict_on_batch"),
        Row("g", "predict p99 ms", p99, bare["p99_ms"], "predict_on_batch"),
        Row("g", "predict calls/s, 4 client threads", per_s, bare["per_s"], "predict_on_batch (1 thread)"),
    ]

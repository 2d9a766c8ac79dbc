"""(h) the serve process (issue 14): start to ready, single-row overhead, web memory.

Three versions of one mlp/iris model, ``production`` on v1 and ``staging`` on v2 (and an rnn on text for
the batching comparison in serve_load.py), served by
``granian --interface wsgi --factory --workers 1 --blocking-threads 32 app.serve:create_app``
as the Procfile runs it; the web (Granian,
2 workers x 4 threads) forwards ``POST /api/v1/models/<name>/predict`` to it.

* start -> ready: from starting serve to ``GET /health`` answering 200, then the first prediction after
  ready against the 10th, each after the same 0.5 s pause (each a new connection): a call after a pause
  costs 2-3x one in a back-to-back run on this machine (wake-ups, caches), which is not a cold start, so
  the 10th is paced like the first; the back-to-back median is reported beside it;
* single-row p50 through serve alone and through web + serve, next to ``predict_on_batch`` on the same
  model.keras in a fresh process (``bench/bare_predict.py``) in the same run: the overhead, target <= 3 ms;
* the web's workers' RSS (summed) after 1,000 predictions against before the first one (web restarted).
"""
from __future__ import annotations

import http.client
import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.batch import run_bare
from bench.report import Row
from bench.stack import Stack

NAME = "bench-serve-h"
ROW = {"instances": [[5.1, 3.5, 1.4, 0.2]]}
# A heavier model for the batching comparison: an LSTM over text, where the model, not HTTP, costs the most.
RNN = "bench-serve-h-rnn"
RNN_ROW = {"instances": ["a wonderful superb film with lovely actors and a moving plot"]}


def prepare(stack: Stack) -> str:
    """Three trained versions, production -> v1 and staging -> v2 (v3 for the moves under load); returns v1's
    job id (its model.keras is the baseline's)."""
    if stack.serve_job:
        return stack.serve_job
    stack.start_worker()
    jobs = []
    for epochs in (3, 6, 9):
        job = stack.submit({"kind": "mlp", "dataset": "iris", "model_name": NAME, "params": {"epochs": epochs}})
        stack.wait_job(job["id"], interval=0.2)
        jobs.append(job["id"])
    from bench.throughput import upload_texts

    rnn = stack.submit({"kind": "rnn", "dataset": upload_texts(stack)[0], "model_name": RNN, "params": {"epochs": 1}})
    stack.wait_job(rnn["id"], interval=0.2)
    for name, alias, version in ((NAME, "production", 1), (NAME, "staging", 2), (RNN, "production", 1)):
        stack.http.post(f"{stack.base}/api/v1/models/{name}/aliases/{alias}",
                        json={"version": version, "reason": "bench"}, timeout=30).raise_for_status()
    stack.stop("worker")  # nothing trains while serving is measured
    stack.serve_job = jobs[0]
    return jobs[0]


def direct(stack: Stack, body: dict = ROW, **params: str) -> requests.Response:
    """One call straight to serve, with the key the web sends."""
    return requests.post(f"{stack.serve_base}/predict/{NAME}", json=body, params=params, timeout=30,
                         headers={"X-Serve-Key": stack.settings.serve_key})


def via_web(stack: Stack, session: requests.Session | None = None, body: dict = ROW) -> requests.Response:
    """One call as a client makes it: the web's predict API, with the stack's admin token."""
    return (session or stack.http).post(f"{stack.base}/api/v1/models/{NAME}/predict", json=body, timeout=30)


def _timed(call) -> float:
    t0 = time.perf_counter()
    r = call()
    if r.status_code != 200:
        raise RuntimeError(f"predict answered {r.status_code}: {r.text[:300]}")
    return (time.perf_counter() - t0) * 1000


def _light(port: int, path: str, headers: dict[str, str], n: int, method: str = "POST") -> list[float]:
    """``n`` sequential one-row calls with http.client (a lighter client than requests), sorted ms."""
    body = json.dumps(ROW).encode() if method == "POST" else None
    headers = {**headers, "Content-Type": "application/json"}
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)  # a new connection each, closed after
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        if resp.status != 200:
            raise RuntimeError(f"predict answered {resp.status}")
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)


GAP_S = 0.5  # the pause before each paced call, the first after ready included


def start_to_ready(stack: Stack, starts: int) -> list[Row]:
    """Start serve ``starts`` times; after each ready, ten calls paced GAP_S apart (the first and the 10th
    come after the same pause, so their ratio is what is left of a cold start), then ten back to back."""
    ready, first, tenth, burst, web_first, web_tenth = [], [], [], [], [], []
    for _ in range(starts):
        ready.append(stack.start_serve())
        health = requests.get(f"{stack.serve_base}/health", timeout=5).json()
        assert {f"{NAME}/production", f"{NAME}/staging"} <= set(health["aliases"]), health
        paced = []
        for _ in range(10):
            time.sleep(GAP_S)
            paced.append(_timed(lambda: direct(stack, alias="production")))
        first.append(paced[0])
        tenth.append(paced[9])
        burst.append(sorted(_timed(lambda: direct(stack, alias="production")) for _ in range(10))[5])
        web = []
        for _ in range(10):
            time.sleep(GAP_S)
            web.append(_timed(lambda: via_web(stack)))
        web_first.append(web[0])
        web_tenth.append(web[9])
    med = statistics.median
    return [
        Row("h", f"serve start -> ready s, 2 aliased versions (median of {starts})", med(ready), None, ""),
        Row("h", f"first prediction after ready ms (serve; calls {GAP_S} s apart)", med(first), med(tenth),
            "10th prediction", "≤ 1x", med(first) <= med(tenth)),
        Row("h", f"first prediction after ready ms (web -> serve; {GAP_S} s apart)", med(web_first),
            med(web_tenth), "10th prediction", "≤ 1x", med(web_first) <= med(web_tenth)),
        Row("h", "a paced prediction / one of ten back to back (context: the cost of a pause)", med(tenth),
            med(burst), "back to back, median"),
    ]


def overhead(stack: Stack, job_id: str, n: int) -> list[Row]:
    session = requests.Session()
    session.headers.update(stack.http.headers)
    for _ in range(20):
        via_web(stack, session)
    serve = _light(stack.serve_port, f"/predict/{NAME}", {"X-Serve-Key": stack.settings.serve_key}, n)
    web = _light(stack.port, f"/api/v1/models/{NAME}/predict", dict(stack.http.headers), n)
    floor = _light(stack.port, "/bench/constant", {}, n, "GET")  # the web's own floor: a constant JSON route
    bare = run_bare(stack, job_id, "--single", str(n))
    rows = [Row("h", f"web constant route p50 ms (N={n}, context)", statistics.median(floor), None, "")]
    for label, times in (("serve", serve), ("web -> serve", web)):
        p50 = statistics.median(times)
        rows.append(Row("h", f"1-row p50 ms, {label} (N={n})", p50, bare["p50_ms"], "predict_on_batch"))
        rows.append(Row("h", f"1-row p50 overhead ms, {label}", p50 - bare["p50_ms"], None, "",
                        "≤ 3 ms", p50 - bare["p50_ms"] <= 3))
    return rows


def _workers_rss_mb(stack: Stack) -> tuple[float, bool]:
    """Summed RSS of the web's workers (children of Granian's main process), and whether any maps TensorFlow."""
    master = stack.procs["web"].pid
    kids = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _ppid(p) == master]
    rss = sum(int(next(ln for ln in (p / "status").read_text().splitlines() if ln.startswith("VmRSS")).split()[1])
              for p in kids)
    tf = any("tensorflow" in (p / "maps").read_text(errors="replace") for p in kids)
    return rss / 1024, tf


def _ppid(proc: Path) -> int:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def web_memory(stack: Stack, calls: int = 1000) -> list[Row]:
    stack.stop("web")
    stack.start_web()
    for _ in range(20):  # both workers answer a few ordinary API calls first: what they hold without serving
        stack.http.get(f"{stack.base}/api/v1/models/{NAME}/aliases", timeout=30).raise_for_status()
    before, _ = _workers_rss_mb(stack)

    def burst(count: int) -> None:
        s = requests.Session()
        s.headers.update(stack.http.headers)
        for _ in range(count):
            via_web(stack, s).raise_for_status()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(burst, [calls // 4] * 4))
    after, tf = _workers_rss_mb(stack)
    print(json.dumps({"web_rss_before_mb": before, "after_mb": after, "tensorflow_mapped": tf}))
    return [Row("h", f"web workers' RSS MiB after {calls:,} predictions", after, before, "before the first",
                "≤ 1.10x", after <= before * 1.10 and not tf)]


def run(stack: Stack, n: int, starts: int) -> list[Row]:
    job_id = prepare(stack)
    rows = start_to_ready(stack, starts)
    rows += overhead(stack, job_id, n)
    rows += web_memory(stack)
    return rows

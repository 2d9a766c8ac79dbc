"""(p) Trainyard next to an MLflow 3 tracking server: the same loads, alternating rounds (``run.py --peers``).

MLflow runs in its stronger configuration (gunicorn, 2 sync workers, SQLite; bench/mlflow_peer.py) from a
virtualenv of its own, with as many runs as the bench's jobs table holds (topped up to ``n_jobs`` first)
and a registered model with an alias. Trainyard is the stack's web (Procfile settings: Granian) with the same
number of jobs, a model version with the same alias, and a viewer's token on every read (MLflow has no
auth). Loads, each the same on both sides:

* single read: GET one job / GET ``runs/get`` of one run, 32 connections;
* alias read: GET ``/models/<name>/aliases/<alias>`` / GET ``registered-models/alias``, 32 connections;
* list 50 newest: GET ``/jobs?limit=50`` / POST ``runs/search`` (max_results 50, start_time DESC), 32;
* sequential: the single read from one connection (latency p50/p99);
* writes: POST a job (worker stopped, as in (d)) / ``runs/create`` then ``runs/log-batch`` with the same 8
  params, as one unit; 32 connections (the threaded client: each unit needs the run id of the first call).

Reads use wrk when it is there (``$BENCH_WRK`` or PATH; one URL per run), else the threaded client. All
read loads run in every round, then all write rounds; the side that goes first alternates by round.
"""
from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from bench import peer_report, peer_setup
from bench.loadgen import FlowFn, Load, hammer, hammer_flow, have_wrk, send, wrk
from bench.mlflow_peer import ALIAS, MODEL, MlflowPeer, ensure_venv
from bench.report import Row
from bench.stack import Stack

CONNECTIONS = 32
API = "/api/2.0/mlflow"
READS = (("single", "single read", CONNECTIONS), ("alias", "alias read", CONNECTIONS),
         ("list", "list 50 newest", CONNECTIONS), ("seq", "sequential single read", 1))
WRITE = ("write", "writes", CONNECTIONS)
PARAMS = {"epochs": 1, "batch_size": 32, "hidden_units": 64, "hidden_layers": 1, "dropout": 0.0,
          "learning_rate": 0.001, "validation_split": 0.1, "seed": 42}


@dataclass(frozen=True)
class Side:
    """One server and the requests that make each load on it."""

    name: str
    port: int
    headers: dict[str, str]  # sent with every read
    idle: str  # a cheap GET that needs no auth: answered only once the requests queued before it are done
    reads: dict[str, tuple[str, bytes | None]]  # load -> (path, POST body or None for a GET)
    write: FlowFn


def trainyard(stack: Stack, viewer: dict[str, str], job_ids: list[str]) -> Side:
    """The Trainyard side: viewer token on reads, the admin token on job POSTs (only 201 counts)."""
    body = json.dumps({"kind": "mlp", "dataset": "iris", "model_name": "bench-peer-writes",
                       "params": PARAMS}).encode()

    def write(conn, _i: int) -> bool:
        return send(conn, "POST", "/api/v1/jobs", body, stack.auth)[0] == 201

    job = f"/api/v1/jobs/{job_ids[0]}"
    return Side("Trainyard", stack.port, viewer, "/bench/constant", {
        "single": (job, None), "seq": (job, None), "alias": (f"/api/v1/models/{MODEL}/aliases/{ALIAS}", None),
        "list": ("/api/v1/jobs?limit=50", None)}, write)


def mlflow(peer: MlflowPeer, run_ids: list[str]) -> Side:
    """The MLflow side: no auth; a write is runs/create then runs/log-batch (8 params) on one connection."""
    params = [{"key": k, "value": str(v)} for k, v in PARAMS.items()]

    def write(conn, i: int) -> bool:
        create = {"experiment_id": "0", "run_name": f"bench-write-{i}", "start_time": int(time.time() * 1000),
                  "tags": [{"key": "model_name", "value": "bench-peer-writes"}, {"key": "kind", "value": "mlp"}]}
        status, out = send(conn, "POST", f"{API}/runs/create", json.dumps(create).encode())
        if status != 200:
            return False
        run_id = json.loads(out)["run"]["info"]["run_id"]
        batch = json.dumps({"run_id": run_id, "params": params}).encode()
        return send(conn, "POST", f"{API}/runs/log-batch", batch)[0] == 200

    run = f"{API}/runs/get?run_id={run_ids[0]}"
    search = json.dumps({"experiment_ids": ["0"], "max_results": 50,
                         "order_by": ["attributes.start_time DESC"]}).encode()
    return Side("MLflow", peer.port, {}, "/health", {
        "single": (run, None), "seq": (run, None),
        "alias": (f"{API}/registered-models/alias?name={MODEL}&alias={ALIAS}", None),
        "list": (f"{API}/runs/search", search)}, write)


def measure(side: Side, load: str, conns: int, seconds: float) -> Load:
    """One round of one load on one side, then wait until that server has drained its queue."""
    if load == "write":
        got = hammer_flow("127.0.0.1", side.port, side.write, conns, seconds=seconds)
    else:
        path, body = side.reads[load]
        if have_wrk():
            got = wrk(f"http://127.0.0.1:{side.port}{path}", seconds, conns, threads=min(2, conns),
                      headers=side.headers, post=body)
        else:
            got = hammer("127.0.0.1", side.port, lambda _i: ("POST" if body else "GET", path, body), conns,
                         seconds=seconds, headers=side.headers)
    settle(side)
    return got


def settle(side: Side) -> None:
    """Wait for the requests wrk left queued when it stopped (with sync workers, a backlog of up to 32 slow
    requests can take seconds to drain) so they do not slow the next load; then let the server idle 1 s."""
    requests.get(f"http://127.0.0.1:{side.port}{side.idle}", timeout=120).raise_for_status()
    time.sleep(1)


class LoadAverage:
    """The 1-minute load average, sampled every 10 s in a thread while the rounds run."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            with open("/proc/loadavg") as f:
                self.samples.append(float(f.read().split()[0]))
            if self._stop.wait(10):
                return

    def __enter__(self) -> LoadAverage:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> str:
        """min-max, median."""
        s = self.samples
        return f"{min(s):.2f}-{max(s):.2f}, median {statistics.median(s):.2f} ({len(s)} samples)" if s else "n/a"


Results = dict[tuple[str, str], list[Load]]  # (load, side name) -> one Load per round


def rounds(sides: tuple[Side, Side], rounds_n: int, seconds: float, log: Callable[[str], None]) -> Results:
    """Every read load per round, then the write rounds; who goes first alternates by round."""
    out: Results = {}
    for phase in (READS, (WRITE,)):
        for r in range(rounds_n):
            order = sides if r % 2 == 0 else sides[::-1]
            for load, _label, conns in phase:
                for side in order:
                    got = measure(side, load, conns, seconds)
                    out.setdefault((load, side.name), []).append(got)
                    log(f"round {r + 1} {load:6} {side.name:9} {got.rps:8.1f} req/s  p50 {got.p50_ms:7.2f} ms  "
                        f"p99 {got.p99_ms:7.2f} ms  errors {got.errors}")
    return out


def run(stack: Stack, rounds_n: int, seconds: float, n_jobs: int = 100_000) -> list[Row]:
    """Set up both sides, warm up, run the rounds, print the per-round table; return the summary rows."""
    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    log(f"peer: {ensure_venv()}")
    stack.stop("worker")  # as in (d): writes queue up, nothing trains
    n, job_ids = peer_setup.seed(stack, n_jobs)
    viewer = peer_setup.trainyard_model_and_viewer(stack)
    peer = MlflowPeer(stack.tmp)
    try:
        t0 = time.monotonic()
        run_ids = peer.populate(n)
        log(f"peer: {n:,} MLflow runs and {MODEL}@{ALIAS} in {time.monotonic() - t0:.0f} s")
        peer.start()
        sides = (trainyard(stack, viewer, job_ids), mlflow(peer, run_ids))
        peer_setup.check_answers(sides)
        for side in sides:
            for load, _label, conns in (*READS, WRITE):
                measure(side, load, conns, 1)  # warm-up
        with LoadAverage() as load_avg:
            results = rounds(sides, rounds_n, seconds, log)
    finally:
        peer.stop()
    tool = "wrk" if have_wrk() else "threaded client"
    print(peer_report.round_table(results, sides, (*READS, WRITE)))
    print(f"\n(p) {n:,} jobs / runs; {rounds_n} rounds of {seconds:g} s; reads by {tool}, writes by the threaded "
          f"client; 1-min load average during the rounds: {load_avg.summary()}\n")
    return peer_report.rows(results, sides, n)

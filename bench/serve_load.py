"""(h) the serve process under load (issue 14): micro-batching on and off, and alias moves at a steady rate.

* 32 concurrent clients (wrk with a POST body, or 32 Python threads without wrk) straight at serve, one
  row per call, for the tiny mlp/iris model (HTTP costs more than the model) and for an rnn on text (the
  model costs more), with ``SERVE_BATCHING=1`` and with ``SERVE_BATCHING=0`` (every request runs alone):
  the same serve process, restarted between rounds, rounds alternated. Target: >= 3x calls/s, p99 <= 50 ms.
* A steady stream through the web (paced at ``rate`` calls/s by 32 client threads) while ``production``
  is promoted to v3 and rolled back to v1 ``moves`` times (v3 is loaded again each time: nothing else
  points at it). Every answer is checked: 200, and from a version the alias pointed to between
  ``WINDOW_S`` before the call and its answer; once v3 (or v1) has answered, no later call gets the other.
"""
from __future__ import annotations

import http.client
import itertools
import json
import statistics
import threading
import time

import requests

from bench.loadgen import Load, hammer, have_wrk, pct, wrk
from bench.report import Row
from bench.serve_start import NAME, RNN, RNN_ROW, ROW
from bench.stack import Stack

WINDOW_S = 2.0  # the bound on learning of a move


def _health_counts(stack: Stack, name: str) -> tuple[int, int]:
    alias = requests.get(f"{stack.serve_base}/health", timeout=5).json()["aliases"][f"{name}/production"]
    return alias["batches"], alias["rows"]


def _load(stack: Stack, name: str, row: dict, seconds: float) -> Load:
    body = json.dumps(row).encode()
    if have_wrk():
        return wrk(f"{stack.serve_base}/predict/{name}", seconds, 32, post=body,
                   headers={"X-Serve-Key": stack.settings.serve_key, "Content-Type": "application/json"})
    return hammer("127.0.0.1", stack.serve_port, lambda _i: ("POST", f"/predict/{name}", body), 32,
                  seconds=seconds, headers={"X-Serve-Key": stack.settings.serve_key})


def batching(stack: Stack, seconds: float, rounds: int) -> list[Row]:
    models = {f"mlp/iris ({NAME})": (NAME, ROW), f"rnn/texts ({RNN})": (RNN, RNN_ROW)}
    got: dict[tuple[str, str], list[Load]] = {}
    sizes: dict[str, list[float]] = {}
    for flag in ["0", "1"] * rounds:  # ends with batching on, as the later benchmarks want it
        stack.start_serve(SERVE_BATCHING=flag)
        for label, (name, row) in models.items():
            before = _health_counts(stack, name)
            got.setdefault((label, flag), []).append(_load(stack, name, row, seconds))
            after = _health_counts(stack, name)
            if flag == "1":
                sizes.setdefault(label, []).append((after[1] - before[1]) / max(1, after[0] - before[0]))
    med = statistics.median
    tool = "wrk" if have_wrk() else "Python threads"
    rows = []
    for label in models:
        on, off = got[(label, "1")], got[(label, "0")]
        rps_on, rps_off = med(x.rps for x in on), med(x.rps for x in off)
        p99_on, p99_off = med(x.p99_ms for x in on), med(x.p99_ms for x in off)
        errors = sum(x.errors for x in on + off)
        rows += [
            Row("h", f"{label} calls/s, 32 clients ({tool}), batching on (median of {rounds})", rps_on, rps_off,
                "batching off", "≥ 3x", rps_on >= 3 * rps_off),
            Row("h", f"{label} p99 ms, 32 clients, batching on", p99_on, p99_off, "batching off", "≤ 50 ms",
                p99_on <= 50),
            Row("h", f"{label} mean rows per batch, batching on", med(sizes[label]), None, ""),
            Row("h", f"{label} failed calls, 32 clients (both settings)", errors, None, "", "0", errors == 0),
        ]
    return rows


class _Stream:
    """Calls paced at ``rate``/s through the web by ``clients`` threads; each one's (sent, answered, status,
    version) is kept."""

    def __init__(self, stack: Stack, rate: float, clients: int = 32) -> None:
        self.stack, self.rate = stack, rate
        self.records: list[tuple[float, float, int, int | None]] = []
        self.stop = threading.Event()
        self._count = itertools.count()
        self.t0 = time.monotonic() + 0.2
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]
        for t in self._threads:
            t.start()

    def _client(self) -> None:
        body = json.dumps(ROW).encode()
        headers = {**self.stack.http.headers, "Content-Type": "application/json"}
        conn = http.client.HTTPConnection("127.0.0.1", self.stack.port, timeout=30)
        mine = []
        while not self.stop.is_set():
            delay = self.t0 + next(self._count) / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            sent = time.monotonic()
            try:
                conn.request("POST", f"/api/v1/models/{NAME}/predict", body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status, version = resp.status, json.loads(data).get("version") if resp.status == 200 else None
            except (OSError, http.client.HTTPException, ValueError):
                status, version = 0, None
                conn.close()
            mine.append((sent, time.monotonic(), status, version))
        self.records.extend(mine)

    def close(self) -> None:
        self.stop.set()
        for t in self._threads:
            t.join(60)


def _check(records: list, moves: list[tuple[float, float, int]]) -> dict[str, float]:
    """Answers outside the window, answers from the old version after the new one had answered, swap times."""
    def version_at(t: float) -> int:
        return next((v for a, b, v in reversed(moves) if b <= t), moves[0][2])

    outside = late = 0
    swaps = []
    for k, (a, b, v) in enumerate(moves[1:], start=1):
        until = moves[k + 1][0] if k + 1 < len(moves) else float("inf")
        news = [r for r in records if r[3] == v and a <= r[0] < until]
        first_new = min((r[1] for r in news), default=until)
        swaps.append(max(0.0, first_new - b))
        # sent after the new version answered, answered before the next move began: must be the new version
        late += sum(1 for r in records if first_new < r[0] and r[1] < until and r[2] == 200 and r[3] != v)
    for sent, answered, status, version in records:
        if status != 200:
            continue
        allowed = {version_at(sent - WINDOW_S)} | {v for a, b, v in moves[1:] if a <= answered and b >= sent - WINDOW_S}
        outside += version not in allowed
    return {"outside": outside, "late": late, "max_swap_s": max(swaps, default=0.0)}


def swaps_under_load(stack: Stack, rate: float, moves: int, hold_s: float) -> list[Row]:
    url = f"{stack.base}/api/v1/models/{NAME}/aliases/production"
    stream = _Stream(stack, rate)
    timeline = [(0.0, 0.0, 1)]
    time.sleep(2)
    started = time.monotonic()
    for _ in range(moves):
        for path, body, version in (("", {"version": 3, "reason": "bench"}, 3), ("/rollback", {"reason": "bench"}, 1)):
            a = time.monotonic()
            stack.http.post(url + path, json=body, timeout=30).raise_for_status()
            timeline.append((a, time.monotonic(), version))
            time.sleep(hold_s)
    ended = time.monotonic()
    time.sleep(1)
    stream.close()
    during = [r for r in stream.records if started <= r[0] <= ended]
    failed = sum(1 for r in stream.records if r[2] != 200)
    got = _check(stream.records, timeline)
    rps = sum(1 for r in during if r[2] == 200) / (ended - started)
    p99 = pct([(r[1] - r[0]) * 1000 for r in during], 99)
    return [
        Row("h", f"calls/s through web during {moves} promote + roll-back pairs (paced at {rate:.0f}/s)", rps,
            rate, "target rate", "≥ 1x", rps >= 0.95 * rate),
        Row("h", f"failed calls of {len(stream.records):,}", failed, None, "", "0", failed == 0),
        Row("h", "answers from a version the alias did not hold (±2 s window)", got["outside"], None, "", "0",
            got["outside"] == 0),
        Row("h", "answers from the old version after the new one answered", got["late"], None, "", "0",
            got["late"] == 0),
        Row("h", "slowest swap s (move committed -> first answer from it)", got["max_swap_s"], None, "", "≤ 2 s",
            got["max_swap_s"] <= 2),
        Row("h", "p99 ms during the moves (web -> serve)", p99, None, ""),
    ]


def run(stack: Stack, seconds: float, rounds: int, rate: float, moves: int) -> list[Row]:
    rows = batching(stack, seconds, rounds)
    rows += swaps_under_load(stack, rate, moves, hold_s=1.5)
    return rows

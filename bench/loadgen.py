"""Load generators: ``wrk`` (preferred, for GETs) and a threaded keep-alive ``http.client`` client."""
from __future__ import annotations

import http.client
import itertools
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# (method, path, body) for request number i
RequestFn = Callable[[int], tuple[str, str, bytes | None]]
# one unit of work (one or more requests) number i on an open keep-alive connection; True if all went well
FlowFn = Callable[[http.client.HTTPConnection, int], bool]
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def pct(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, linearly interpolated."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 10) - 1]


@dataclass(frozen=True)
class Load:
    """What one load run measured."""

    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.errors) / self.seconds


def have_wrk() -> bool:
    """True if a ``wrk`` binary is found: ``$BENCH_WRK`` if set, else ``wrk`` on PATH."""
    return shutil.which(_wrk_bin()) is not None


def _wrk_bin() -> str:
    """The wrk to run: ``$BENCH_WRK`` (a path, e.g. an unpacked .deb with a wrapper) or ``wrk``."""
    return os.environ.get("BENCH_WRK") or "wrk"


def _ms(text: str) -> float:
    """``'12.5ms'`` -> 12.5."""
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(url: str, seconds: float, connections: int, threads: int = 2, headers: dict[str, str] | None = None,
        post: bytes | None = None) -> Load:
    """Run ``wrk --latency`` against one URL and parse its summary; with ``post``, every request is a POST of
    that JSON body (a three-line Lua script in a temp file), otherwise a GET without Lua."""
    extra = [arg for k, v in (headers or {}).items() for arg in ("-H", f"{k}: {v}")]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if post is not None:
            script.write(f'wrk.method = "POST"\nwrk.body = [==[{post.decode()}]==]\n'
                         'wrk.headers["Content-Type"] = "application/json"\n')
            script.flush()
            extra += ["-s", script.name]
        out = subprocess.run([_wrk_bin(), f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                              "--latency", "--timeout", "10s", *extra, url],
                             capture_output=True, text=True, check=True).stdout
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    if total is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    n_err = (int(errors.group(1)) if errors else 0) + (sum(map(int, sock.groups())) if sock else 0)
    pcts = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))  # "2.91s " has a trailing space
    return Load(int(total.group(1)), n_err, _ms(total.group(2) + total.group(3)) / 1e3,
                _ms(pcts["50"]), _ms(pcts["99"]))


def hammer(host: str, port: int, make: RequestFn, threads: int, *, total: int | None = None,
           seconds: float | None = None, ok: tuple[int, ...] = (200,),
           headers: dict[str, str] | None = None) -> Load:
    """``threads`` keep-alive clients send ``make(i)`` until ``total`` requests or ``seconds`` pass."""
    def one(conn: http.client.HTTPConnection, i: int) -> bool:
        method, path, body = make(i)
        return send(conn, method, path, body, headers)[0] in ok

    return hammer_flow(host, port, one, threads, total=total, seconds=seconds)


def send(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None,
         headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request on a keep-alive connection: (status, body); JSON content type when there is a body."""
    sent = {**(headers or {}), **({"Content-Type": "application/json"} if body is not None else {})}
    conn.request(method, path, body=body, headers=sent)
    resp = conn.getresponse()
    return resp.status, resp.read()


def hammer_flow(host: str, port: int, flow: FlowFn, threads: int, *, total: int | None = None,
                seconds: float | None = None) -> Load:
    """Like ``hammer``, but each unit of work is ``flow(conn, i)`` (one or more requests, True if all went
    well); latency and rate are per unit: e.g. MLflow's runs/create then runs/log-batch as one write."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds if seconds else float("inf")

    def client() -> None:
        """One connection, units back to back; reconnects after errors."""
        conn = http.client.HTTPConnection(host, port, timeout=30)
        mine: list[float] = []
        bad = 0
        while True:
            i = next(counter)
            if (total is not None and i >= total) or time.perf_counter() > deadline:
                break
            t0 = time.perf_counter()
            try:
                bad += not flow(conn, i)
            except (OSError, http.client.HTTPException, ValueError, KeyError):
                bad += 1
                conn.close()
            mine.append((time.perf_counter() - t0) * 1e3)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    workers = [threading.Thread(target=client) for _ in range(threads)]
    start = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    elapsed = time.perf_counter() - start
    return Load(len(latencies), errors[0], elapsed, pct(latencies, 50), pct(latencies, 99))

"""CPU time per API read, in one process: a constant route, the token check alone, GET job, list 50 newest.

``python bench/read_cpu.py [--jobs N] [--rounds R]``: the real app on a temp SQLite database with N seeded
jobs and a viewer token, driven by Flask's test client (no sockets, no HTTP server), alternating the four
routes in R rounds of 500 requests (list: 50) and printing the median CPU microseconds per request. CPU
time of this process (``time.process_time``), not wall time: on a shared, loaded machine it moves far less
than wall time does, so two commits can be compared by running this on each. The ratios that matter:
``me - const`` is what authentication costs, ``job - me`` what the read itself costs.
"""
from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _app(tmp: Path, jobs: int):
    """The app with ``jobs`` seeded jobs, a constant route, and a viewer's token."""
    from flask import jsonify

    from app import create_app
    from app.config import Settings
    from app.migrate import upgrade
    from app.services import accounts, tokens
    from app.services.datasets import ensure_builtin_datasets
    from app.web.auth.policy import POLICY, PUBLIC
    from bench.reads import seed_jobs

    settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", models_store=tmp / "store",
                        secret_key=secrets.token_urlsafe(48))
    upgrade(settings.database_url)
    app = create_app(settings)
    POLICY["bench_constant"] = PUBLIC
    app.add_url_rule("/bench/constant", "bench_constant", lambda: jsonify({"status": "ok"}))
    with app.extensions["trainyard"].session() as s:
        ensure_builtin_datasets(s)
        accounts.create_user(s, "bench-viewer", secrets.token_urlsafe(16), "viewer")
        _, token = tokens.create_token(s, "bench-viewer", "bench")

    class _Stack:  # what seed_jobs reads of a bench stack
        pass

    stack = _Stack()
    stack.settings = settings
    return app, token, seed_jobs(stack, jobs)


def measure(jobs: int = 2000, rounds: int = 7) -> dict[str, float]:
    """Median CPU microseconds per request for each route."""
    with tempfile.TemporaryDirectory(prefix="bench-read-cpu-") as tmp:
        app, token, ids = _app(Path(tmp), jobs)
        client, auth = app.test_client(), {"Authorization": f"Bearer {token}"}

        def cpu_us(path, n: int, headers=None) -> float:
            started = time.process_time()
            for i in range(n):
                r = client.get(path(i % len(ids)), headers=headers or {})
            assert r.status_code == 200, (path(0), r.status_code)
            return (time.process_time() - started) / n * 1e6

        found: dict[str, list[float]] = {"const": [], "me": [], "job": [], "list50": []}
        for _ in range(rounds):
            found["const"].append(cpu_us(lambda _i: "/bench/constant", 500))
            found["me"].append(cpu_us(lambda _i: "/api/v1/me", 500, auth))
            found["job"].append(cpu_us(lambda i: f"/api/v1/jobs/{ids[i]}", 500, auth))
            found["list50"].append(cpu_us(lambda _i: "/api/v1/jobs?limit=50", 50, auth))
        return {k: statistics.median(v) for k, v in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    got = measure(args.jobs, args.rounds)
    print(" | ".join(f"{k} {v:,.0f} µs" for k, v in got.items()),
          f"| auth {got['me'] - got['const']:,.0f} µs | read {got['job'] - got['me']:,.0f} µs (CPU, median)")


if __name__ == "__main__":
    main()

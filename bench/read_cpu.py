"""CPU time per API request, in one process: a constant route, the token check alone, GET job, an alias
read, list 50 newest, and a job submission (POST).

``python bench/read_cpu.py [--jobs N] [--rounds R] [--backend sqlite|postgresql]``: the real app on a
throwaway database (SQLite, or a fresh database on the test PostgreSQL) with N seeded jobs, a member's token
and a live worker's row, driven by Flask's test client (no sockets, no HTTP server), alternating the routes
in R rounds of 500 requests (list: 50, submit: 200) and printing the median CPU microseconds per request.
A submission also sends its Celery message to Redis database 12 (of ``BENCH_REDIS_URL``, as bench/stack.py reads
it; never the platform's ``REDIS_URL``), where nothing reads it; the queue is deleted at the end. CPU
time of this process (``time.process_time``), not wall time: on a shared, loaded machine it moves far less
than wall time does, so two commits can be compared by running this on each. The ratios that matter:
``me - const`` is what authentication costs, ``job - me`` what the read itself costs.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import redis
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUEUE = "cpu"  # the submissions' queue, in a Redis database of the bench's own: deleted at the end
REDIS_URL = f"{os.environ.get('BENCH_REDIS_URL', 'redis://127.0.0.1:6379')}/12"


def _app(tmp: Path, jobs: int, backend: str):
    """The app with ``jobs`` seeded jobs, a constant route, a model with an alias, a live worker's row
    and a member's token; returns (app, token, job ids, a refresh of the live worker row, drop the database)."""
    from flask import jsonify

    from app import create_app
    from app.config import Settings
    from app.migrate import upgrade
    from app.models import Dataset, ModelVersion, RegisteredModel, utcnow
    from app.services import accounts, aliases, tokens
    from app.services import workers as worker_rows
    from app.services.datasets import ensure_builtin_datasets
    from app.web.auth.policy import POLICY, PUBLIC
    from bench.reads import seed_jobs
    from tests.support import create_database

    url, drop = create_database(backend, tmp)
    settings = Settings(database_url=url, models_store=tmp / "store", secret_key=secrets.token_urlsafe(48),
                        redis_url=REDIS_URL)
    upgrade(settings.database_url)
    app = create_app(settings)
    POLICY["bench_constant"] = PUBLIC
    app.add_url_rule("/bench/constant", "bench_constant", lambda: jsonify({"status": "ok"}))
    rt = app.extensions["trainyard"]
    with rt.session() as s:
        ensure_builtin_datasets(s)
        accounts.create_user(s, "bench-member", secrets.token_urlsafe(16), "member")
        _, token = tokens.create_token(s, "bench-member", "bench")

    def beat() -> None:  # a live worker that has the kind: every round, so the submissions check it each time
        with rt.session() as s:
            worker_rows.record_beat(s, f"{QUEUE}@bench", host="bench", pid=os.getpid(), queues=[QUEUE], gpus=[],
                                    kinds={"installed": {"mlp": {"package": "trainyard", "version": "0"}}})

    class _Stack:  # what seed_jobs reads of a bench stack
        pass

    stack = _Stack()
    stack.settings = settings
    ids = seed_jobs(stack, jobs)
    with rt.session() as s:
        dataset = s.scalars(select(Dataset).where(Dataset.name == "iris")).one()
        model = RegisteredModel(name="bench-model", created_at=utcnow())
        s.add(model)
        s.flush()
        s.add(ModelVersion(model_id=model.id, version=1, job_id=ids[0], kind="mlp", dataset_id=dataset.id,
                           dataset_sha256=dataset.sha256, params={}, metrics={}, framework={},
                           created_by="bench", created_at=utcnow()))
        s.flush()
        aliases.promote(s, "bench-model", "production", 1, actor="bench", reason="bench")

    def cleanup() -> None:
        rt.engine.dispose()
        redis.Redis.from_url(REDIS_URL).delete(QUEUE)  # the messages this probe sent
        drop()

    return app, token, ids, beat, cleanup


def measure(jobs: int = 2000, rounds: int = 7, backend: str = "sqlite") -> dict[str, float]:
    """Median CPU microseconds per request for each route."""
    with tempfile.TemporaryDirectory(prefix="bench-read-cpu-") as tmp:
        app, token, ids, beat, cleanup = _app(Path(tmp), jobs, backend)
        try:
            return _rounds(app, token, ids, rounds, beat)
        finally:
            cleanup()


def _rounds(app, token: str, ids: list[str], rounds: int, beat) -> dict[str, float]:
    client, auth = app.test_client(), {"Authorization": f"Bearer {token}"}
    body = {"kind": "mlp", "dataset": "iris", "model_name": "bench-cpu", "params": {"epochs": 1}}

    def cpu_us(path, n: int, headers=None, post: bool = False) -> float:
        started = time.process_time()
        for i in range(n):
            r = (client.post(path(i), json=body, headers=headers) if post
                 else client.get(path(i % len(ids)), headers=headers or {}))
        assert r.status_code == (201 if post else 200), (path(0), r.status_code, r.get_data(as_text=True))
        return (time.process_time() - started) / n * 1e6

    found: dict[str, list[float]] = {"const": [], "me": [], "job": [], "alias": [], "list50": [], "submit": []}
    for _ in range(rounds):
        beat()
        found["const"].append(cpu_us(lambda _i: "/bench/constant", 500))
        found["me"].append(cpu_us(lambda _i: "/api/v1/me", 500, auth))
        found["job"].append(cpu_us(lambda i: f"/api/v1/jobs/{ids[i]}", 500, auth))
        found["alias"].append(cpu_us(lambda _i: "/api/v1/models/bench-model/aliases/production", 500, auth))
        found["list50"].append(cpu_us(lambda _i: "/api/v1/jobs?limit=50", 50, auth))
        found["submit"].append(cpu_us(lambda _i: "/api/v1/jobs", 200, auth, post=True))
    return {k: statistics.median(v) for k, v in found.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    got = measure(args.jobs, args.rounds, args.backend)
    print(" | ".join(f"{k} {v:,.0f} µs" for k, v in got.items()),
          f"| auth {got['me'] - got['const']:,.0f} µs | read {got['job'] - got['me']:,.0f} µs (CPU, median)")


if __name__ == "__main__":
    main()

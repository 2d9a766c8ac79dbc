"""A throwaway live Trainyard stack: a temp SQLite file (or a fresh PostgreSQL database) + store, its own Redis
db, web, serve and Celery workers."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
import requests

from app.config import PROJECT_ROOT, Settings
from app.migrate import upgrade
from app.runtime import Runtime
from app.services.datasets import ensure_builtin_datasets
from tests.commands import serve_args, web_args
from tests.support import admin_token, create_database, free_port, wait_until

PY = sys.executable
DONE = ("succeeded", "failed", "cancelled")


def parse_utc(stamp: str) -> float:
    """An API timestamp (ISO 8601, ``Z``) as a Unix time."""
    return datetime.fromisoformat(stamp).timestamp()


@dataclass
class Stack:
    """Every process and file the benchmark starts; ``close()`` removes them all."""

    redis_db: int = 14
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="trainyard-bench-")))
    port: int = field(default_factory=free_port)
    serve_port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    http: requests.Session = field(default_factory=requests.Session)
    # Authorization header of an admin's API token, made by prepare(); every request of the benchmarks sends it.
    auth: dict[str, str] = field(default_factory=dict)
    serve_job: str = ""  # the job whose version the serving benchmarks (bench/serve_*.py) use, once trained
    # "sqlite" (the embedded default), or "postgresql": a fresh database on the test server of tests/support.py
    # (TEST_POSTGRES_URL), dropped by close(); what compose and production run.
    backend: str = "sqlite"
    database_url: str = ""
    _drop_database: Any = None

    def __post_init__(self) -> None:
        self.database_url, self._drop_database = create_database(self.backend, self.tmp)

    @property
    def settings(self) -> Settings:
        """The settings every process of this stack shares."""
        return Settings(database_url=self.database_url,
                        redis_url=f"{os.environ.get('BENCH_REDIS_URL', 'redis://127.0.0.1:6379')}/{self.redis_db}",
                        models_store=self.tmp / "store", secret_key="bench-secret-key-not-for-production",
                        serve_url=self.serve_base)

    @property
    def base(self) -> str:
        """Base URL of the web process."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def serve_base(self) -> str:
        """Base URL of the serve process (the web forwards predictions there)."""
        return f"http://127.0.0.1:{self.serve_port}"

    def env(self) -> dict[str, str]:
        """Environment for child processes: the stack's settings, quiet TensorFlow."""
        s = self.settings
        env = dict(os.environ)
        env.update({"DATABASE_URL": s.database_url, "REDIS_URL": s.redis_url,
                    "MODELS_STORE": str(s.models_store), "SECRET_KEY": s.secret_key, "SERVE_URL": s.serve_url,
                    "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(PROJECT_ROOT)})
        return env

    def redis(self) -> redis.Redis:
        """A client on the stack's own Redis database."""
        return redis.Redis.from_url(self.settings.redis_url)

    def prepare(self) -> None:
        """Flush the Redis db, migrate the database and register the built-in datasets."""
        r = self.redis()
        if r.dbsize():
            print(f"warning: Redis db {self.redis_db} had {r.dbsize()} keys; flushing it", file=sys.stderr)
        r.flushdb()
        upgrade(self.settings.database_url)
        rt = Runtime.build(self.settings)
        with rt.session() as session:
            ensure_builtin_datasets(session)
        self.auth = {"Authorization": f"Bearer {admin_token(rt)}"}
        self.http.headers.update(self.auth)
        rt.engine.dispose()

    def start(self, name: str, args: list[str], **env: str) -> None:
        """Start ``python -m <args>`` in its own process group, logging to ``<tmp>/<name>.log``."""
        log = open(self.tmp / f"{name}.log", "ab")
        self.procs[name] = subprocess.Popen([PY, "-m", *args], cwd=PROJECT_ROOT, env={**self.env(), **env},
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

    def log(self, name: str) -> str:
        """What process ``name`` has written so far."""
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _alive(self, name: str) -> None:
        """Raise with the log tail if process ``name`` died."""
        if self.procs[name].poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{self.log(name)[-3000:]}")

    def start_web(self, workers: int = 2, threads: int = 4) -> None:
        """The web process as the Procfile starts it (Granian, 2 workers x 4 threads, access log), serving
        ``bench.wsgi:build``; ``workers`` and ``threads`` as the Procfile's WEB_WORKERS and WEB_THREADS."""
        self.start("web", web_args(self.port, workers, threads, "--access-log", target="bench.wsgi:build"))

        def up() -> bool:
            self._alive("web")
            try:
                return requests.get(f"{self.base}/bench/constant", timeout=5).ok
            except requests.RequestException:
                return False

        wait_until(up, timeout=60, what="the web to answer", interval=0.2)

    def start_serve(self, **env: str) -> float:
        """The serve process as the Procfile starts it (restarted if running); seconds from start to ready."""
        self.stop("serve")
        started = time.perf_counter()
        self.start("serve", serve_args(self.serve_port, 32, "--access-log"), **env)

        def ready() -> bool:
            self._alive("serve")
            try:
                return requests.get(f"{self.serve_base}/health", timeout=5).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout=300, what="the serve process to be ready", interval=0.02)
        return time.perf_counter() - started

    def start_celery(self, name: str, app: str, queues: str, node: str) -> None:
        """A Celery worker (prefork, concurrency 1); returns once it logs ``ready``."""
        self.start(name, ["celery", "-A", app, "worker", "-Q", queues, "--concurrency", "1",
                          "--loglevel", "INFO", "-n", node])

        def ready() -> bool:
            self._alive(name)
            return " ready." in self.log(name)

        wait_until(ready, timeout=120, what=f"{name} to be ready", interval=0.2)

    def start_worker(self) -> None:
        """The platform worker, started as the Procfile does (queues gpu,cpu)."""
        if "worker" not in self.procs:
            self.start_celery("worker", "workers.celery_app", "gpu,cpu", "bench@%h")

    def stop(self, name: str) -> None:
        """SIGTERM process ``name``'s group, SIGKILL it after 30 s."""
        proc = self.procs.pop(name, None)
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)

    def close(self) -> None:
        """Stop every process, flush the Redis db and delete the temp folder."""
        for name in reversed(list(self.procs)):
            try:
                self.stop(name)
            except ProcessLookupError:
                pass
        try:
            self.redis().flushdb()
        except redis.RedisError as exc:
            print(f"warning: could not flush Redis db {self.redis_db}: {exc}", file=sys.stderr)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self._drop_database()

    def submit(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST a job; return its JSON (raises on a non-201 answer)."""
        resp = self.http.post(f"{self.base}/api/v1/jobs", json=body, timeout=30)
        if resp.status_code != 201:
            raise RuntimeError(f"submit answered {resp.status_code}: {resp.text[:500]}")
        return resp.json()

    def wait_job(self, job_id: str, interval: float, timeout: float = 600) -> dict[str, Any]:
        """Poll the API until the job has ended; raise unless it succeeded."""
        def done() -> dict[str, Any] | None:
            job = self.http.get(f"{self.base}/api/v1/jobs/{job_id}", timeout=30).json()
            return job if job["status"] in DONE else None

        job = wait_until(done, timeout=timeout, what=f"job {job_id}", interval=interval)
        if job["status"] != "succeeded":
            raise RuntimeError(f"job {job_id} {job['status']}: {(job.get('error') or '')[-2000:]}")
        return job

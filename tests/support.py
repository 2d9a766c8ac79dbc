"""Helpers for tests that drive the real stack: databases, Redis, a Celery worker process."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.config import PROJECT_ROOT, Settings

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/test")
# The fixtures that each need a Redis database of their own (tests/conftest.py and a few modules).
REDIS_ROLES = ("stack-sqlite", "stack-postgresql", "sqlite-only", "no-worker", "openapi", "fsspec")


def wait_until(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.1,
               what: str = "condition") -> Any:
    """Poll until ``predicate()`` is truthy and return it; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def unavailable(reason: str) -> None:
    """Something a test needs is missing: skip here, but fail on CI, where everything must run."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_available() -> str | None:
    """None if the test PostgreSQL answers, else the reason it does not."""
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {exc.__class__.__name__}"


def create_database(backend: str, folder: Path, template: str | None = None) -> tuple[str, Callable[[], None]]:
    """A fresh database of ``backend``, empty or a copy of ``template`` (a file, or a database name);
    returns (url, drop)."""
    if backend == "sqlite":
        path = folder / f"ty-{uuid.uuid4().hex[:8]}.db"
        if template:
            shutil.copyfile(template, path)
        return f"sqlite:///{path}", lambda: None
    name = f"ty_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


_TEMPLATES: dict[str, str] = {}  # backend -> this process's migrated template (a file, or a database name)


def migrated_database(backend: str, folder: Path) -> tuple[str, Callable[[], None]]:
    """A fresh database of ``backend`` at the newest schema; returns (url, drop).

    Copied from a template this test process migrates once (PostgreSQL: ``CREATE DATABASE ... TEMPLATE``,
    0.09 s; SQLite: a file copy) instead of running every migration for each test (0.2-0.7 s each, and
    hundreds of tests). ``tests/test_migrations.py`` runs the migrations themselves.
    """
    import atexit
    import sqlite3

    from app.migrate import upgrade

    if backend not in _TEMPLATES:
        if backend == "sqlite":
            path = Path(tempfile.mkdtemp(prefix="ty-template-")) / "template.db"
            upgrade(f"sqlite:///{path}")
            with sqlite3.connect(path) as conn:  # everything into the main file, which is what is copied
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            _TEMPLATES[backend] = str(path)
            atexit.register(shutil.rmtree, path.parent, ignore_errors=True)
        else:
            url, drop = create_database(backend, folder)
            upgrade(url)
            _TEMPLATES[backend] = make_url(url).database
            atexit.register(drop)
    return create_database(backend, folder, template=_TEMPLATES[backend])


class RedisDatabases:
    """The Redis databases one test process uses, one per fixture role (``REDIS_ROLES``).

    By default the process starts a private redis-server (a free port, no persistence) and stops it at the
    end, so no run touches a Redis anyone else uses and any ``-n`` works. ``TEST_REDIS_URL`` names a server
    to use instead: process ``gwN`` then takes databases ``TEST_REDIS_DB_BASE`` (1) + N * len(REDIS_ROLES)
    upwards, and refuses to start (rather than share) past database 15. Only the databases handed out
    are flushed, before use and at the end.
    """

    def __init__(self, worker_id: str, folder: Path) -> None:
        self.index = int(worker_id[2:]) if worker_id.startswith("gw") else 0
        self.used: set[str] = set()
        self.server: subprocess.Popen | None = None
        shared = os.environ.get("TEST_REDIS_URL")
        if shared is None and not shutil.which("redis-server"):
            shared = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
        if shared is None:
            self.root, self.base = self._start_private(folder), 1
        else:
            scheme, rest = shared.split("://", 1)
            self.root = f"{scheme}://{rest.split('/', 1)[0]}"
            self.base = int(os.environ.get("TEST_REDIS_DB_BASE", "1")) + self.index * len(REDIS_ROLES)

    def _start_private(self, folder: Path) -> str:
        port = free_port()
        self.server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(folder)], stdout=open(folder / "redis.log", "ab"), stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=die_with_parent)
        wait_until(lambda: _pings(f"redis://127.0.0.1:{port}"), timeout=10, what="the test process's redis-server")
        return f"redis://127.0.0.1:{port}"

    def url(self, role: str) -> str:
        """The (flushed) database of ``role`` in this process."""
        db = self.base + REDIS_ROLES.index(role)
        if db > 15:
            unavailable(f"TEST_REDIS_URL: test process {self.index} would need Redis database {db} (0-15 exist); "
                        "lower TEST_REDIS_DB_BASE, run fewer processes, or unset TEST_REDIS_URL so that each "
                        "process starts a redis-server of its own")
        url = f"{self.root}/{db}"
        flush_redis(url)
        self.used.add(url)
        return url

    def close(self) -> None:
        """Flush what this process used; stop its private server."""
        if self.server is not None:
            self.server.terminate()
            self.server.wait(10)
            return
        for url in self.used:
            flush_redis(url)


def _pings(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def flush_redis(url: str) -> None:
    redis.Redis.from_url(url).flushdb()


def queue_drained(url: str, queues: tuple[str, ...] = ("cpu", "gpu")) -> bool:
    """True when no message waits in the queues and none is delivered but unacknowledged."""
    r = redis.Redis.from_url(url)
    return all(r.llen(q) == 0 for q in queues) and r.hlen("unacked") == 0


@dataclass
class WorkerProcess:
    proc: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def settings_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(settings.to_env())
    env.update({"TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(PROJECT_ROOT)})
    return env


def die_with_parent() -> None:
    """Run in a child before exec: it gets SIGKILL when the thread that started it dies (Linux),
    so a killed test run leaves no worker or redis-server behind."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def start_worker(settings: Settings, log_path: Path, name: str) -> WorkerProcess:
    """A real ``celery worker`` process (prefork, concurrency 1), as the run command starts it."""
    cmd = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "cpu,gpu",
           "-c", "1", "--loglevel", "INFO", "-n", f"{name}@%h", "--without-gossip",
           "--without-mingle"]
    fh = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=settings_env(settings), stdout=fh,
                            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
    return WorkerProcess(proc, log_path)


def train_body(model_name: str, **overrides: Any) -> dict[str, Any]:
    """A small, valid training request (1-2 s on CPU)."""
    body: dict[str, Any] = {"kind": "mlp", "dataset": "iris", "model_name": model_name,
                            "params": {"epochs": 2, "batch_size": 16}}
    body.update(overrides)
    return body


def wait_for_job(client, job_id: str, timeout: float = 120.0) -> dict[str, Any]:
    """Poll the API until the job ends; return its JSON."""
    def done():
        job = client.get(f"/api/v1/jobs/{job_id}").get_json()
        return job if job["status"] in ("succeeded", "failed", "cancelled") else None

    return wait_until(done, timeout=timeout, interval=0.2, what=f"job {job_id} to finish")


def upload(client, name: str, kind: str, content: bytes, **options: str):
    """POST a dataset file as the raw body (options in the query string)."""
    from urllib.parse import urlencode

    query = urlencode({"name": name, "kind": kind, **options})
    return client.post(f"/api/v1/datasets?{query}", data=content, content_type="application/octet-stream")


def learnable_texts(n: int = 400, seed: int = 0) -> list[tuple[str, str]]:
    """Sentences whose label follows from their words: small enough to be fast, big enough to learn."""
    import random

    rng = random.Random(seed)
    good = "great wonderful superb lovely brilliant delightful moving charming".split()
    bad = "awful boring dreadful terrible dull painful tedious clumsy".split()
    filler = "the film story actors plot it was and a with movie scenes".split()
    rows = []
    for i in range(n):
        label = "pos" if i % 2 == 0 else "neg"
        words = rng.sample(filler, 5) + rng.sample(good if label == "pos" else bad, 2)
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return rows


def run_job(client, body: dict[str, Any], timeout: float = 240.0) -> dict[str, Any]:
    """Submit and wait; fail with the job's error if it did not succeed."""
    r = client.post("/api/v1/jobs", json=body)
    assert r.status_code == 201, r.get_data(as_text=True)
    done = wait_for_job(client, r.get_json()["id"], timeout=timeout)
    assert done["status"] == "succeeded", done["error"]
    return done


def start_beat(settings: Settings, tmp: Path, name: str, **env: str) -> WorkerProcess:
    """A real ``celery beat`` process (it runs the reconciler and the schedule firer)."""
    cmd = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat", "--loglevel", "INFO",
           "--schedule", str(tmp / f"beat-{name}")]
    log_path = tmp / f"beat-{name}.log"
    fh = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env={**settings_env(settings), **env}, stdout=fh,
                            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
    return WorkerProcess(proc, log_path)


def admin_token(runtime) -> str:
    """A fresh API token of an admin account (made on first use) for tests that build their own app."""
    from app.domain.errors import Conflict
    from app.services import accounts, tokens

    try:
        with runtime.session() as session:
            accounts.create_user(session, "token-admin", "admin-password-for-tests", "admin")
    except Conflict:
        pass  # made by an earlier call
    with runtime.session() as session:
        _, token = tokens.create_token(session, "token-admin", "tests")
    return token


def assert_accuracy_measured_on_the_test_split(metrics: dict[str, Any], dataset_source: str) -> None:
    """The reported test accuracy is what its confusion matrix shows, and that matrix counts exactly the
    held-out test rows of the dataset, class by class: the number was measured, not made up or reused."""
    import numpy as np

    from app.data.builtin import load_builtin
    from app.data.split import split_indices

    y = load_builtin(dataset_source).y
    test = split_indices(y, seed=0, validation_fraction=0.0).test  # the holdout does not depend on the seed
    matrix = np.array(metrics["confusion_matrix"])
    classes = len(metrics["class_names"])
    assert matrix.shape == (classes, classes), matrix.shape
    assert matrix.sum(axis=1).tolist() == np.bincount(y[test], minlength=classes).tolist()
    assert abs(metrics["test_accuracy"] - np.trace(matrix) / matrix.sum()) < 1e-9, metrics["test_accuracy"]

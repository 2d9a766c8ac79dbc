"""Fixtures: real databases (SQLite and PostgreSQL), real Redis, real Celery workers.

Each pytest-xdist process gets Redis databases of its own (a private redis-server by default); each backend gets one
database and one worker per test session, and tests use unique model names.
"""
from __future__ import annotations

import re
import secrets
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app import create_app
from app.config import Settings
from app.runtime import Runtime
from app.services import accounts, tokens
from app.services.datasets import ensure_builtin_datasets
from tests.support import (
    RedisDatabases,
    WorkerProcess,
    free_port,
    migrated_database,
    postgres_available,
    start_worker,
    unavailable,
)

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def worker_id(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "master")


@pytest.fixture(scope="session")
def redis_dbs(worker_id, tmp_path_factory) -> Iterator[RedisDatabases]:
    """This test process's Redis databases (a private redis-server unless TEST_REDIS_URL names one)."""
    dbs = RedisDatabases(worker_id, tmp_path_factory.mktemp("redis"))
    yield dbs
    dbs.close()


def _skip_if_unavailable(backend: str) -> None:
    if backend == "postgresql":
        reason = postgres_available()
        if reason:
            unavailable(reason)


@dataclass
class Stack:
    """A migrated database, its settings, a Flask app and (once started) a worker process."""

    backend: str
    settings: Settings
    runtime: Runtime
    app: object
    tmp: Path
    worker: WorkerProcess | None = None
    serve_process: WorkerProcess | None = None
    # role -> (username, password, API token) of the test account made for it on first use
    accounts: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def account(self, role: str) -> tuple[str, str, str]:
        """(username, password, token) of this stack's account with ``role``, created on first use."""
        if role not in self.accounts:
            username, password = f"test-{role}", f"{role}-password-{uuid.uuid4().hex[:8]}"
            with self.runtime.session() as session:
                accounts.create_user(session, username, password, role)
                _, token = tokens.create_token(session, username, "tests")
            self.accounts[role] = (username, password, token)
        return self.accounts[role]

    def serve(self) -> WorkerProcess:
        """This stack's serve process (started on first use: the web forwards predictions to it)."""
        if self.serve_process is None:
            from tests.serve.process import start_serve, wait_ready

            self.serve_process = start_serve(self.settings, self.tmp / "serve.log")
            wait_ready(self.settings, self.serve_process)
        return self.serve_process

    @property
    def client(self):
        """A test client signed in as an admin (Bearer token): existing tests need not know about auth."""
        return self.client_as("admin")

    def client_as(self, role: str):
        """A test client whose every request carries the token of an account with ``role``."""
        c = self.app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.account(role)[2]}"
        return c

    def auth(self, role: str = "admin") -> dict[str, str]:
        """Headers that authenticate as ``role``, for a client of another app built on this stack."""
        return {"Authorization": f"Bearer {self.account(role)[2]}"}

    @property
    def anon_client(self):
        return self.app.test_client()

    def browser_client(self, role: str):
        """A client signed in through the login form, like a browser: session cookie, and CSRF tokens to send.

        ``client.csrf`` holds the session's CSRF token for POSTs (a form field or the X-CSRF-Token header).
        """
        username, password, _ = self.account(role)
        c = self.app.test_client()
        c.csrf = csrf_from(c.get("/login").get_data(as_text=True))
        r = c.post("/login", data={"username": username, "password": password, "csrf_token": c.csrf})
        assert r.status_code == 303, r.get_data(as_text=True)[:500]
        c.csrf = csrf_from(c.get("/account").get_data(as_text=True))  # a new session, a new token
        return c


def csrf_from(html: str) -> str:
    """The CSRF token in a rendered page's forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def _make_stack(backend: str, redis_url: str, tmp: Path) -> tuple[Stack, callable]:
    _skip_if_unavailable(backend)
    url, drop = migrated_database(backend, tmp)
    settings = Settings(database_url=url, redis_url=redis_url, models_store=tmp / "store",
                        secret_key=secrets.token_urlsafe(48), testing=True, redispatch_after_s=3600,
                        reconcile_interval_s=3600, serve_url=f"http://127.0.0.1:{free_port()}")
    app = create_app(settings)
    rt = app.extensions["trainyard"]
    with rt.session() as session:
        ensure_builtin_datasets(session)
    return Stack(backend, settings, rt, app, tmp), drop


def _with_worker(backend: str, role: str, redis_dbs: RedisDatabases, worker_id: str, tmp: Path) -> Iterator[Stack]:
    s, drop = _make_stack(backend, redis_dbs.url(role), tmp)
    s.worker = start_worker(s.settings, tmp / "worker.log", f"{role}-{worker_id}")
    try:
        yield s
    finally:
        s.worker.stop()
        if s.serve_process is not None:
            s.serve_process.stop()
        s.runtime.engine.dispose()
        drop()


@pytest.fixture(scope="session", params=BACKENDS)
def stack(request, redis_dbs, worker_id, tmp_path_factory) -> Iterator[Stack]:
    """A full stack with a running worker, one per backend per test process."""
    tmp = tmp_path_factory.mktemp(f"stack-{request.param}")
    yield from _with_worker(request.param, f"stack-{request.param}", redis_dbs, worker_id, tmp)


@pytest.fixture(scope="session")
def sqlite_stack(redis_dbs, worker_id, tmp_path_factory) -> Iterator[Stack]:
    """SQLite only, with a worker: for end-to-end tests that need not run on both backends."""
    yield from _with_worker("sqlite", "sqlite-only", redis_dbs, worker_id, tmp_path_factory.mktemp("sqlite-only"))


@pytest.fixture(params=BACKENDS)
def db_stack(request, redis_dbs, tmp_path) -> Iterator[Stack]:
    """A fresh migrated database per test, no worker: for service and API tests."""
    s, drop = _make_stack(request.param, redis_dbs.url("no-worker"), tmp_path)
    yield s
    s.runtime.engine.dispose()
    drop()


@pytest.fixture
def model_name() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


# The fault-injection summary line: hooks of the root conftest, so the xdist controller runs them.
def pytest_sessionstart(session):
    from tests.faults.summary import SUMMARY_DIR

    if not hasattr(session.config, "workerinput"):  # the controller (or a run without xdist)
        shutil.rmtree(SUMMARY_DIR, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    from tests.faults.summary import SUMMARY_DIR, read_rows, summary_lines

    if hasattr(config, "workerinput") or not SUMMARY_DIR.exists():
        return
    rows = read_rows(SUMMARY_DIR)
    if not rows:
        return
    terminalreporter.write_sep("=", "fault injection")
    for line in summary_lines(rows):
        terminalreporter.write_line(line)

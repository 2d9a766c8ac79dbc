"""A private Trainyard cluster for fault injection: its own redis-server, workers, beat, database.

Everything runs on a private port and in a temporary folder, so a test can kill,
pause, flush and stop any part of it without touching anything else.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app import create_app
from app.config import PROJECT_ROOT, Settings
from app.migrate import upgrade
from app.models import JobEvent, ModelVersion
from app.services.datasets import ensure_builtin_datasets
from tests.support import admin_token, die_with_parent, free_port, settings_env, unavailable, wait_until

FAST = {"heartbeat_interval_s": 0.3, "lease_s": 3.0, "reconcile_interval_s": 1, "max_attempts": 3,
        "redispatch_after_s": 5}


@dataclass
class Proc:
    popen: subprocess.Popen
    log: Path

    def children(self) -> list[int]:
        """Pids whose parent is this process (read from /proc: no procps needed)."""
        kids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.popen.pid:
                kids.append(int(stat.parent.name))
        return kids

    def signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)
        except ProcessLookupError:
            pass

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.signal_group(signal.SIGCONT)
            self.signal_group(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.popen.wait(10)


@dataclass
class Cluster:
    tmp: Path
    settings: Settings
    redis_port: int
    redis: Proc | None = None
    workers: list[Proc] = field(default_factory=list)
    beat: Proc | None = None
    serve: Any = None  # tests.support.WorkerProcess, once start_serve() ran
    app: Any = None
    token: str = ""
    faults: int = 0

    # --- Redis -----------------------------------------------------------------------------------
    def start_redis(self) -> None:
        log = self.tmp / "redis.log"
        self.redis = Proc(subprocess.Popen(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=die_with_parent), log)
        import redis

        wait_until(lambda: _ping(redis.Redis(port=self.redis_port)), timeout=10, what="redis-server")

    def stop_redis(self) -> None:
        self.faults += 1
        self.redis.signal_group(signal.SIGKILL)
        self.redis.popen.wait(10)

    def flushall(self) -> None:
        import redis

        self.faults += 1
        redis.Redis(port=self.redis_port).flushall()

    # --- processes ---------------------------------------------------------------------------------
    def _spawn(self, args: list[str], name: str, extra_env: dict[str, str] | None = None) -> Proc:
        log = self.tmp / f"{name}.log"
        env = {**settings_env(self.settings), **(extra_env or {})}
        popen = subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers.celery_app", *args],
                                 cwd=PROJECT_ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                                 start_new_session=True, preexec_fn=die_with_parent)
        return Proc(popen, log)

    def start_worker(self, name: str | None = None, extra_env: dict[str, str] | None = None) -> Proc:
        name = name or f"w{len(self.workers) + 1}"
        proc = self._spawn(["worker", "-Q", "cpu,gpu", "-c", "1", "--loglevel", "INFO", "-n", f"{name}@%h",
                            "--without-gossip", "--without-mingle"], name, extra_env)
        self.workers.append(proc)
        return proc

    def start_beat(self) -> Proc:
        self.beat = self._spawn(["beat", "--loglevel", "INFO", "--schedule", str(self.tmp / "beat-schedule")],
                                "beat")
        return self.beat

    def kill_child(self, worker: Proc) -> None:
        """kill -9 the pool child running the job (the parent lives and forks a new child)."""
        children = wait_until(worker.children, timeout=10, what="worker child")
        self.faults += 1
        for pid in children:
            os.kill(pid, signal.SIGKILL)

    def kill_worker(self, worker: Proc) -> None:
        """kill -9 parent and child together."""
        self.faults += 1
        worker.signal_group(signal.SIGKILL)
        worker.popen.wait(10)

    # --- jobs ---------------------------------------------------------------------------------------
    @property
    def client(self):
        c = self.app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return c

    def submit(self, model_name: str, **params: Any) -> str:
        body = {"kind": "mlp", "dataset": "digits", "model_name": model_name,
                "params": {"epochs": 40, "batch_size": 16, **params}}
        r = self.client.post("/api/v1/jobs", json=body)
        assert r.status_code == 201, r.get_data(as_text=True)
        return r.get_json()["id"]

    def job(self, job_id: str) -> dict[str, Any]:
        return self.client.get(f"/api/v1/jobs/{job_id}").get_json()

    def wait_epoch(self, job_id: str, epoch: int, timeout: float = 120) -> dict[str, Any]:
        return wait_until(lambda: (j := self.job(job_id))["status"] == "running" and j["epoch"] >= epoch and j,
                          timeout=timeout, interval=0.1, what=f"job {job_id} to reach epoch {epoch}")

    def wait_done(self, job_id: str, timeout: float = 180) -> dict[str, Any]:
        return wait_until(lambda: (j := self.job(job_id))["status"] in ("succeeded", "failed", "cancelled")
                          and j, timeout=timeout, interval=0.2, what=f"job {job_id} to end")

    def versions_of(self, job_id: str) -> int:
        rt = self.app.extensions["trainyard"]
        with rt.session() as s:
            return s.scalar(select(func.count()).select_from(ModelVersion).where(ModelVersion.job_id == job_id))

    def events(self, job_id: str) -> list[dict[str, Any]]:
        rt = self.app.extensions["trainyard"]
        with rt.session() as s:
            return [{"kind": e.kind, **e.payload} for e in
                    s.scalars(select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id))]

    def logs(self) -> str:
        return "\n".join(f"== {p.log.name}\n{p.log.read_text(errors='replace')[-4000:]}"
                         for p in [*self.workers, *([self.beat] if self.beat else [])])

    def start_serve(self) -> dict:
        """The serve process (prediction), started and waited for until every alias is warm."""
        from tests.serve.process import start_serve, wait_ready

        self.serve = start_serve(self.settings, self.tmp / "serve.log")
        return wait_ready(self.settings, self.serve)

    def close(self) -> None:
        for proc in [*self.workers, *([self.beat] if self.beat else []), *([self.redis] if self.redis else [])]:
            proc.stop()
        if self.serve is not None:
            self.serve.stop()
        if self.app is not None:
            self.app.extensions["trainyard"].engine.dispose()


def _ping(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False


def make_cluster(tmp: Path, database_url: str | None = None, **overrides: Any) -> Cluster:
    import shutil


    if not shutil.which("redis-server"):
        reason = "redis-server is not installed: these tests start their own (apt-get install redis-server)"
        unavailable(reason)
    port = free_port()
    settings = Settings(database_url=database_url or f"sqlite:///{tmp / 'trainyard.db'}", redis_url=f"redis://127.0.0.1:{port}/0",
                        models_store=tmp / "store", testing=True, serve_url=f"http://127.0.0.1:{free_port()}",
                        **{**FAST, **overrides})
    upgrade(settings.database_url)
    cluster = Cluster(tmp, settings, port)
    cluster.app = create_app(settings)
    with cluster.app.extensions["trainyard"].session() as s:
        ensure_builtin_datasets(s)
    cluster.token = admin_token(cluster.app.extensions["trainyard"])
    cluster.start_redis()
    return cluster


def record_summary(folder: Path, test: str, faults: int, jobs: int, lost: int, duplicated: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{os.getpid()}.jsonl", "a") as fh:
        fh.write(json.dumps({"test": test, "faults": faults, "jobs": jobs, "lost": lost,
                             "duplicated": duplicated}) + "\n")



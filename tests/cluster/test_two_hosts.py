"""Two worker hosts in network namespaces, one PostgreSQL and one Redis reached over veth links.

Each "host" is a network namespace (ip netns) joined to this machine by a veth pair, so
its worker reaches Redis and PostgreSQL only through its own link; the artifact store is
a folder both see (as a shared mount would be). Jobs spread over both hosts; then the host
running a job is cut off (its link goes down, mid-job) and the job resumes on the other.
"""
from __future__ import annotations

import dataclasses
import os
import random
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import PROJECT_ROOT, Settings
from app.migrate import upgrade
from app.models import ModelVersion
from app.services import workers as worker_rows
from app.services.datasets import ensure_builtin_datasets
from app.services.usecases.reconcile import reconcile
from tests.faults.proxy import Proxy
from tests.support import (
    admin_token,
    create_database,
    die_with_parent,
    free_port,
    postgres_available,
    settings_env,
    unavailable,
    wait_until,
)

FAST = {"heartbeat_interval_s": 0.3, "lease_s": 4.0, "reconcile_interval_s": 1, "max_attempts": 3,
        "checkpoint_every_s": 0,  # a checkpoint after every epoch: the victim is killed after epoch 3
        "redispatch_after_s": 5, "register_retry_s": 5}
PG_LOCAL = ("127.0.0.1", 5432)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _namespaces_work() -> str | None:
    if os.geteuid() != 0 or not shutil.which("ip"):
        return "network namespaces need root and iproute2 (ip)"
    probe = f"typrobe{uuid.uuid4().hex[:6]}"
    try:
        _ip("netns", "add", probe)
        _ip("netns", "del", probe)
    except subprocess.CalledProcessError as exc:
        return f"cannot create a network namespace here: {exc.stderr.strip()}"
    return None


@dataclasses.dataclass
class Host:
    name: str
    netns: str
    veth_root: str
    root_addr: str
    ns_addr: str
    worker: subprocess.Popen | None = None
    log: Path | None = None

    def cut_off(self) -> None:
        """Pull the cable: packets stop both ways; open connections hang, as on a real partition."""
        _ip("link", "set", self.veth_root, "down")


@pytest.fixture
def two_hosts(tmp_path):
    reason = _namespaces_work() or postgres_available()
    if reason:
        unavailable(reason)
    if not shutil.which("redis-server"):
        unavailable("redis-server is not installed")
    tag, net = uuid.uuid4().hex[:4], random.randrange(1, 250)
    hosts = [Host(f"host{c}", f"ty{tag}{c}", f"vty{tag}{c}0", f"10.213.{net}.{base + 1}", f"10.213.{net}.{base + 2}")
             for c, base in (("a", 0), ("b", 4))]
    cleanup: list = []
    try:
        for h in hosts:
            _ip("netns", "add", h.netns)
            cleanup.append(lambda h=h: subprocess.run(["ip", "netns", "del", h.netns], capture_output=True))
            inner = f"vty{tag}{h.name[-1]}1"
            _ip("link", "add", h.veth_root, "type", "veth", "peer", "name", inner)
            _ip("link", "set", inner, "netns", h.netns)
            _ip("addr", "add", f"{h.root_addr}/30", "dev", h.veth_root)
            _ip("link", "set", h.veth_root, "up")
            _ip("-n", h.netns, "addr", "add", f"{h.ns_addr}/30", "dev", inner)
            _ip("-n", h.netns, "link", "set", inner, "up")
            _ip("-n", h.netns, "link", "set", "lo", "up")
            cleanup.append(lambda h=h: subprocess.run(["ip", "link", "del", h.veth_root], capture_output=True))
        redis_port = free_port()
        redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                  *[h.root_addr for h in hosts], "--save", "", "--appendonly", "no",
                                  "--protected-mode", "no", "--dir", str(tmp_path)],
                                 stdout=open(tmp_path / "redis.log", "ab"), stderr=subprocess.STDOUT,
                                 start_new_session=True, preexec_fn=die_with_parent)
        cleanup.append(lambda: (redis.kill(), redis.wait(10)))
        proxy = Proxy([h.root_addr for h in hosts], PG_LOCAL)
        cleanup.append(proxy.close)
        url, drop = create_database("postgresql", tmp_path)
        cleanup.append(drop)
        settings = Settings(database_url=url, redis_url=f"redis://127.0.0.1:{redis_port}/0",
                            models_store=tmp_path / "store", testing=True, **FAST)
        upgrade(url)
        app = create_app(settings)
        rt = app.extensions["trainyard"]
        cleanup.append(rt.engine.dispose)
        with rt.session() as session:
            ensure_builtin_datasets(session)
        for h in hosts:  # each host's worker sees the database and Redis only at its link's address
            remote = dataclasses.replace(
                settings, database_url=url.replace("127.0.0.1:5432", f"{h.root_addr}:{proxy.port}"),
                redis_url=f"redis://{h.root_addr}:{redis_port}/0")
            assert remote.database_url != url
            h.log = tmp_path / f"{h.name}.log"
            h.worker = subprocess.Popen(
                ["ip", "netns", "exec", h.netns, sys.executable, "-m", "celery", "-A", "workers.celery_app",
                 "worker", "-Q", "cpu", "-c", "1", "--loglevel", "INFO", "-n", f"w@{h.name}", "--without-gossip",
                 "--without-mingle"], cwd=PROJECT_ROOT, env=settings_env(remote), stdout=open(h.log, "ab"),
                stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
            cleanup.append(lambda h=h: _kill_group(h.worker))
        yield app, hosts
    finally:
        for step in reversed(cleanup):
            try:
                step()
            except Exception:  # cleanup goes on whatever one step says
                pass


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def test_jobs_spread_over_two_hosts_and_a_cut_off_hosts_job_resumes_on_the_other(two_hosts):
    app, hosts = two_hosts
    rt, c = app.extensions["trainyard"], app.test_client()
    c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_token(rt)}"

    def logs() -> str:
        return "\n".join(f"== {h.name}\n{h.log.read_text(errors='replace')[-3000:]}" for h in hosts)

    def both_alive():
        with rt.session() as session:
            return {w.host for w in worker_rows.live_workers(session)} == {"hosta", "hostb"}

    wait_until(both_alive, timeout=120, interval=0.5, what=f"both hosts' workers to beat\n{logs()}")

    # Jobs spread over both hosts.
    ids = [c.post("/api/v1/jobs", json={"kind": "mlp", "dataset": "iris", "model_name": f"spread-{i}",
                                         "params": {"epochs": 25, "batch_size": 8}}).get_json()["id"]
           for i in range(6)]

    def all_done():
        jobs = [c.get(f"/api/v1/jobs/{i}").get_json() for i in ids]
        return jobs if all(j["status"] in ("succeeded", "failed") for j in jobs) else None

    jobs = wait_until(all_done, timeout=240, interval=0.5, what=f"the spread jobs\n{logs()}")
    assert all(j["status"] == "succeeded" for j in jobs), [j["error"] for j in jobs]
    assert {j["worker"].split("@")[1] for j in jobs} == {"hosta", "hostb"}

    # Cut the host running a long job off mid-job: it resumes on the other host from its checkpoint.
    job_id = c.post("/api/v1/jobs", json={"kind": "mlp", "dataset": "digits", "model_name": "cut-off",
                                          "params": {"epochs": 40, "batch_size": 16}}).get_json()["id"]
    running = wait_until(lambda: (j := c.get(f"/api/v1/jobs/{job_id}").get_json())["status"] == "running"
                         and j["epoch"] >= 3 and j, timeout=120, interval=0.1, what=f"epoch 3\n{logs()}")
    victim = next(h for h in hosts if running["worker"] == f"w@{h.name}")
    survivor = next(h for h in hosts if h is not victim)
    victim.cut_off()

    def finished():
        reconcile(rt)  # what beat does every RECONCILE_INTERVAL_S
        j = c.get(f"/api/v1/jobs/{job_id}").get_json()
        return j if j["status"] in ("succeeded", "failed", "cancelled") else None

    done = wait_until(finished, timeout=240, interval=1.0, what=f"the cut-off job to finish elsewhere\n{logs()}")
    assert done["status"] == "succeeded", done["error"]
    assert done["worker"] == f"w@{survivor.name}" and done["attempt"] == 2
    assert done["metrics"]["resumed_from_epoch"] >= 3  # from the victim's checkpoint, not from zero
    with rt.session() as session:
        assert session.scalar(select(func.count()).select_from(ModelVersion)
                              .where(ModelVersion.job_id == job_id)) == 1

"""A private Trainyard cluster for fault injection: its own redis-server, workers, beat, database.

Everything runs on a private port and in a temporary folder, so a test can kill,
pause, flush and stop any part of it without touching anything else.
"""
from __future__ import annotations

import functools
import itertools
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app import create_app
from app.config import PROJECT_ROOT, Settings
from app.domain.status import FINISHED, JobStatus
from app.migrate import upgrade
from app.models import Job, JobEvent, ModelVersion
from app.services.datasets import ensure_builtin_datasets
from tests.faults.summary import SUMMARY_DIR, record_summary
from tests.support import admin_token, die_with_parent, free_port, settings_env, unavailable, wait_until

FAST = {"heartbeat_interval_s": 0.3, "lease_s": 3.0, "reconcile_interval_s": 1, "max_attempts": 3,
        "checkpoint_every_s": 0,  # a checkpoint after every epoch: scenarios kill after epoch N, resume from N
        "redispatch_after_s": 5}
# A job that has not moved for this long (reference machine, see ``budget``) while the harness waits for
# it makes the harness look for a worker or beat that a person would restart (``Cluster.rescue``).
STALL_S = 90.0
# How long importing TensorFlow takes on an idle 2-core machine: the timeouts below were sized there.
REFERENCE_STARTUP_S = 10.0
HOLD_FINISH = Path(__file__).parent / "hold_finish"


def hold_before_finish_env(folder: Path) -> dict[str, str]:
    """A worker's environment that holds each training job between publishing and registering: it writes
    ``<job>.held`` in ``folder`` and waits for ``<job>.go`` (hold_finish/sitecustomize.py, test-only)."""
    return {"PYTHONPATH": f"{HOLD_FINISH}:{PROJECT_ROOT}", "TRAINYARD_TEST_HOLD_BEFORE_FINISH": str(folder)}


@functools.cache
def startup_s() -> float:
    """How long importing TensorFlow takes on this machine now (measured once per test process): every
    worker child pays it before its first job, and it grows with the load like everything else."""
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, capture_output=True, timeout=600,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return time.monotonic() - started


def budget(base_s: float) -> float:
    """A timeout of ``base_s`` on the reference machine, stretched by how much slower this one is now."""
    return base_s * max(1.0, startup_s() / REFERENCE_STARTUP_S)


@dataclass
class Executions:
    """How often one job ran: attempts started, attempts taken back (re-queued), epochs reported."""

    attempts: int
    requeued: int
    epochs: list[int]

    def duplicated(self, allowed_attempts: int, allowed_repeats: int = 0) -> int:
        """Executions the scenario does not allow: attempts beyond its allowance, an attempt that began
        while another still owned the job (no re-queue between them), and an epoch trained twice beyond
        the one an interrupted attempt may repeat (it reports an epoch, then checkpoints it) and the
        ``allowed_repeats`` a checkpoint interval lets a crash lose."""
        repeated = len(self.epochs) - len(set(self.epochs))
        return (max(0, self.attempts - allowed_attempts) + max(0, self.attempts - 1 - self.requeued)
                + max(0, repeated - self.requeued - allowed_repeats))


@dataclass
class Proc:
    popen: subprocess.Popen
    log: Path
    name: str = ""
    argv: list[str] = field(default_factory=list)  # how to start it again (Cluster.rescue)
    env: dict[str, str] | None = None
    meant_to_stop: bool = False  # stopped or killed on purpose: not a process the harness rescues

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
        self.meant_to_stop = True
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
    manual_restarts: int = 0  # the harness restarted a stuck process itself (not a fault): the suite wants 0
    rescue_wedged: bool = True  # a scenario that wedges a worker on purpose turns this off
    summary_dir: Path = SUMMARY_DIR
    scenario: str = ""
    _progress: tuple[Any, float] = (None, 0.0)
    # job id -> (the ending the scenario expects, how many attempts it allows): the summary's ledger
    expected: dict[str, tuple[str, int]] = field(default_factory=dict)
    repeats: dict[str, int] = field(default_factory=dict)  # epochs a job may train twice (timed checkpoints)

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
        env = {**settings_env(self.settings), **(extra_env or {})}
        return _start(self.tmp / f"{name}.log", [sys.executable, "-m", "celery", "-A", "workers.celery_app", *args],
                      name, env)

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

    def kill_child(self, worker: Proc, wait_s: float = 10) -> bool:
        """kill -9 the pool child running the job (the parent lives and forks a new child). Counts a fault
        and returns True only if a kill landed: a child may exit between the listing and the kill."""
        children = worker.children() if wait_s <= 0 else wait_until(worker.children, timeout=wait_s,
                                                                    what="worker child")
        landed = False
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                landed = True
            except ProcessLookupError:
                pass
        self.faults += landed
        return landed

    def kill_worker(self, worker: Proc) -> None:
        """kill -9 parent and child together."""
        self.faults += 1
        worker.meant_to_stop = True
        worker.signal_group(signal.SIGKILL)
        worker.popen.wait(10)

    # --- the harness's own recovery: what a person would do, counted -------------------------------
    def rescue(self, why: str = "") -> list[Proc]:
        """Restart what a person watching this cluster would restart to make progress: a worker or beat
        that exited although the scenario did not stop it, and (``rescue_wedged``) a worker its own page
        shows as wedged. Each is a manual restart, not a fault: counted, printed, and the suite asserts 0.
        Returns the new processes."""
        procs = [*self.workers, *([self.beat] if self.beat else [])]
        stuck = [p for p in procs if not p.meant_to_stop and not p.alive()]
        rows = self.client.get("/api/v1/workers") if self.rescue_wedged and self.app is not None else None
        if rows is not None and rows.status_code == 200:  # not while the database is away
            wedged = {w["name"].split("@")[0] for w in rows.get_json()["items"] if w.get("wedged") and w.get("alive")}
            stuck += [p for p in self.workers if p.name in wedged and p.alive() and not p.meant_to_stop]
        fresh = []
        for proc in stuck:
            self.manual_restarts += 1
            print(f"fault harness: manual restart of {proc.name} ({'exited' if not proc.alive() else 'wedged'})"
                  f"{': ' + why if why else ''}")
            proc.stop()
            new = _start(proc.log, proc.argv, proc.name, proc.env)
            if proc is self.beat:
                self.beat = new
            else:
                self.workers[self.workers.index(proc)] = new
            fresh.append(new)
        return fresh

    def _watch(self, job: dict[str, Any]) -> None:
        """Called while waiting on ``job``: after ``STALL_S`` without progress, look for a stuck process."""
        mark, now = (job["status"], job["attempt"], job["epoch"]), time.monotonic()
        if mark != self._progress[0]:
            self._progress = (mark, now)
        elif now - self._progress[1] > budget(STALL_S):
            self._progress = (mark, now)
            self.rescue(f"job {job['id']} made no progress for {budget(STALL_S):.0f} s")

    # --- jobs ---------------------------------------------------------------------------------------
    @property
    def client(self):
        c = self.app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        return c

    def submit(self, model_name: str, kind: str = "mlp", dataset: str = "digits", **params: Any) -> str:
        body = {"kind": kind, "dataset": dataset, "model_name": model_name,
                "params": {"epochs": 40, "batch_size": 16, **params}}
        return self.post_job(body)

    def post_job(self, body: dict[str, Any], client: Any = None) -> str:
        """Submit (the response must be a 201) and enter the job in the summary's ledger."""
        r = (client or self.client).post("/api/v1/jobs", json=body)
        assert r.status_code == 201, r.get_data(as_text=True)
        return self.expect(r.get_json()["id"])

    def expect(self, job_id: str, ending: str = JobStatus.SUCCEEDED, attempts: int = 1, repeats: int = 0) -> str:
        """What the scenario expects of ``job_id``: its ending, the attempts it may take, and the epochs it
        may train twice because a crash fell between timed checkpoints (``CHECKPOINT_EVERY_S`` > 0)."""
        self.expected[job_id] = (ending, attempts)
        self.repeats[job_id] = repeats
        return job_id

    def executions(self, job_id: str) -> Executions:
        events = self.events(job_id)
        statuses = [e.get("status") for e in events if e["kind"] == "status"]
        attempts = statuses.count(JobStatus.RUNNING)
        requeued = sum(1 for pair in itertools.pairwise(statuses) if pair == (JobStatus.RUNNING, JobStatus.QUEUED))
        return Executions(attempts, requeued, [e["epoch"] for e in events if e["kind"] == "epoch"])

    def duplicated(self, job_ids: list[str]) -> dict[str, Executions]:
        """The jobs that ran more than their scenario allows, with how often they ran."""
        runs = {j: self.executions(j) for j in job_ids}
        return {j: r for j, r in runs.items()
                if r.duplicated(self.expected.get(j, ("", 1))[1], self.repeats.get(j, 0))}

    def job(self, job_id: str) -> dict[str, Any]:
        return self.client.get(f"/api/v1/jobs/{job_id}").get_json()

    def wait_epoch(self, job_id: str, epoch: int, timeout: float = 120) -> dict[str, Any]:
        """Wait for the job to report ``epoch``; ``timeout`` is for the reference machine (see ``budget``)."""
        return wait_until(lambda: (j := self._watched(job_id))["status"] == "running" and j["epoch"] >= epoch and j,
                          timeout=budget(timeout), interval=0.1, what=f"job {job_id} to reach epoch {epoch}")

    def wait_done(self, job_id: str, timeout: float = 180) -> dict[str, Any]:
        """Wait for the job to end; ``timeout`` is for the reference machine (see ``budget``)."""
        return wait_until(lambda: (j := self._watched(job_id))["status"] in FINISHED and j,
                          timeout=budget(timeout), interval=0.2, what=f"job {job_id} to end")

    def _watched(self, job_id: str) -> dict[str, Any]:
        job = self.job(job_id)
        if job["status"] not in FINISHED:
            self._watch(job)
        return job

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

    def record(self) -> None:
        """Add this scenario to the summary from the database, however the test ended (a job that has not
        ended, or ended otherwise than expected, is lost); called by ``close``, so a timeout counts too."""
        if not self.expected and not self.faults and not self.manual_restarts:
            return
        status = {}
        if self.expected:
            with self.app.extensions["trainyard"].session() as s:
                status = dict(s.execute(select(Job.id, Job.status).where(Job.id.in_(list(self.expected)))).all())
        ended = {j: status.get(j) for j in self.expected}
        runs = {j: self.executions(j) for j in self.expected}
        record_summary(self.summary_dir, self.scenario, self.faults, len(self.expected),
                       lost=sum(1 for j, (want, _) in self.expected.items() if ended[j] != want),
                       timed_out=sum(1 for st in ended.values() if st not in FINISHED),
                       executions=sum(r.attempts for r in runs.values()),
                       duplicated=sum(r.duplicated(self.expected[j][1], self.repeats.get(j, 0))
                                      for j, r in runs.items()),
                       manual_restarts=self.manual_restarts)

    def close(self) -> None:
        if self.app is not None or self.manual_restarts:
            try:
                self.record()
            except Exception as exc:  # the database itself may be the casualty: say so, count every job lost
                print(f"fault summary: cannot read scenario {self.scenario!r}: {exc!r}")
                record_summary(self.summary_dir, self.scenario, self.faults, len(self.expected),
                               lost=len(self.expected), timed_out=0, executions=0, duplicated=0,
                               manual_restarts=self.manual_restarts)
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
    test = os.environ.get("PYTEST_CURRENT_TEST", "").split("::")[-1].removesuffix(" (setup)").removesuffix(" (call)")
    cluster = Cluster(tmp, settings, port, scenario=test.removeprefix("test_"))
    cluster.app = create_app(settings)
    with cluster.app.extensions["trainyard"].session() as s:
        ensure_builtin_datasets(s)
    cluster.token = admin_token(cluster.app.extensions["trainyard"])
    cluster.start_redis()
    return cluster



def _start(log: Path, argv: list[str], name: str, env: dict[str, str] | None) -> Proc:
    popen = subprocess.Popen(argv, cwd=PROJECT_ROOT, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                             start_new_session=True, preexec_fn=die_with_parent)
    return Proc(popen, log, name, argv, env)

"""``python -m workers.launch``: one Celery worker per GPU of this host, supervised.

Each worker sees only its own GPU(s) (CUDA_VISIBLE_DEVICES), runs one job at a time,
and is named after the host and its GPU index (``gpu0@host``), so the workers page
and a job's "worker" say where the job ran. A host without a GPU gets one CPU worker.
SIGTERM and SIGINT are passed on to every worker (warm shutdown: running jobs hand
back at their next batch); a worker that dies on its own is started again.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

from workers.host.gpus import Gpu, discover

log = logging.getLogger("trainyard.launch")
RESTART_DELAY_S = 5.0


@dataclass(frozen=True)
class WorkerSpec:
    name: str
    queues: list[str]
    env: dict[str, str]

    def command(self, loglevel: str = "INFO") -> list[str]:
        return [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", ",".join(self.queues),
                "--concurrency", "1", "--loglevel", loglevel, "-n", self.name]


def gpu_queues(count: int) -> list[str]:
    """The queues a worker with ``count`` GPUs takes: ``gpu``, and ``gpu.N`` for jobs needing N <= count."""
    return ["gpu", *(f"gpu.{n}" for n in range(2, count + 1))]


def plan(gpus: list[Gpu], host: str, gpus_per_worker: int = 1, also_cpu: bool = False) -> list[WorkerSpec]:
    """The workers to start on this host: one per group of ``gpus_per_worker`` GPUs, or one CPU worker.

    GPUs left over (3 GPUs, 2 per worker) get a smaller worker of their own, never nothing.
    """
    if not gpus:
        # No GPU here: hide any the CUDA runtime might still find, and take CPU work only.
        return [WorkerSpec(f"cpu@{host}", ["cpu"], {"CUDA_VISIBLE_DEVICES": "", "TRAINYARD_GPUS": "[]"})]
    specs = []
    for start in range(0, len(gpus), gpus_per_worker):
        group = gpus[start:start + gpus_per_worker]
        label = "-".join(str(g.index) for g in group)
        queues = gpu_queues(len(group)) + (["cpu"] if also_cpu else [])
        specs.append(WorkerSpec(f"gpu{label}@{host}", queues, {
            "CUDA_VISIBLE_DEVICES": ",".join(str(g.index) for g in group),
            "CUDA_DEVICE_ORDER": "PCI_BUS_ID",  # the same numbering as nvidia-smi
            "TF_FORCE_GPU_ALLOW_GROWTH": "true",  # belt and braces: celery_app also sets memory growth
            "MAX_JOBS_PER_CHILD": "1",  # a fresh child per job gives its GPU memory back
            "TRAINYARD_GPUS": json.dumps([g.to_dict() for g in group]),
        }))
    return specs


class Supervisor:
    """Starts the workers, restarts one that dies, and passes a stop signal on to all of them."""

    def __init__(self, specs: list[WorkerSpec], loglevel: str = "INFO") -> None:
        self.specs, self.loglevel = specs, loglevel
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self, spec: WorkerSpec) -> None:
        env = {**os.environ, **spec.env}
        self.procs[spec.name] = subprocess.Popen(spec.command(self.loglevel), env=env)
        log.info("started %s (pid %d) on queues %s, CUDA_VISIBLE_DEVICES=%r", spec.name,
                 self.procs[spec.name].pid, ",".join(spec.queues), spec.env.get("CUDA_VISIBLE_DEVICES"))

    def forward(self, signum: int, _frame=None) -> None:
        self.stopping = True
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signum)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.forward)
        signal.signal(signal.SIGINT, self.forward)
        for spec in self.specs:
            self.start(spec)
        while True:
            alive = {name: p for name, p in self.procs.items() if p.poll() is None}
            if self.stopping and not alive:
                return 0
            if not self.stopping:
                for spec in self.specs:
                    proc = self.procs[spec.name]
                    if proc.poll() is not None:
                        log.warning("%s exited with %s; starting it again in %.0f s", spec.name,
                                    proc.returncode, RESTART_DELAY_S)
                        time.sleep(RESTART_DELAY_S)
                        if not self.stopping:
                            self.start(spec)
            time.sleep(0.5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.launch", description=__doc__.splitlines()[0])
    parser.add_argument("--gpus-per-worker", type=int, default=1,
                        help="GPUs per worker (2+: one worker trains one job on several GPUs)")
    parser.add_argument("--also-cpu", action="store_true", help="GPU workers also take cpu-queue jobs")
    parser.add_argument("--host", default=os.environ.get("TRAINYARD_HOST") or socket.gethostname(),
                        help="host part of the worker names (default: TRAINYARD_HOST or the hostname)")
    parser.add_argument("--loglevel", default="INFO")
    parser.add_argument("--dry-run", action="store_true", help="print the plan as JSON and start nothing")
    args = parser.parse_args(argv)
    if args.gpus_per_worker < 1:
        parser.error("--gpus-per-worker must be at least 1")
    specs = plan(discover(), args.host, args.gpus_per_worker, args.also_cpu)
    if args.dry_run:
        print(json.dumps([{"name": s.name, "queues": s.queues, "env": s.env, "command": s.command(args.loglevel)}
                          for s in specs], indent=2))
        return 0
    logging.basicConfig(level=args.loglevel, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    return Supervisor(specs, args.loglevel).run()


if __name__ == "__main__":
    sys.exit(main())

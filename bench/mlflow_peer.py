"""The MLflow peer of ``bench/run.py --peers``: a throwaway virtualenv, a populated SQLite store, its server.

The virtualenv (``bench/out/peer-venv``, git-ignored) holds MLflow 3 and gunicorn and nothing of the
project's; it is built with pip on first use and reused while it imports an MLflow 3. The tracking server
runs in its stronger configuration: ``mlflow server --workers 2 --gunicorn-opts "--worker-class sync"``
(gunicorn instead of the default uvicorn, two sync workers) on a SQLite backend, with gunicorn's control
socket off so it cannot collide with another gunicorn on the machine, and without MLflow 3's job execution
(``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``: on by default it starts a job runner and seven huey consumers
that poll the store, a few % CPU each, for GenAI jobs that tracking never uses). No access log (MLflow's
default).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import requests

from app.config import PROJECT_ROOT
from tests.support import free_port, wait_until

VENV = PROJECT_ROOT / "bench" / "out" / "peer-venv"
REQUIREMENTS = ("mlflow>=3,<4", "gunicorn")
WORKERS = 2
MODEL, ALIAS = "bench-peer", "production"
_CHECK = "import gunicorn, mlflow, sys; sys.exit(mlflow.__version__.split('.')[0] != '3')"


def ensure_venv() -> str:
    """The peer virtualenv's MLflow version; builds the virtualenv first unless a working one is there."""
    py = VENV / "bin" / "python"
    if not (py.exists() and subprocess.run([py, "-c", _CHECK], capture_output=True).returncode == 0):
        print(f"building {VENV} (pip install {' '.join(REQUIREMENTS)}) ...", file=sys.stderr, flush=True)
        shutil.rmtree(VENV, ignore_errors=True)
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(VENV)], check=True)
        subprocess.run([py, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
                       check=True)
    out = subprocess.run([py, "-c", "import gunicorn, mlflow; print(mlflow.__version__, gunicorn.__version__)"],
                         capture_output=True, text=True, check=True).stdout.split()
    return f"MLflow {out[0]}, gunicorn {out[1]}"


@dataclass
class MlflowPeer:
    """An MLflow tracking server on a SQLite file in ``tmp``; ``stop()`` ends it (the caller owns ``tmp``)."""

    tmp: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """Base URL of the tracking server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_uri(self) -> str:
        """Its backend store."""
        return f"sqlite:///{self.tmp / 'mlflow.db'}"

    def populate(self, n: int) -> list[str]:
        """Schema, ``n`` runs, a registered model with ``ALIAS`` (bench/peer_populate.py); 1,000 run ids."""
        out = subprocess.run([str(VENV / "bin" / "python"), str(PROJECT_ROOT / "bench" / "peer_populate.py"),
                              self.db_uri, str(self.tmp / "mlartifacts"), str(n), MODEL, ALIAS],
                             capture_output=True, text=True, check=True, cwd=self.tmp).stdout
        found = json.loads(out.strip().splitlines()[-1])
        if found["runs"] != n:
            raise RuntimeError(f"MLflow store holds {found['runs']} runs, not {n}")
        return found["sample"]

    def start(self) -> None:
        """``mlflow server`` with gunicorn, 2 sync workers; returns once /health answers."""
        log = open(self.tmp / "mlflow.log", "ab")
        self.proc = subprocess.Popen(
            [str(VENV / "bin" / "mlflow"), "server", "--backend-store-uri", self.db_uri,
             "--default-artifact-root", str(self.tmp / "mlartifacts"), "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(WORKERS),
             "--gunicorn-opts", "--worker-class sync --no-control-socket"],
            cwd=self.tmp, env={**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()

        def up() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                tail = (self.tmp / "mlflow.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"mlflow server exited early:\n{tail}")
            try:
                return requests.get(f"{self.base}/health", timeout=5).ok
            except requests.RequestException:
                return False

        wait_until(up, timeout=120, what="mlflow server to answer", interval=0.3)

    def stop(self) -> None:
        """SIGTERM the server's process group, then SIGKILL what is left of it (after at most 15 s)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # gunicorn workers may outlive the CLI process
        except ProcessLookupError:
            pass
        proc.wait(10)

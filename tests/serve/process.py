"""The serve process as the Procfile starts it (Granian, one worker, threads), for tests and benchmarks."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from app.config import PROJECT_ROOT, Settings
from tests.commands import serve_args
from tests.support import WorkerProcess, die_with_parent, settings_env, wait_until


def start_serve(settings: Settings, log_path: Path, threads: int = 16, **env: str) -> WorkerProcess:
    """Start the serve process on ``settings.serve_url``'s port (not yet ready)."""
    port = settings.serve_url.rsplit(":", 1)[1].strip("/")
    cmd = [sys.executable, "-m", *serve_args(port, threads)]
    fh = open(log_path, "wb")
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env={**settings_env(settings), **env}, stdout=fh,
                            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=die_with_parent)
    return WorkerProcess(proc, log_path)


def health(settings: Settings) -> requests.Response | None:
    try:
        return requests.get(f"{settings.serve_url}/health", timeout=2)
    except requests.RequestException:
        return None


def wait_ready(settings: Settings, serve: WorkerProcess, timeout: float = 240) -> dict:
    """Wait for the health check to say ready (TensorFlow imported, every alias warm)."""
    def ready():
        assert serve.proc.poll() is None, serve.log()[-3000:]
        r = health(settings)
        return r.json() if r is not None and r.status_code == 200 else None
    return wait_until(ready, timeout, 0.25, "the serve process to be ready")

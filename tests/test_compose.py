"""docker-compose.yml parses, validates and runs the same processes as the Procfile."""
from __future__ import annotations

import shutil
import subprocess

from app.config import PROJECT_ROOT
from tests.support import unavailable


def _compose() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_is_valid():
    cmd = _compose()
    if cmd is None:
        reason = "docker-compose is not installed (scripts/test.sh installs it as root)"
        unavailable(reason)
    out = subprocess.run([*cmd, "-f", "docker-compose.yml", "config"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    for service in ("redis:", "postgres:", "web:", "worker:", "beat:", "migrate:"):
        assert service in out.stdout


def test_compose_and_procfile_run_the_same_processes():
    procfile = (PROJECT_ROOT / "Procfile").read_text()
    compose = (PROJECT_ROOT / "docker-compose.yml").read_text()
    for fragment in ("workers.celery_app worker", "workers.celery_app beat", "app:create_app()"):
        assert fragment in procfile
    for fragment in ('"workers.celery_app", "worker"', '"workers.celery_app", "beat"', "app:create_app()"):
        assert fragment in compose

"""docker-compose.yml parses, validates and runs the same processes as the Procfile."""
from __future__ import annotations

import os
import secrets
import shutil
import subprocess

from app.config import PROJECT_ROOT
from tests.support import unavailable

# compose refuses to start without a SECRET_KEY (docker-compose.yml): give `config` a random one.
ENV = {**os.environ, "SECRET_KEY": secrets.token_urlsafe(48)}


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
                         capture_output=True, text=True, env=ENV)
    assert out.returncode == 0, out.stderr
    import yaml

    services = yaml.safe_load(out.stdout)["services"]
    assert {"redis", "postgres", "web", "worker", "beat", "migrate", "serve"} <= set(services), sorted(services)
    # What each process runs, as the Procfile runs it (compose may write a command as a list or a string).
    command = {name: " ".join(s["command"]) if isinstance(s.get("command"), list) else s.get("command") or ""
               for name, s in services.items()}
    assert "workers.celery_app worker" in command["worker"] and "workers.celery_app beat" in command["beat"]
    from tests.commands import serve_args, web_args  # what the tests and benchmarks run

    assert command["web"] == " ".join(web_args(5000, 2, 4, "--access-log", host="0.0.0.0"))
    assert command["serve"] == " ".join(serve_args(5001, 32, "--access-log", host="0.0.0.0"))
    for name in ("web", "serve", "worker", "beat"):  # the processes share one database, broker and store
        env = services[name]["environment"]
        assert env["DATABASE_URL"] == services["web"]["environment"]["DATABASE_URL"], name
        assert env["REDIS_URL"] == services["web"]["environment"]["REDIS_URL"], name


def test_compose_has_a_gpu_worker_with_a_device_reservation():
    """The GPU worker service reserves NVIDIA GPUs and runs the launcher (one worker per GPU)."""
    cmd = _compose()
    if cmd is None:
        unavailable("docker-compose is not installed (scripts/test.sh installs it as root)")
    out = subprocess.run([*cmd, "-f", "docker-compose.yml", "--profile", "gpu", "config"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True, env=ENV)
    assert out.returncode == 0, out.stderr
    import yaml

    service = yaml.safe_load(out.stdout)["services"]["worker-gpu"]
    [device] = service["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert service["command"][:3] == ["python", "-m", "workers.launch"]
    worker_env = yaml.safe_load(out.stdout)["services"]["worker"]["environment"]
    for shared in ("DATABASE_URL", "REDIS_URL", "MODELS_STORE"):  # the settings every host must share
        assert service["environment"][shared] == worker_env[shared]


def test_compose_and_procfile_run_the_same_processes():
    procfile = (PROJECT_ROOT / "Procfile").read_text()
    compose = (PROJECT_ROOT / "docker-compose.yml").read_text()
    for fragment in ("workers.celery_app worker", "workers.celery_app beat"):
        assert fragment in procfile
    from tests.commands import serve_args, web_args  # the tests and benchmarks run them as the Procfile does

    assert " ".join(web_args("$PORT", "${WEB_WORKERS:-2}", "${WEB_THREADS:-4}", "--access-log",
                             host="${HOST:-127.0.0.1}")) in procfile
    assert " ".join(serve_args("${SERVE_PORT:-5001}", "${SERVE_THREADS:-32}", "--access-log")) in procfile
    for fragment in ('"workers.celery_app", "worker"', '"workers.celery_app", "beat"', '"app:create_app"',
                     '"app.serve:create_app"'):
        assert fragment in compose


def test_the_web_and_serve_stop_within_the_time_honcho_gives_them():
    """On Ctrl-C honcho sends SIGTERM and SIGKILLs what is still up KILL_WAIT s later: Granian's wait for
    its workers (web and serve) must be shorter, or every stop of scripts/run.sh ends in a kill."""
    import re

    from honcho.manager import KILL_WAIT

    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    for process in ("web", "serve"):
        line = next(line for line in lines if line.startswith(f"{process}:"))
        wait = re.search(r"--workers-kill-timeout (\d+)", line)
        assert wait and int(wait.group(1)) < KILL_WAIT, line


def test_the_image_starts_the_web_as_compose_does():
    """The Dockerfile's CMD (the image run on its own) is compose's web command."""
    import json

    from tests.commands import web_args

    cmd = next(line for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))
    assert json.loads(cmd[len("CMD "):]) == web_args(5000, 2, 4, "--access-log", host="0.0.0.0")

"""The GPU worker launcher on a CPU-only machine: discovery, pinning, supervision, the heartbeat row.

A fake ``nvidia-smi`` (a shell script first on PATH, printing what the real one prints on a
two-GPU host) stands in for the driver: the one thing truly outside our control here.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import PROJECT_ROOT
from app.services import workers as worker_rows
from tests.support import settings_env, wait_until
from workers.host.gpus import discover, parse_listing, parse_query
from workers.launch import plan

QUERY_OUTPUT = """0, NVIDIA A100-SXM4-40GB, GPU-3f1b2c4d-aaaa-bbbb-cccc-000000000000, 40960, 3, 0
1, NVIDIA A100-SXM4-40GB, GPU-3f1b2c4d-aaaa-bbbb-cccc-111111111111, 40960, 1024, 37
"""
LIST_OUTPUT = """GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-3f1b2c4d-aaaa-bbbb-cccc-000000000000)
GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-3f1b2c4d-aaaa-bbbb-cccc-111111111111)
"""


def fake_smi(folder: Path, query_works: bool = True) -> Path:
    """A PATH folder whose nvidia-smi answers like a two-GPU host (or, old drivers, only to -L)."""
    folder.mkdir(exist_ok=True)
    script = folder / "nvidia-smi"
    query = f"cat <<'OUT'\n{QUERY_OUTPUT}OUT\nexit 0" if query_works else "echo 'Invalid combination' >&2; exit 2"
    script.write_text(f"""#!/bin/sh
case "$1" in
  -L) cat <<'OUT'
{LIST_OUTPUT}OUT
  ;;
  --query-gpu=*) {query} ;;
  *) exit 1 ;;
esac
""")
    script.chmod(0o755)
    return folder


def launcher_env(path_dir: Path | None, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(base or os.environ)
    env["PATH"] = f"{path_dir}:/usr/bin:/bin" if path_dir else "/usr/bin:/bin"
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return env


def dry_run(env: dict[str, str], *args: str) -> list[dict]:
    out = subprocess.run([sys.executable, "-m", "workers.launch", "--dry-run", "--host", "box", *args],
                         cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_no_gpu_means_one_cpu_worker_that_sees_no_gpu(tmp_path):
    specs = dry_run(launcher_env(tmp_path))  # nothing named nvidia-smi on PATH, no NVML library
    assert [(s["name"], s["queues"]) for s in specs] == [("cpu@box", ["cpu"])]
    assert specs[0]["env"]["CUDA_VISIBLE_DEVICES"] == ""
    assert specs[0]["command"][-2:] == ["-n", "cpu@box"]
    assert specs[0]["command"][specs[0]["command"].index("--concurrency") + 1] == "1"


def test_two_gpus_give_two_pinned_workers(tmp_path):
    specs = dry_run(launcher_env(fake_smi(tmp_path / "bin")))
    assert [s["name"] for s in specs] == ["gpu0@box", "gpu1@box"]
    assert [s["env"]["CUDA_VISIBLE_DEVICES"] for s in specs] == ["0", "1"]
    assert all(s["queues"] == ["gpu"] for s in specs)
    advertised = json.loads(specs[1]["env"]["TRAINYARD_GPUS"])
    assert advertised == [{"index": 1, "name": "NVIDIA A100-SXM4-40GB",
                           "uuid": "GPU-3f1b2c4d-aaaa-bbbb-cccc-111111111111", "memory_total_mb": 40960,
                           "memory_used_mb": 1024, "utilization_pct": 37}]
    assert all(s["env"]["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for s in specs)


def test_grouped_gpus_take_the_multi_gpu_queue_and_cpu_on_request(tmp_path):
    specs = dry_run(launcher_env(fake_smi(tmp_path / "bin")), "--gpus-per-worker", "2", "--also-cpu")
    assert [(s["name"], s["queues"], s["env"]["CUDA_VISIBLE_DEVICES"]) for s in specs] == [
        ("gpu0-1@box", ["gpu", "gpu.2", "cpu"], "0,1")]


def test_old_drivers_answer_only_the_listing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{fake_smi(tmp_path / 'bin', query_works=False)}:/usr/bin:/bin")
    gpus = discover()
    assert [(g.index, g.name, g.memory_total_mb) for g in gpus] == [(0, "NVIDIA A100-SXM4-40GB", None),
                                                                     (1, "NVIDIA A100-SXM4-40GB", None)]


def test_parsers_ignore_noise():
    assert parse_listing("No devices were found\n") == []
    assert parse_query("[N/A]\n") == []
    assert parse_query("0, Tesla T4, GPU-x, 15360, [N/A], [N/A]\n")[0].memory_used_mb is None
    assert plan([], "h")[0].name == "cpu@h"


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:  # it exited meanwhile
        return {}
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def _pinned(launcher_pid: int) -> dict[str, int]:
    """{CUDA_VISIBLE_DEVICES: pid} of the launcher's live workers."""
    out = {}
    for pid in _children(launcher_pid):
        env = _environ(pid)
        if "CUDA_VISIBLE_DEVICES" in env:
            out[env["CUDA_VISIBLE_DEVICES"]] = pid
    return out


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.parametrize("db_stack", ["sqlite"], indirect=True)  # the same on both backends: once is enough
def test_launched_workers_are_pinned_advertise_their_gpus_and_stop_on_sigterm(db_stack, tmp_path):
    env = launcher_env(fake_smi(tmp_path / "bin"), settings_env(db_stack.settings))
    env["TRAINYARD_PRELOAD_TF"] = "0"  # no job runs here: spare the CPU the TensorFlow import
    log = open(tmp_path / "launch.log", "wb")
    launcher = subprocess.Popen([sys.executable, "-m", "workers.launch", "--host", "box"], cwd=PROJECT_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    rt = db_stack.runtime
    try:
        def both_beating():
            with rt.session() as session:
                rows = worker_rows.list_workers(session)
            return rows if len([r for r in rows if r["alive"]]) == 2 else None

        rows = wait_until(both_beating, timeout=90, interval=0.5, what="two worker heartbeat rows")
        assert [r["name"] for r in rows] == ["gpu0@box", "gpu1@box"]
        assert rows[0]["queues"] == ["gpu"] and rows[0]["host"] == "box"
        assert rows[1]["gpus"][0]["name"] == "NVIDIA A100-SXM4-40GB"
        assert rows[1]["gpus"][0]["memory_total_mb"] == 40960
        pinned = {}
        for child in _children(launcher.pid):
            child_env = _environ(child)
            pinned[child_env["TRAINYARD_GPUS"][:60]] = child_env["CUDA_VISIBLE_DEVICES"]
        assert sorted(pinned.values()) == ["0", "1"]
        r = db_stack.client.get("/api/v1/workers").get_json()
        assert {w["name"] for w in r["items"]} == {"gpu0@box", "gpu1@box"}
        page = db_stack.client.get("/workers").get_data(as_text=True)
        assert "gpu1@box" in page and "NVIDIA A100-SXM4-40GB" in page and "40960" in page
        # A worker that dies is started again, still pinned to its GPU.
        first = _pinned(launcher.pid)
        os.kill(first["0"], signal.SIGKILL)

        def replaced():
            now = _pinned(launcher.pid)
            return now if len(now) == 2 and now["0"] != first["0"] and now["1"] == first["1"] else None

        now = wait_until(replaced, timeout=60, interval=0.5, what="the killed worker to be started again")

        def beating_again():
            with rt.session() as session:
                return any(r["name"] == "gpu0@box" and r["pid"] == now["0"] for r in worker_rows.list_workers(session))

        wait_until(beating_again, timeout=60, interval=0.5, what="the new gpu0 worker's heartbeat")
    finally:
        launcher.send_signal(signal.SIGTERM)
        try:
            code = launcher.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(launcher.pid, signal.SIGKILL)
            raise
    assert code == 0, (tmp_path / "launch.log").read_text()
    with rt.session() as session:
        assert not any(r["alive"] for r in worker_rows.list_workers(session))


def test_left_over_gpus_get_a_smaller_worker_of_their_own():
    from workers.host.gpus import Gpu
    from workers.launch import plan

    three = [Gpu(i, "NVIDIA L4") for i in range(3)]
    assert [(w.name, w.env["CUDA_VISIBLE_DEVICES"]) for w in plan(three, "h", 2)] == [
        ("gpu0-1@h", "0,1"), ("gpu2@h", "2")]
    (only,) = plan([Gpu(0, "NVIDIA L4")], "h", 2)  # fewer GPUs than asked per worker: still a worker
    assert only.name == "gpu0@h" and only.queues == ["gpu"]

"""The multi-GPU path end to end on a CPU-only machine: gpu.2 routing, a worker taking gpu.2,
training wrapped in tf.distribute.MirroredStrategy (over the CPU here), one version registered."""
from __future__ import annotations

import json
import subprocess
import sys

from app.config import PROJECT_ROOT
from tests.support import WorkerProcess, die_with_parent, run_job, settings_env, train_body, wait_until

FAKE_GPUS = [{"index": i, "name": "NVIDIA L4 (advertised by the test)", "uuid": f"GPU-test-{i}",
              "memory_total_mb": 23034} for i in range(2)]


def test_a_two_gpu_job_trains_under_mirrored_strategy(sqlite_stack, model_name, tmp_path):
    env = {**settings_env(sqlite_stack.settings), "TRAINYARD_GPUS": json.dumps(FAKE_GPUS), "CUDA_VISIBLE_DEVICES": ""}
    log = tmp_path / "gpu-worker.log"
    cmd = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-Q", "gpu.2", "-c", "1",
           "--loglevel", "INFO", "-n", "gpu0-1@multi", "--without-gossip", "--without-mingle"]
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
                            start_new_session=True, preexec_fn=die_with_parent)
    worker = WorkerProcess(proc, log)
    try:
        c = sqlite_stack.client
        wait_until(lambda: any(w["name"] == "gpu0-1@multi" and w["alive"]
                               for w in c.get("/api/v1/workers").get_json()["items"]),
                   timeout=90, interval=0.5, what="the two-GPU worker's heartbeat")
        done = run_job(c, train_body(model_name, queue="gpu", gpus=2, params={"epochs": 3, "batch_size": 16}))
        assert done["queue"] == "gpu.2" and done["worker"] == "gpu0-1@multi"
        assert "training on 1 replicas" in worker.log()  # MirroredStrategy over what this machine has
    finally:
        worker.stop()

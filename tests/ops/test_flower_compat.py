"""Flower (and any Celery monitor) reads our tasks: explicit names, JSON only, no pickle."""
from __future__ import annotations

import json
import subprocess
import sys

from app.config import PROJECT_ROOT, Settings
from tests.support import settings_env

PROBE = """
import json
from workers.celery_app import celery_app
celery_app.loader.import_default_modules()
print(json.dumps({"tasks": sorted(n for n in celery_app.tasks if not n.startswith("celery.")),
                  "serializer": celery_app.conf.task_serializer, "accept": list(celery_app.conf.accept_content),
                  "result": celery_app.conf.result_serializer}))
"""


def test_task_names_are_explicit_and_messages_are_json():
    env = {**settings_env(Settings()), "TRAINYARD_PRELOAD_TF": "0"}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["tasks"] and all(name.startswith("trainyard.") for name in found["tasks"]), found["tasks"]
    assert found["serializer"] == "json" and found["accept"] == ["json"] and found["result"] == "json"

"""The worker's main process stays free of TensorFlow: only the forked child imports it."""
from __future__ import annotations

import subprocess
import sys

from app.config import PROJECT_ROOT


def test_loading_the_worker_app_and_tasks_does_not_import_tensorflow():
    code = ("import sys\n"
            "from workers.celery_app import celery_app\n"
            "celery_app.loader.import_default_modules()\n"
            "assert 'trainyard.train' in celery_app.tasks\n"
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False False"

"""Architecture rules that keep the web process light and the layers clean."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from app.config import PROJECT_ROOT


def test_the_web_app_does_not_import_tensorflow(tmp_path):
    code = (
        "import sys\n"
        "from app import create_app\n"
        "from app.config import Settings\n"
        f"app = create_app(Settings(database_url='sqlite:///{tmp_path}/x.db', testing=True))\n"
        "app.test_client().get('/api/v1/kinds')\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'gensim', 'workers') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == ""


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_services_import_neither_flask_nor_celery_nor_tensorflow():
    for path in (PROJECT_ROOT / "app" / "services").rglob("*.py"):
        bad = _imports(path) & {"flask", "celery", "tensorflow", "keras", "gensim", "workers"}
        assert not bad, f"{path.name} imports {bad}"


def test_nothing_under_app_imports_workers():
    for path in (PROJECT_ROOT / "app").rglob("*.py"):
        assert "workers" not in _imports(path), path

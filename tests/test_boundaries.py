"""What building the web app really loads.

Which package may import which is declared as import contracts in pyproject.toml ([tool.importlinter]) and
checked by ``lint-imports`` in scripts/test.sh. A static tool cannot see what a process loads at run time
(imports by name, plugins, what a request pulls in), so this one check stays a test.
"""
from __future__ import annotations

import subprocess
import sys

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

"""Installing a kind package the way an operator does (pip), into a folder of its own.

The web side of a test is this process: ``visible(target)`` puts the folder on ``sys.path`` and
discovers the kinds again, then takes it away. A worker gets the folder on its PYTHONPATH.
"""
from __future__ import annotations

import contextlib
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from app.config import PROJECT_ROOT
from app.kinds import KINDS


def pip_install(source: Path, target: Path) -> Path:
    """``pip install --target`` (no build isolation: offline, with the environment's setuptools)."""
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True, timeout=300)
    return target


def worker_env(target: Path) -> dict[str, str]:
    return {"PYTHONPATH": f"{target}:{PROJECT_ROOT}"}


@contextlib.contextmanager
def visible(target: Path) -> Iterator[None]:
    """The packages in ``target`` installed for this process (the web) while the block runs."""
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    KINDS.reload()
    try:
        yield
    finally:
        sys.path.remove(str(target))
        importlib.invalidate_caches()
        KINDS.reload()


BROKEN_PYPROJECT = '''[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "trainyard-broken-kinds"
version = "0.0.1"

[project.entry-points."trainyard.kinds"]
explodes = "broken_kinds.explodes:SPEC"
invalid = "broken_kinds.invalid:SPEC"
mlp = "broken_kinds.taken:SPEC"
oom = "broken_kinds.oom:SPEC"

[tool.setuptools]
packages = ["broken_kinds"]
'''

BROKEN_MODULES = {
    "__init__.py": "",
    "explodes.py": 'raise RuntimeError("this kind cannot be imported")\n',
    "invalid.py": ('from trainyard.kinds import KindSpec\n\n'
                   'SPEC = KindSpec(name="invalid", title="Invalid", data_kinds=("audio",), trainer="x.y:train")\n'),
    "taken.py": ('from trainyard.kinds import KindSpec\n\n'
                 'SPEC = KindSpec(name="mlp", title="Mine", data_kinds=("tabular",), trainer="x.y:train")\n'),
    # A valid kind whose training runs out of memory: the job's error must say what to lower.
    "oom.py": ('from trainyard.kinds import BATCH_SIZE, Input, KindSpec\n\n'
               'SPEC = KindSpec(name="oom", title="Runs out of memory", data_kinds=("tabular",), input=Input.ROWS,\n'
               '                trainer="broken_kinds.oom:train", params=(BATCH_SIZE,))\n\n\n'
               'def train(ctx):\n'
               '    raise MemoryError("could not allocate a tensor of 8 GiB")\n'),
}


def broken_package(folder: Path) -> Path:
    """A package with three kinds that must not load (one raises on import, one declares a dataset
    kind that does not exist, one reuses a built-in kind's name) and one that loads but runs out of memory."""
    root = folder / "trainyard-broken-kinds"
    (root / "broken_kinds").mkdir(parents=True)
    (root / "pyproject.toml").write_text(BROKEN_PYPROJECT)
    for name, text in BROKEN_MODULES.items():
        (root / "broken_kinds" / name).write_text(text)
    return root

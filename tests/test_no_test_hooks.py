"""No test hooks in product code (issue 19 part 7): a fault the tests inject lives under tests/.

The crashing kind is a test-only kind package (tests/faults/kinds/trainyard-crash), the pause before a
registration a wrapper on the worker's PYTHONPATH (tests/faults/hold_finish), the slow TensorFlow import
another (tests/faults/slow_import). Nothing the product ships reads a variable that injects a fault.
"""
from __future__ import annotations

from pathlib import Path

from app.config import PROJECT_ROOT

PRODUCT = ("app", "workers", "trainyard", "trainyard_client")
HOOK_MARKERS = ("TRAINYARD_FAULT", "TRAINYARD_TEST")


def hooks_in(root: Path, tops: tuple[str, ...] = PRODUCT) -> list[str]:
    """``path:line`` of every line under ``tops`` that names a test hook variable."""
    found = []
    for top in tops:
        for path in sorted((root / top).rglob("*")):
            if not path.is_file() or "__pycache__" in path.parts:
                continue
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (UnicodeDecodeError, OSError):
                continue  # images and other binary files
            found += [f"{path.relative_to(root).as_posix()}:{n}" for n, line in enumerate(lines, 1)
                      if any(marker in line for marker in HOOK_MARKERS)]
    return found


def test_product_code_reads_no_fault_injection_variable():
    assert hooks_in(PROJECT_ROOT) == []


def test_the_check_finds_a_hook(tmp_path):
    (tmp_path / "workers" / "jobs").mkdir(parents=True)
    (tmp_path / "workers" / "jobs" / "x.py").write_text('import os\nos.environ.get("TRAINYARD_FAULT_X")\n')
    assert hooks_in(tmp_path, ("workers",)) == ["workers/jobs/x.py:2"]

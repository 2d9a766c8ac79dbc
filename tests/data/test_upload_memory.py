"""Checking a large tabular upload holds a bounded amount of memory, whatever the file's size.

The fast check (app/data/formats/fastcsv.py) streams the file through pyarrow; with 16 MiB blocks its
Arrow memory grew with the file (345 MiB for 100 MiB, 545 MiB for 300 MiB), so the web's memory grew by
about a gigabyte during a 1 GiB upload. Each check runs in a fresh process: Arrow's peak is per process.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from app.config import PROJECT_ROOT

PROBE = """
import json, sys
import pyarrow as pa
from app.data.uploads import inspect_upload
found = inspect_upload(sys.argv[1], "tabular", {})
print(json.dumps({"rows": found.rows, "arrow_peak": pa.default_memory_pool().max_memory(),
                  "fast": "decimal_detected" not in found.schema}))
"""


def _digits_like_csv(path: Path, rows: int) -> None:
    """64 small-integer columns and a label: many short fields a MiB, the slow and wide case."""
    line = ",".join(str(i % 17) for i in range(64))
    with open(path, "w") as fh:
        fh.write(",".join(f"p{i}" for i in range(64)) + ",label\n")
        for start in range(0, rows, 10_000):
            fh.write("".join(f"{line},{n % 10}\n" for n in range(start, min(rows, start + 10_000))))


def _inspect(path: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(path)], cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_fast_check_holds_bounded_memory_for_a_larger_file(tmp_path):
    half, full = tmp_path / "half.csv", tmp_path / "full.csv"
    _digits_like_csv(half, 200_000)  # about 30 MiB
    _digits_like_csv(full, 400_000)  # about 60 MiB
    one, two = _inspect(half), _inspect(full)
    assert (one["rows"], two["rows"]) == (200_000, 400_000) and one["fast"] and two["fast"]
    assert full.stat().st_size > 50 * 2**20
    # With 16 MiB blocks: 150 and 250 MiB. With 1 MiB blocks: about 55 MiB for both (and for 300 MiB).
    assert two["arrow_peak"] < 96 * 2**20, two
    assert two["arrow_peak"] < 1.3 * one["arrow_peak"], (one, two)

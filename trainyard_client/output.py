"""What the command line prints about a job: a progress line while it runs, one sentence when it ends.

A training job counts epochs; a batch-inference job counts rows and ends with its output files.
"""
from __future__ import annotations

import json
import sys
from typing import Any

FINISHED = ("succeeded", "failed", "cancelled")


def show(obj: Any) -> None:
    print(json.dumps(obj, indent=2))


class Bar:
    """A one-line progress bar on stderr, fed by the job's progress as it is polled."""

    def __init__(self, stream=None, width: int = 30) -> None:
        self.stream, self.width = stream, width

    def __call__(self, job: dict) -> None:
        out = self.stream or sys.stderr
        fraction = float(job.get("progress") or 0.0)
        filled = round(fraction * self.width)
        out.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%} {_counter(job)} "
                  f"{job['status']:<10}")
        if job["status"] in FINISHED:
            out.write("\n")
        out.flush()


def _counter(job: dict) -> str:
    if job.get("type") == "infer":
        m = job.get("metrics") or {}
        return f"rows {m['scored']:,} scored" if "scored" in m else "scoring"
    return f"epoch {job.get('epoch', 0)}/{job.get('total_epochs', 0)}"


def finish(job: dict) -> int:
    """One line for how the job ended (stdout when it succeeded, stderr otherwise); the exit status."""
    if job["status"] != "succeeded":
        print(f"job {job['id']} {job['status']}: {job.get('error') or ''}".rstrip(), file=sys.stderr)
        return 1
    if job.get("type") == "infer":
        m = job.get("metrics") or {}
        print(f"job {job['id']} succeeded: scored {m.get('scored', 0):,} of {m.get('rows', 0):,} rows "
              f"({m.get('errors', 0):,} refused) with {job['model_name']} v{m.get('model_version')}")
        for out in job.get("outputs") or []:
            print(f"  {out['name']}  {out.get('url', '')}".rstrip())
        return 0
    print(f"job {job['id']} succeeded: {job['model_name']} v{job.get('version')}")
    return 0

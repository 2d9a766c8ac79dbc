"""A job checkpointed by time (CHECKPOINT_EVERY_S) and killed between checkpoints loses at most one interval.

The other scenarios checkpoint after every epoch (``FAST``) so they can say "resumed from epoch N"; this one
runs the worker with a real interval and measures the training the kill threw away from the epochs' own
timestamps: the epochs attempt 1 reported after the checkpoint that attempt 2 resumed from.
"""
from __future__ import annotations

import itertools
import json
import re
import time

import pytest
from sqlalchemy import select

from app.domain.status import JobStatus
from app.models import JobEvent
from tests.faults.cluster import budget
from tests.support import wait_until

pytestmark = pytest.mark.faults

EVERY_S = 4.0
SLACK_S = 1.0  # the save itself and the progress write between an epoch's end and its event's timestamp


def _timeline(c, job: str) -> tuple[list[tuple[int, float]], int]:
    """Attempt 1's epochs as (epoch, seconds since the epoch), and the epoch attempt 2 resumed from."""
    with c.app.extensions["trainyard"].session() as s:
        rows = s.execute(select(JobEvent.kind, JobEvent.payload, JobEvent.at)
                         .where(JobEvent.job_id == job).order_by(JobEvent.id)).all()
    attempt, first, resumed = 0, [], None
    for kind, payload, at in rows:
        if kind == "status" and payload.get("status") == "running":
            attempt = payload.get("attempt", attempt + 1)
        elif kind == "epoch" and attempt == 1:
            first.append((payload["epoch"], at.timestamp()))
        elif kind == "log" and attempt == 2 and resumed is None:
            found = re.search(r"resuming from the checkpoint of attempt 1 at epoch (\d+)", payload.get("message", ""))
            resumed = int(found.group(1)) if found else None
    return first, resumed


def _watch_checkpoints(c, job: str, seconds: float) -> set[int]:
    """The epochs of the checkpoints attempt 1 saved while we watched (its state file is replaced at each save;
    the one it named when we began was saved before)."""
    state = c.settings.models_store / "checkpoints" / job / "a1" / "state.json"

    def named() -> int | None:
        try:
            return json.loads(state.read_text())["epoch"]
        except (OSError, ValueError, KeyError):
            return None  # not written yet, or caught mid-replace

    before, seen = named(), set()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        seen.add(named())
        time.sleep(0.05)
    return seen - {before, None}


def test_a_kill_between_timed_checkpoints_loses_at_most_one_interval(cluster):
    c = cluster
    w = c.start_worker("timed", extra_env={"CHECKPOINT_EVERY_S": str(EVERY_S)})
    c.start_beat()
    job = c.expect(c.submit("timed-checkpoints", epochs=400), JobStatus.CANCELLED, attempts=2)
    c.wait_epoch(job, 1, timeout=180)
    saved = _watch_checkpoints(c, job, EVERY_S * 2.6)  # two intervals and part of a third
    assert c.kill_child(w)
    wait_until(lambda: _timeline(c, job)[1] is not None, timeout=budget(180), interval=0.5,
               what="attempt 2 to resume from attempt 1's checkpoint")
    first, resumed = _timeline(c, job)
    assert c.client.post(f"/api/v1/jobs/{job}/cancel").status_code == 202
    assert c.wait_done(job)["status"] == JobStatus.CANCELLED

    at = dict(first)
    last_epoch, last_at = first[-1]
    assert resumed >= 1, "no timed checkpoint in two intervals of training"
    lost_s = last_at - at[resumed]
    print(f"checkpoint every {EVERY_S} s: attempt 1 reached epoch {last_epoch}, attempt 2 resumed from "
          f"{resumed}: {last_epoch - resumed} epochs ({lost_s:.2f} s) trained again")
    # The interval runs out inside an epoch as a rule, so the checkpoint is a mid-epoch one: what the kill threw
    # away is at most the interval plus that partial epoch.
    epoch_s = max(b - a for (_, a), (_, b) in itertools.pairwise(first))
    assert lost_s <= EVERY_S + epoch_s + SLACK_S, (first, resumed)
    # By time, not by epoch: at most one checkpoint per interval watched (2.6 of them), however many epochs.
    assert 1 <= len(saved) <= 3, (saved, last_epoch)
    c.expect(job, JobStatus.CANCELLED, attempts=2, repeats=last_epoch - resumed)
    assert c.duplicated([job]) == {}

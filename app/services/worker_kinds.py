"""Which model kinds the live workers can run, as each advertises in its heartbeat row.

A worker reports its kinds (name -> package and version) and its broken ones at every beat.
Submission refuses a kind that no live worker on the job's queue has (422 naming it), and the
workers page warns where a worker's kind package differs in version from this process's.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.kinds import KINDS
from app.models import WorkerRow


def installed_on(row: WorkerRow) -> dict[str, dict[str, str]] | None:
    """name -> {package, version} the worker advertises; None when it says nothing (an older worker)."""
    found = (row.kinds or {}).get("installed") if isinstance(row.kinds, dict) else None
    return found if isinstance(found, dict) else None


def unavailable_kind(live: Iterable[WorkerRow], kinds: Iterable[str], queue: str) -> str | None:
    """Why a job of these kinds (a kind and its stages) cannot run on ``queue`` now, or None.

    Only workers that advertise their kinds and take ``queue`` count. When none is live the job is
    accepted and waits in the queue, as any job does while workers restart.
    """
    takers = [(w, installed_on(w)) for w in live if queue in (w.queues or [])]
    takers = [(w, have) for w, have in takers if have is not None]
    if not takers:
        return None
    for kind in kinds:
        if not any(kind in have for _w, have in takers):
            names = ", ".join(w.name for w, _h in takers)
            return (f"no live worker on queue {queue!r} has kind {kind!r} installed (workers: {names}); "
                    f"install its package on a worker host and restart the worker")
    return None


def kind_report(row: WorkerRow) -> dict[str, Any]:
    """What the workers page and API show about a worker's kinds: installed, broken, version warnings."""
    have = installed_on(row)
    broken = (row.kinds or {}).get("broken", []) if isinstance(row.kinds, dict) else []
    warnings = []
    for name, theirs in sorted((have or {}).items()):
        if name not in KINDS:
            warnings.append(f"kind {name!r} ({theirs.get('package')} {theirs.get('version')}) is not installed "
                            f"on the web: it cannot be submitted here")
            continue
        ours = KINDS.installed(name)
        if (ours.package, ours.version) != (theirs.get("package"), theirs.get("version")):
            warnings.append(f"kind {name!r}: the web has {ours.package} {ours.version}, this worker has "
                            f"{theirs.get('package')} {theirs.get('version')}")
    for name in KINDS:
        if have is not None and name not in have:
            warnings.append(f"kind {name!r} is installed on the web but not on this worker")
    return {"kinds": have, "broken_kinds": broken, "kind_warnings": warnings}

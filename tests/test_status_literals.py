"""A job status is written as ``JobStatus.<NAME>``, never as the bare word (issue 12's acceptance).

Every Python string constant under app/ and workers/ is checked, except in the module that declares
the statuses (app/domain/status.py) and in migrations (which must not change with the code).
Other states that share a word live beside JobStatus there (e.g. ``DeliveryStatus.FAILED``).
"""
from __future__ import annotations

import ast

from app.config import PROJECT_ROOT
from app.domain.status import JobStatus

WORDS = {"waiting", "queued", "running", "succeeded", "failed", "cancelled"}
HOME = "app/domain/status.py"


def test_the_words_are_the_job_statuses():
    assert WORDS == {s.value for s in JobStatus}


def test_no_job_status_is_a_bare_string_literal():
    found = []
    for top in ("app", "workers"):
        for path in sorted((PROJECT_ROOT / top).rglob("*.py")):
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            if rel == HOME or "migrations" in path.relative_to(PROJECT_ROOT).parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=rel)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in WORDS:
                    found.append(f"{rel}:{node.lineno}: {node.value!r}")
    assert found == [], "use JobStatus (app/domain/status.py) instead of:\n" + "\n".join(found)

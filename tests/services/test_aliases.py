"""Promote, roll back step by step, conflicts and history, on SQLite and PostgreSQL."""
from __future__ import annotations

import threading

import pytest

from app.domain.errors import Conflict, Invalid
from app.services import aliases, claims, registry, submission
from app.storage import StoredFile
from tests.support import train_body


def make_versions(rt, name: str, n: int) -> None:
    for i in range(n):
        with rt.session() as s:
            job, _ = submission.submit_train_job(s, train_body(name))
        with rt.session() as s:
            claimed = claims.claim_job(s, job.id, "w")
        with rt.session() as s:
            registry.ensure_model(s, name)
        with rt.session() as s:
            registry.register_version(s, job.id, claimed.attempt,
                                      [StoredFile("metrics.json", f"artifacts/{job.id}/m.json", 2, "0" * 64)],
                                      {"test_accuracy": 0.5 + i / 10}, {})


def test_promote_and_roll_back_step_by_step(db_stack, model_name):
    rt = db_stack.runtime
    make_versions(rt, model_name, 3)
    with rt.session() as s:
        aliases.promote(s, model_name, "production", 1, reason="first", actor="ana")
    with rt.session() as s:
        aliases.promote(s, model_name, "production", 2, reason="better", actor="ben")
    with rt.session() as s:
        aliases.promote(s, model_name, "production", 3, reason="best")
    steps = []
    for _ in range(2):
        with rt.session() as s:
            steps.append(aliases.rollback(s, model_name, "production", reason="regression")["version"])
    assert steps == [2, 1]
    with rt.session() as s, pytest.raises(Conflict, match="no earlier version"):
        aliases.rollback(s, model_name, "production", reason="again")
    with rt.session() as s:
        assert aliases.aliases_of(s, model_name) == {"production": 1}
        moves = aliases.history(s, model_name)
    assert [(m["action"], m["from_version"], m["to_version"]) for m in moves] == [
        ("rollback", 2, 1), ("rollback", 3, 2), ("promote", 2, 3), ("promote", 1, 2), ("promote", None, 1)]
    assert moves[-2]["actor"] == "ben" and moves[-2]["reason"] == "better"
    assert moves[0]["to_metrics"] == {"test_accuracy": 0.5} and moves[0]["from_metrics"] == {"test_accuracy": 0.6}


def test_a_move_based_on_a_stale_view_is_a_conflict_and_history_stays_complete(db_stack, model_name):
    rt = db_stack.runtime
    make_versions(rt, model_name, 3)
    with rt.session() as s:
        aliases.promote(s, model_name, "production", 1, reason="first")
    # Two people look at the page (production = v1) and click at once.
    with rt.session() as s:
        aliases.promote(s, model_name, "production", 2, reason="ana", expected_version=1)
    with rt.session() as s, pytest.raises(Conflict, match="now points at v2"):
        aliases.promote(s, model_name, "production", 3, reason="ben", expected_version=1)
    with rt.session() as s:
        assert len(aliases.history(s, model_name)) == 2


def test_concurrent_moves_serialise(db_stack, model_name):
    rt = db_stack.runtime
    make_versions(rt, model_name, 3)
    with rt.session() as s:
        aliases.promote(s, model_name, "production", 1, reason="first")
    results: list[str] = []
    barrier = threading.Barrier(2)

    def move(version: int) -> None:
        barrier.wait()
        try:
            with rt.session() as s:
                aliases.promote(s, model_name, "production", version, reason="race", expected_version=1)
            results.append("won")
        except Conflict:
            results.append("conflict")
        except Exception as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=move, args=(v,)) for v in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("won") == 1
    with rt.session() as s:
        assert len(aliases.history(s, model_name)) == 2


def test_bad_moves_are_refused(db_stack, model_name):
    rt = db_stack.runtime
    make_versions(rt, model_name, 1)
    with rt.session() as s, pytest.raises(Invalid) as err:
        aliases.promote(s, model_name, "Prod uction", 1, reason="")
    assert set(err.value.fields) == {"alias", "reason"}
    with rt.session() as s:
        aliases.promote(s, model_name, "production", 1, reason="ship it")
    with rt.session() as s, pytest.raises(Conflict, match="move the alias first"):
        registry.archive_version(s, model_name, 1)


def test_alias_api_and_model_page(db_stack, model_name):
    make_versions(db_stack.runtime, model_name, 2)
    c = db_stack.client
    assert c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1}).status_code == 422
    r = c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 1, "reason": "first"})
    assert r.status_code == 200 and r.get_json()["version"] == 1
    c.post(f"/api/v1/models/{model_name}/aliases/production", json={"version": 2, "reason": "better"})
    stale = c.post(f"/api/v1/models/{model_name}/aliases/production/rollback",
                   json={"reason": "x", "expected_version": 1})
    assert stale.status_code == 409
    back = c.post(f"/api/v1/models/{model_name}/aliases/production/rollback", json={"reason": "bad"})
    assert back.get_json() == {"model_name": model_name, "alias": "production", "version": 1,
                               "from_version": 2, "action": "rollback"}
    body = c.get(f"/api/v1/models/{model_name}/aliases").get_json()
    assert body["aliases"] == {"production": 1} and len(body["history"]) == 3
    page = c.get(f"/models/{model_name}").get_data(as_text=True)
    assert "rollback" in page and "“bad”" in page
    form = c.post(f"/models/{model_name}/aliases", data={"version": "2", "alias": "staging", "reason": ""})
    assert form.status_code == 422 and "required" in form.get_data(as_text=True)
    ok = c.post(f"/models/{model_name}/aliases", data={"version": "2", "alias": "staging", "reason": "try"})
    assert ok.status_code == 303
    assert c.get("/api/v1/models").get_json()["items"][0]["aliases"] == {"production": 1, "staging": 2}


def test_archive_and_promote_of_one_version_at_once_never_leave_an_alias_on_an_archived_version(db_stack):
    """Many rounds of 'promote v2' racing 'archive v2': one of them wins each round, never both."""
    rt = db_stack.runtime
    for round_ in range(8):
        name = f"race-archive-{round_}"
        make_versions(rt, name, 2)
        with rt.session() as s:
            aliases.promote(s, name, "production", 1, reason="first")
        barrier, outcomes = threading.Barrier(2), []

        def promote(name=name, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                with rt.session() as s:
                    aliases.promote(s, name, "production", 2, reason="race")
                outcomes.append("promoted")
            except Conflict:
                outcomes.append("promote refused")

        def archive(name=name, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                with rt.session() as s:
                    registry.archive_version(s, name, 2)
                outcomes.append("archived")
            except Conflict:
                outcomes.append("archive refused")

        threads = [threading.Thread(target=promote), threading.Thread(target=archive)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        with rt.session() as s:
            holder = aliases.resolve_alias(s, name, "production")
            assert not (holder.version == 2 and holder.archived_at is not None), outcomes
        assert sorted(outcomes) in (["archive refused", "promoted"], ["archived", "promote refused"]), outcomes


def test_one_alias_is_read_by_its_name_and_follows_every_move(db_stack, model_name):
    rt, viewer = db_stack.runtime, db_stack.client_as("viewer")
    make_versions(rt, model_name, 2)
    url = f"/api/v1/models/{model_name}/aliases/production"
    missing = viewer.get(url)
    assert missing.status_code == 404 and "no alias 'production'" in missing.get_json()["message"]
    assert "no-such-model" in viewer.get("/api/v1/models/no-such-model/aliases/production").get_json()["message"]
    no_model = viewer.get("/api/v1/models/no-such-model/aliases/production")  # named apart from a missing alias
    assert no_model.status_code == 404 and no_model.get_json()["message"] == "no model 'no-such-model'"
    for version in (2, 1):
        with rt.session() as s:
            aliases.promote(s, model_name, "production", version, reason="move")
        got = viewer.get(url)
        assert got.status_code == 200, got.get_json()
        assert got.get_json() == {"model_name": model_name, "alias": "production", "version": version,
                                  "version_url": f"/api/v1/models/{model_name}/versions/{version}"}
    with rt.session() as s:
        aliases.rollback(s, model_name, "production", reason="back")
    assert viewer.get(url).get_json()["version"] == 2

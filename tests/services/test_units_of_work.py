"""The two kinds of unit of work (app.db): a use-case's transaction, and a web request's read-only unit,
which never writes and on PostgreSQL runs without a transaction (no BEGIN, no ROLLBACK round trips)."""
from __future__ import annotations

import json

import pytest
import redis
from sqlalchemy import create_engine, delete, func, insert, select, text, update

from app.db import ReadOnlyUnit, make_read_session_factory, make_session_factory
from app.models import AuditEntry, utcnow
from app.services import audit, job_reads
from app.services.submission import submit_train_job
from app.services.usecases.submit import submit_training
from tests.support import train_body


def _audit_rows(rt) -> int:
    with rt.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry))


def test_the_read_unit_refuses_a_write_and_nothing_is_stored(db_stack):
    """ORM or Core: on PostgreSQL, where it runs in autocommit, a write that got through would be kept."""
    rt = db_stack.runtime
    before = _audit_rows(rt)
    session = rt.reads()
    try:
        with pytest.raises(ReadOnlyUnit, match="never writes"):  # a service's write (Core, at once)
            audit.record(session, "someone", "job.submit", "/api/v1/jobs/x")
        session.add(AuditEntry(at=utcnow(), action="job.submit", target="orm", detail={}))
        with pytest.raises(ReadOnlyUnit, match="never writes"):  # an ORM object, at its flush
            session.flush()
        session.expunge_all()
        for statement in (insert(AuditEntry).values(at=utcnow(), action="job.submit", target="core", detail={}),
                          update(AuditEntry).values(target="changed"), delete(AuditEntry)):
            with pytest.raises(ReadOnlyUnit, match="never writes"):
                session.execute(statement)
            with pytest.raises(ReadOnlyUnit, match="never writes"):
                session.connection().execute(statement)
        many = [{"at": utcnow(), "action": "job.submit", "target": f"many-{i}", "detail": {}} for i in range(3)]
        with pytest.raises(ReadOnlyUnit, match="never writes"):  # executemany: the dialect's other hook
            session.connection().execute(insert(AuditEntry), many)
        for raw in (lambda: session.execute(text("DELETE FROM audit_log")),  # text(): SQLAlchemy sees no DELETE
                    lambda: session.connection().exec_driver_sql(" delete from audit_log"),
                    lambda: session.connection().execution_options(no_parameters=True)  # the third hook
                    .exec_driver_sql("DELETE FROM audit_log")):
            with pytest.raises(ReadOnlyUnit, match="never writes"):
                raw()
    finally:
        session.close()
    assert _audit_rows(rt) == before
    with rt.session() as s:  # the same pool's write units still write
        audit.record(s, "someone", "job.submit", "/api/v1/jobs/y")
    assert _audit_rows(rt) == before + 1


def test_the_request_connection_and_the_session_on_it_refuse_writes(db_stack):
    """What a web request reads through: ``read_engine``'s bare connection (the token check, a job, an alias)
    and the ORM session put on that same connection for other reads; neither writes."""
    rt = db_stack.runtime
    before = _audit_rows(rt)
    conn = rt.read_engine.connect()
    try:
        for statement in (insert(AuditEntry).values(at=utcnow(), action="job.submit", target="core", detail={}),
                          update(AuditEntry).values(target="changed"), delete(AuditEntry)):
            with pytest.raises(ReadOnlyUnit, match="never writes"):
                conn.execute(statement)
        with pytest.raises(ReadOnlyUnit, match="never writes"):
            conn.exec_driver_sql("DELETE FROM audit_log")
        session = rt.reads(bind=conn)
        try:
            assert session.connection() is conn  # one connection a request, whoever reads
            session.add(AuditEntry(at=utcnow(), action="job.submit", target="orm", detail={}))
            with pytest.raises(ReadOnlyUnit, match="never writes"):
                session.flush()
        finally:
            session.close()
        assert not conn.closed  # the session leaves the request's connection to the request
    finally:
        conn.close()
    assert _audit_rows(rt) == before


def test_a_request_ends_its_session_and_its_connection(db_stack):
    """The guard's token check and a route's ORM read share one pooled connection, handed back at the end."""
    from app.web.http import end_request_session, request_connection, request_session

    pool = db_stack.runtime.engine.pool
    with db_stack.app.test_request_context("/api/v1/jobs"):
        held = pool.checkedout()
        conn = request_connection()
        assert request_connection() is conn and request_session().connection() is conn
        assert request_session() is request_session()
        assert pool.checkedout() == held + 1
        end_request_session()
        assert conn.closed and pool.checkedout() == held


def test_a_request_hands_its_connection_back_when_its_session_fails_to_close(db_stack):
    """The session's close raising (whatever it raises) is logged, and the connection still goes back."""
    from app.web.http import end_request_session, request_connection, request_session

    pool = db_stack.runtime.engine.pool
    with db_stack.app.test_request_context("/api/v1/jobs"):
        held = pool.checkedout()
        conn, session = request_connection(), request_session()

        def broken_close() -> None:
            raise RuntimeError("the session's close failed")

        session.close = broken_close
        end_request_session()  # does not raise: the response is made
        assert conn.closed and pool.checkedout() == held


def test_a_request_read_runs_outside_a_transaction_on_postgresql(db_stack):
    if db_stack.runtime.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: Python's sqlite3 sends no BEGIN before a SELECT anyway")
    for unit in (db_stack.runtime.reads(), db_stack.runtime.read_engine.connect()):  # a session, the bare connection
        try:
            unit.execute(text("SELECT pg_sleep(0.02)"))
            # In a transaction, xact_start is the first statement's start; in autocommit, this statement's.
            same = unit.execute(text("SELECT xact_start = query_start FROM pg_stat_activity "
                                     "WHERE pid = pg_backend_pid()")).scalar_one()
        finally:
            unit.close()
        assert same is True


def test_a_connection_back_from_a_read_is_transactional_again(db_stack):
    """Both factories share one pooled connection here: a write unit after a read still rolls back whole."""
    engine = create_engine(db_stack.settings.database_url, pool_size=1, max_overflow=0)
    try:
        reads, writes = make_read_session_factory(engine), make_session_factory(engine)
        with reads() as r:
            r.execute(text("SELECT 1"))
        s = writes()
        try:
            audit.record(s, "someone", "job.submit", "/api/v1/jobs/rolled-back")
            s.flush()
            s.rollback()
        finally:
            s.close()
        with writes() as s:
            kept = s.scalar(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.target == "/api/v1/jobs/rolled-back"))
        assert kept == 0
    finally:
        engine.dispose()


def test_a_submission_marks_its_queued_jobs_rung_and_rings_them(db_stack, model_name):
    """One UPDATE ... RETURNING marks and names the jobs to ring: a staged kind's waiting job is not rung,
    its queued stage is, and its message is in Redis."""
    rt = db_stack.runtime
    body = {"kind": "hierarchical", "dataset": "pang_lee_polarity", "model_name": model_name,
            "params": {"corpus": "lee_background", "epochs": 1}}
    job, created = submit_training(rt, body)
    assert created and job.status == "waiting" and job.depends_on
    with rt.session() as s:
        marked = dict(s.execute(text("SELECT id, dispatched_at FROM jobs WHERE id IN (:a, :b)"),
                                {"a": job.id, "b": job.depends_on}).all())
    assert marked[job.depends_on] is not None and marked[job.id] is None
    sent = {json.loads(m)["headers"]["id"] for m in redis.Redis.from_url(rt.settings.redis_url).lrange("cpu", 0, -1)}
    assert job.depends_on in sent and job.id not in sent
    with rt.session() as s:
        plain, created_plain = submit_train_job(s, train_body(f"{model_name}-plain"))
        read_back = job_reads.get_job(s, plain.id)
    assert created_plain and plain == read_back  # the view built from the inserted rows is what a read shows

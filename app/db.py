"""Engine and session handling shared by web, worker, CLI and tests.

One rule: whoever opens a ``session_scope`` owns the transaction (commit on
success, rollback on error, close always). Services never commit on their own.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import TextClause


def make_engine(database_url: str) -> Engine:
    """Create an engine; for SQLite, make sure its folder exists and enable WAL.

    WAL plus a busy timeout lets the web process read while a worker writes,
    which is what the embedded default needs with several processes.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    # A database host that drops packets must fail a request in seconds (a 503), not hold a request thread for minutes.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args={"connect_timeout": 5})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded attributes after commit, so results outlive the scope."""
    return sessionmaker(engine, expire_on_commit=False)


class ReadOnlyUnit(RuntimeError):
    """Something tried to write through the request's read-only unit of work (a bug: writes go through a
    use-case)."""


READ_UNIT = "trainyard_unit"  # the execution option that marks the read unit's statements
_WRITES = ("INSERT", "UPDATE", "DELETE")


def _is_text(context) -> bool:
    """A statement SQLAlchemy did not build: a driver-level string, or ``text()``."""
    return context.compiled is None or isinstance(context.compiled.statement, TextClause)


def _refuse_read_unit_writes(_cursor, statement, *rest) -> None:
    """A write through the read unit raises before it reaches the database: an ORM or Core INSERT, UPDATE or
    DELETE, or a ``text()`` or driver-level string that starts with one (a write hidden in a CTE is not
    seen). A dialect hook (its shapes: cursor, statement, [parameters,] context): a writer's statement pays
    one dictionary look-up, where an event on the read unit's engine cost each of its statements ~20 µs
    (bench/RESULTS.md)."""
    context = rest[-1]
    if not context.execution_options.get(READ_UNIT):
        return
    if (context.isinsert or context.isupdate or context.isdelete
            or (_is_text(context) and statement.lstrip()[:6].upper() in _WRITES)):
        raise ReadOnlyUnit(f"the request's read unit of work never writes ({statement.split()[0]}): "
                           "use a use-case's own unit")


def read_only(engine: Engine) -> Engine:
    """The engine as a web request's reads see it: the same pool and dialect, its statements marked with
    ``READ_UNIT`` so that an INSERT, UPDATE or DELETE through it, ORM or Core, raises ``ReadOnlyUnit`` before
    it reaches the database.

    On PostgreSQL it runs in autocommit: at READ COMMITTED every statement takes its own snapshot even
    inside a transaction, so BEGIN and the closing ROLLBACK bought nothing and cost two of a token-checked
    read's four round trips. (Python's sqlite3 never sends BEGIN before a SELECT: on SQLite nothing changes.)
    """
    if engine.get_execution_options().get(READ_UNIT):
        return engine
    options = {"isolation_level": "AUTOCOMMIT"} if engine.dialect.name == "postgresql" else {}
    for hook in ("do_execute", "do_executemany", "do_execute_no_params"):
        if not event.contains(engine, hook, _refuse_read_unit_writes):
            event.listen(engine, hook, _refuse_read_unit_writes)
    return engine.execution_options(**{READ_UNIT: "read"}, **options)


def make_read_session_factory(engine: Engine) -> sessionmaker[Session]:
    """ORM sessions for a web request's reads, on ``read_only(engine)`` (or on one of its connections, given
    as ``bind``): a flush of added, changed or deleted objects raises ``ReadOnlyUnit`` too."""
    factory = sessionmaker(read_only(engine), expire_on_commit=False, autoflush=False)

    @event.listens_for(factory, "before_flush")
    def _refuse_flush(session, _flush_context, _instances) -> None:
        if session.new or session.dirty or session.deleted:
            raise ReadOnlyUnit("the request's read unit of work never writes: use a use-case's own unit")

    return factory


def core(unit: Session | Connection) -> Connection:
    """The connection a read's prebuilt Core statement runs on: the unit itself, or a session's own. A hot
    read takes either, so the web's request can pass its bare connection (a session on top cost about as
    much as the query, bench/RESULTS.md) and anyone holding a session passes that."""
    return unit.connection() if isinstance(unit, Session) else unit


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit if the block succeeds, roll back if it raises."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()

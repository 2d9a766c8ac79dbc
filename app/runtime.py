"""What one process shares: a bag of dependencies (settings, units of work, artifact store, doorbell, clock).

Built once by the app factory (or a worker) and passed around explicitly, never hidden in a
module global. It holds no use-case: those live in ``app.services.usecases`` and take this bag
(it satisfies their ``Deps`` protocol) as their first argument.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import make_engine, make_read_session_factory, make_session_factory, read_only, session_scope
from app.dispatch import Dispatcher
from app.models import utcnow
from app.storage import ArtifactStore, make_store


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ArtifactStore
    dispatcher: Dispatcher
    clock: Callable[[], datetime] = utcnow
    read_engine: Engine = field(init=False)  # a web request's read-only unit: its connection (app.db)
    reads: sessionmaker[Session] = field(init=False)  # and the ORM session a read may put on that connection

    def __post_init__(self) -> None:
        self.read_engine = read_only(self.engine)
        self.reads = make_read_session_factory(self.read_engine)

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.database_url)
        store = make_store(settings.models_store, settings.models_cache)
        return cls(settings, engine, make_session_factory(engine), store, Dispatcher(settings.redis_url))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        with session_scope(self.sessions) as session:
            yield session

"""What one process shares: settings, database, artifact store and the doorbell.

Built once by the app factory (or a worker) and passed around explicitly, never
hidden in a module global.
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.broker import live_message_ids
from app.config import Settings
from app.db import make_engine, make_session_factory, session_scope
from app.dispatch import Dispatcher
from app.domain.errors import Invalid
from app.models import utcnow
from app.services import batch, lifecycle, schedules, uploads, workers
from app.services.idempotency import job_for_key, scoped_key
from app.services.queues import dispatchable, jobs_to_redispatch, mark_dispatched
from app.services.submission import submit_train_job
from app.services.views import DatasetView, JobView
from app.serving.predictor import ModelCache
from app.storage import ArtifactStore, make_store


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: ArtifactStore
    dispatcher: Dispatcher
    models: ModelCache = field(default_factory=ModelCache)  # loaded lazily by the predict API

    @classmethod
    def build(cls, settings: Settings) -> Runtime:
        engine = make_engine(settings.database_url)
        store = make_store(settings.models_store, settings.models_cache)
        return cls(settings, engine, make_session_factory(engine), store, Dispatcher(settings.redis_url))

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.sessions) as session:
            yield session

    def submit_train(self, raw: Mapping[str, Any], *, created_by: str | None = None,
                     idempotency_key: str | None = None) -> tuple[JobView, bool]:
        """Commit the job, then ring the doorbell: never the other way round."""
        return self._submit(submit_train_job, raw, created_by, idempotency_key)

    def submit_infer(self, raw: Mapping[str, Any], *, created_by: str | None = None,
                     idempotency_key: str | None = None) -> tuple[JobView, bool]:
        """A batch-inference job; its model version is resolved now and recorded."""
        def submit(session, raw, **kw):
            return batch.submit_infer_job(session, raw, default_chunk_rows=self.settings.batch_chunk_rows, **kw)

        return self._submit(submit, raw, created_by, idempotency_key)

    def _submit(self, submit, raw: Mapping[str, Any], created_by: str | None,
                idempotency_key: str | None) -> tuple[JobView, bool]:
        idempotency_key = scoped_key(created_by, idempotency_key)
        try:
            with self.session() as session:
                job, created = submit(session, raw, created_by=created_by, idempotency_key=idempotency_key)
                to_ring = dispatchable(session, job.id) if created else []
        except IntegrityError:
            if not idempotency_key:
                raise
            with self.session() as session:  # a concurrent submission with the same key won
                winner = job_for_key(session, idempotency_key)
            if winner is None:
                raise
            return winner, False
        self.ring(to_ring)
        return job, created

    def ring(self, queued: list[tuple[str, str]]) -> list[str]:
        """Send each committed, queued job's message; remember which were sent."""
        rung = [job_id for job_id, queue in queued if self.dispatcher.ring(job_id, queue)]
        if rung:
            with self.session() as session:
                mark_dispatched(session, rung)
        return rung

    def redispatch_stale(self) -> list[str]:
        """Ring again for queued jobs never dispatched or dispatched long ago (time-based fallback)."""
        with self.session() as session:
            due = jobs_to_redispatch(session, timedelta(seconds=self.settings.redispatch_after_s))
        return self.ring(due)

    def reconcile(self) -> dict[str, int]:
        """One pass of the reconciler: take back lost jobs, ring for queued jobs without a message.

        Safe to run from several processes at once: every change is conditional.
        """
        s = self.settings
        with self.session() as session:
            reaped = lifecycle.reap_lost(session, timedelta(seconds=s.lease_s), s.max_attempts)
        for job_id in reaped.failed + reaped.cancelled:
            self.store.remove_tree(f"checkpoints/{job_id}")
            self.store.remove_tree(f"batch/{job_id}")
        rung = self.ring(reaped.requeued)
        with self.session() as session:
            queues = workers.routing_queues(session)  # gpu.N queues of multi-GPU jobs included
        live = live_message_ids(s.redis_url, queues, unacked_grace_s=s.lease_s)
        if live is None:
            rung += self.redispatch_stale()
        else:
            # A grace period covers a message being published right now by a submitter.
            with self.session() as session:
                queued = lifecycle.queued_jobs(session, timedelta(seconds=2))
            missing = [(job_id, queue) for job_id, queue, _ in queued
                       if job_id not in live and job_id not in rung]
            rung += self.ring(missing)
        return dict(requeued=len(reaped.requeued), failed=len(reaped.failed), cancelled=len(reaped.cancelled),
                    rung=len(rung))

    def fire_schedules(self, now: datetime | None = None) -> list[schedules.Fired]:
        """Start (or skip, recorded) every due schedule's run, then settle finished runs.

        Each schedule fires in its own transaction; losing the race for a due time to another
        beat ends in an IntegrityError or a no-op, and is not an error.
        """
        now = now or utcnow()
        with self.session() as session:
            due = schedules.due_schedule_ids(session, now)
        fired = []
        for schedule_id in due:
            try:
                with self.session() as session:
                    result = schedules.fire(session, schedule_id, now)
            except IntegrityError:
                continue
            if result is not None:
                fired.append(result)
                self.ring(result.to_ring)
        with self.session() as session:
            schedules.settle(session)
        return fired

    def upload_dataset(self, upload: uploads.Upload, stream: BinaryIO) -> DatasetView:
        """Stream, validate and record an upload; a failure at any step leaves no file and no row."""
        uploads.check_upload(upload)
        tmp_rel, size, sha256 = uploads.receive(self.store, stream, self.settings.max_upload_bytes)
        try:
            inspection = uploads.inspect_received(self.store, upload, tmp_rel, size)
            for _ in range(5):  # two uploads of one name may race for its next version number
                final_rel: str | None = None
                try:
                    with self.session() as session:
                        view, final_rel = uploads.record_upload(session, self.store, upload, inspection,
                                                                tmp_rel, size, sha256)
                    return view
                except IntegrityError:
                    continue
                except BaseException:
                    if final_rel:  # the row did not commit: take the file back out
                        self.store.delete(final_rel)
                    raise
            raise Invalid({"name": "too many concurrent uploads under this name; try again"})
        finally:
            self.store.delete(tmp_rel)

"""GET /metrics for Prometheus: job, queue and worker figures read from the database at scrape time.

Counting from the database (not from counters in one process) gives every web process
the same answer, whatever process ran the job. Predict latency is the exception: it is
measured where the request is served, so each web process reports its own (scrape each
one, or run one web worker per container).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Blueprint, Flask, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from sqlalchemy import func, select

from app.broker import queue_depths
from app.models import Job, WorkerRow, utcnow
from app.services import workers

DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 43200)
WAIT_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600)
PREDICT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

bp = Blueprint("metrics", __name__)

RECENT_JOBS = 10_000  # the duration and time-in-queue histograms cover this many newest started jobs


class DatabaseCollector:
    """Builds the job, queue and worker families from the database and Redis on every scrape."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def describe(self) -> list:
        return []  # computed at scrape time; nothing to check at registration

    def collect(self) -> Iterable:
        rt = self.app.extensions["trainyard"]
        with rt.session() as session:
            counts = session.execute(select(Job.status, Job.kind, func.count()).group_by(Job.status, Job.kind)).all()
            # The newest RECENT_JOBS started jobs: a scrape costs the same at 100 or 10 million jobs.
            timed = session.execute(select(Job.kind, Job.queue, Job.created_at, Job.started_at, Job.finished_at)
                                    .where(Job.started_at.is_not(None)).order_by(Job.started_at.desc())
                                    .limit(RECENT_JOBS)).all()
            beats = session.execute(select(WorkerRow.name, WorkerRow.heartbeat_at, WorkerRow.pool_state,
                                           WorkerRow.child_starts)
                                    .where(WorkerRow.stopped_at.is_(None),
                                           WorkerRow.heartbeat_at >= utcnow() - workers.SHOW_SILENT_FOR)).all()
            queues = workers.routing_queues(session)
        jobs = GaugeMetricFamily("trainyard_jobs", "Jobs by status and model kind.", labels=["status", "kind"])
        for status, kind, n in counts:
            jobs.add_metric([status, kind], n)
        yield jobs

        depth = GaugeMetricFamily("trainyard_queue_depth", "Messages waiting in the broker per queue.",
                                  labels=["queue"])
        for queue, n in (queue_depths(rt.settings.redis_url, queues) or {}).items():
            depth.add_metric([queue], n)
        yield depth

        durations: dict[str, list[float]] = {}
        waits: dict[str, list[float]] = {}
        for kind, queue, created, started, finished in timed:
            waits.setdefault(queue, []).append(max((started - created).total_seconds(), 0.0))
            if finished is not None:
                durations.setdefault(kind, []).append(max((finished - started).total_seconds(), 0.0))
        yield _histogram("trainyard_job_duration_seconds", "Run time of finished jobs (last attempt), by kind.",
                         "kind", durations, DURATION_BUCKETS)
        yield _histogram("trainyard_job_queue_wait_seconds", "Time from submission to the last claim, by queue.",
                         "queue", waits, WAIT_BUCKETS)

        now = utcnow()
        age = GaugeMetricFamily("trainyard_worker_heartbeat_age_seconds",
                                "Seconds since each running worker's last heartbeat.", labels=["worker"])
        wedged = GaugeMetricFamily("trainyard_worker_wedged",
                                   "1 while a worker has had no job child ready to run jobs for "
                                   "WORKER_WEDGED_AFTER_S (its children die or never load TensorFlow).",
                                   labels=["worker"])
        starts = CounterMetricFamily("trainyard_worker_child_starts",
                                     "Job children each worker has started (a fast climb is a crash loop).",
                                     labels=["worker"])
        for name, at, pool_state, child_starts in beats:
            age.add_metric([name], max((now - at).total_seconds(), 0.0))
            live = now - at <= workers.LIVE_WITHIN  # a worker gone while wedged stops counting (no stale alert)
            wedged.add_metric([name], 1.0 if pool_state == "wedged" and live else 0.0)
            starts.add_metric([name], child_starts or 0)
        yield age
        yield wedged
        yield starts


def _histogram(name: str, doc: str, label: str, values: dict[str, list[float]],
               bounds: Sequence[float]) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=[label])
    for key, observed in sorted(values.items()):
        buckets = [(str(float(b)), sum(1 for v in observed if v <= b)) for b in bounds]
        buckets.append(("+Inf", len(observed)))
        family.add_metric([key], buckets, sum(observed))
    return family


class Metrics:
    """One registry per app (tests build many apps in one process)."""

    def __init__(self, app: Flask) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(DatabaseCollector(app))
        self.predict_latency = Histogram("trainyard_predict_latency_seconds",
                                         "Predict API latency (this web process), by model.", ["model"],
                                         buckets=PREDICT_BUCKETS, registry=self.registry)


def init_app(app: Flask) -> None:
    app.extensions["metrics"] = Metrics(app)
    app.register_blueprint(bp)


def observe_predict(model: str, seconds: float) -> None:
    current_app.extensions["metrics"].predict_latency.labels(model).observe(seconds)


@bp.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(current_app.extensions["metrics"].registry), mimetype=CONTENT_TYPE_LATEST)

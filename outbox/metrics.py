"""The outbox's gauges (core.metrics): work waiting for a worker, and the workers' heartbeat.

Most rows are a reporter's doing, so by docs/adr/0008-metrics-and-the-time-trail.md a row counts only once it
has waited a whole time-trail bucket, and its wait is given in whole buckets. Rows keep no creation time: the
wait is counted in sweeps, as the health page counts it. A healthy service routes every row in seconds, so both
gauges stay at zero however many reports arrive; they move when the workers or the broker are failing.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from core.metrics import Sample, bucket_seconds, register_gauge, whole_buckets
from outbox.models import OutboxMessage, WorkerHeartbeat


def _waited_sweeps() -> int:
    """The sweeps a row must have seen to have waited at least one bucket."""
    sweep = max(1, int(settings.OUTBOX_SWEEP_SECONDS))
    return -(-bucket_seconds() // sweep)


def outbox_waiting() -> Iterator[Sample]:
    rows = (
        OutboxMessage.objects.filter(processed_at__isnull=True, sweeps__gte=_waited_sweeps())
        .values("kind")
        .annotate(n=Count("pk"))
        .order_by("kind")
    )
    for row in rows:
        yield (row["kind"],), row["n"]


def outbox_oldest_waiting() -> Iterator[Sample]:
    longest = OutboxMessage.objects.filter(processed_at__isnull=True).aggregate(sweeps=Max("sweeps"))["sweeps"]
    yield (), whole_buckets((longest or 0) * int(settings.OUTBOX_SWEEP_SECONDS))


def worker_heartbeat_age() -> Iterator[Sample]:
    """Seconds since the last beat of any worker; no sample before a worker has ever beaten (alert on absent)."""
    last = WorkerHeartbeat.objects.aggregate(last=Max("beat_at"))["last"]
    if last is not None:
        yield (), round((timezone.now() - last).total_seconds())


def register_outbox_gauges() -> None:
    register_gauge(
        "outbox_waiting",
        "Outbox rows not yet processed that have waited at least one time-trail bucket, by kind.",
        ("kind",),
        outbox_waiting,
    )
    register_gauge(
        "outbox_oldest_waiting_seconds",
        "How long the longest-waiting unprocessed outbox row has waited, in whole time-trail buckets (0 under one).",
        (),
        outbox_oldest_waiting,
    )
    register_gauge(
        "worker_heartbeat_age_seconds",
        "Seconds since the last heartbeat of any Celery worker.",
        (),
        worker_heartbeat_age,
    )

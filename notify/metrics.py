"""Notify's gauges (core.metrics): notifications that have failed, or are still being retried, by channel.

Many notifications are caused by a reporter (the urgent alert to supervisors when their report is routed), so
by docs/adr/0008-metrics-and-the-time-trail.md one counts only once its tries have spanned a whole time-trail
bucket: a retrying notification from the attempt whose delays before it add up to the bucket, a failed one only
if it got that far (a notification with nobody to send to fails at once and is not counted: that is missing
data, which the staff health page shows, not a delivery failure).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count

from core.metrics import Sample, bucket_seconds, register_gauge
from notify.models import Notification
from notify.services import MAX_ATTEMPTS, retry_delay

COUNTED_STATES = (Notification.State.RETRYING, Notification.State.FAILED)


def attempts_spanning_bucket() -> int:
    """The first attempt count whose retry delays before it add up to at least one bucket (MAX_ATTEMPTS if the
    delays never do: then only notifications that used every try count)."""
    waited = timedelta()
    for attempt in range(1, MAX_ATTEMPTS):
        waited += retry_delay(attempt)
        if waited.total_seconds() >= bucket_seconds():
            return attempt + 1
    return MAX_ATTEMPTS


def notifications_undelivered() -> Iterator[Sample]:
    counts = {
        (row["channel"], row["state"]): row["n"]
        for row in Notification.objects.filter(state__in=COUNTED_STATES, attempts__gte=attempts_spanning_bucket())
        .values("channel", "state")
        .annotate(n=Count("pk"))
    }
    channels = sorted({*Notification.Channel.values, *(channel for channel, _ in counts)})
    for channel in channels:
        for state in COUNTED_STATES:
            yield (channel, state.value), counts.get((channel, state.value), 0)


def register_notify_gauges() -> None:
    register_gauge(
        "notifications_undelivered",
        "Notifications retrying or failed after their tries spanned at least one time-trail bucket, by channel.",
        ("channel", "state"),
        notifications_undelivered,
    )

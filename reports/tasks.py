"""Periodic housekeeping for the public side: expired drafts and throttle counters."""

from celery import shared_task

from core.throttle import throttles_purge
from reports.drafts import drafts_purge


@shared_task(name="reports.tasks.purge_expired")
def purge_expired() -> int:
    return drafts_purge() + throttles_purge()

"""Periodic housekeeping for the public side: expired drafts and throttle counters."""

from celery import shared_task

from reports.drafts import drafts_purge
from reports.services import access_throttles_purge


@shared_task(name="reports.tasks.purge_expired")
def purge_expired() -> int:
    return drafts_purge() + access_throttles_purge()

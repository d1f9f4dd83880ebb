"""Celery tasks of notify: thin shells that call a service. Nothing sensitive in their arguments."""

from celery import shared_task
from django.conf import settings

from core.flood import once_per_window
from notify.services import digests_send


@shared_task(name="notify.tasks.send_digests")
def send_digests() -> int:
    """Every DIGEST_MINUTES (beat): one digest email per recipient per digest window. A second run in the
    same window (a repeated beat) does nothing."""
    if not once_per_window("notify-digests", int(settings.DIGEST_MINUTES) * 60):
        return 0
    return sum(len(round_sent.notification_ids) for round_sent in digests_send())

from celery import shared_task
from django.db import transaction

from oversight.patterns import alerts_store
from oversight.selectors import statistics_prepare, stats_refresh


@shared_task(name="oversight.tasks.refresh_statistics")
def refresh_statistics() -> None:
    # New figures and what they hide become visible together, at the commit: no page ever finds the new
    # figures with nothing stored for them, which would send it back to working a year out itself.
    with transaction.atomic():
        stats_refresh()
        statistics_prepare()
    alerts_store()

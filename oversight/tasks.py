from celery import shared_task
from django.db import transaction

from oversight.detection import detect
from oversight.selectors import statistics_prepare, stats_refresh


@shared_task(name="oversight.tasks.refresh_statistics")
def refresh_statistics() -> None:
    # New figures and what they hide become visible together, at the commit: no page ever finds the new
    # figures with nothing stored for them, which would send it back to working a year out itself.
    with transaction.atomic():
        stats_refresh()
        statistics_prepare()
    # Pattern detection after every refresh (oversight.detection): it judges complete weeks only, so a run
    # adds alerts once a week ends and the organisation pattern as reports come; running again adds nothing.
    detect()

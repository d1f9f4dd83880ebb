from celery import shared_task

from oversight.selectors import stats_refresh


@shared_task(name="oversight.tasks.refresh_statistics")
def refresh_statistics() -> None:
    stats_refresh()

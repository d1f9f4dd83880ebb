"""Celery tasks: thin shells that call a service. Nothing sensitive in their arguments."""

from celery import shared_task

from lifecycle.schedule import retention_apply


@shared_task(name="lifecycle.tasks.apply_retention")
def apply_retention() -> int:
    """The night's retention schedule (lifecycle.schedule); how many cases' content it has destroyed today."""
    run = retention_apply()
    return run.destroyed if run is not None else 0

"""Celery tasks: thin shells that take ids and call a service. Nothing sensitive in their arguments."""

from celery import shared_task

from triage.escalations import deadlines_sweep


@shared_task(name="triage.tasks.sweep_deadlines")
def sweep_deadlines() -> int:
    return deadlines_sweep()

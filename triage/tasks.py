"""Celery tasks: thin shells that take ids and call a service. Nothing sensitive in their arguments."""

from celery import shared_task

from triage.escalations import deadlines_sweep
from triage.paging import paging_sweep


@shared_task(name="triage.tasks.sweep_deadlines")
def sweep_deadlines() -> int:
    # The deadlines' escalations, then the urgent pages by SMS (triage.paging): the same minute's sweep.
    return deadlines_sweep() + paging_sweep()

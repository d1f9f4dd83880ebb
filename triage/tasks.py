"""Celery tasks: thin shells that take ids and call a service. Nothing sensitive in their arguments."""

import socket

from celery import shared_task
from django.utils import timezone

from triage.deadlines import deadlines_sweep
from triage.models import WorkerHeartbeat
from triage.outbox import outbox_sweep
from triage.services import outbox_process


@shared_task(name="triage.tasks.process_outbox")
def process_outbox(outbox_id: int) -> None:
    outbox_process(outbox_id=outbox_id)


@shared_task(name="triage.tasks.sweep_outbox")
def sweep_outbox() -> int:
    return outbox_sweep()


@shared_task(name="triage.tasks.record_heartbeat")
def record_heartbeat() -> None:
    WorkerHeartbeat.objects.update_or_create(name=socket.gethostname(), defaults={"beat_at": timezone.now()})


@shared_task(name="triage.tasks.sweep_deadlines")
def sweep_deadlines() -> int:
    return deadlines_sweep()

"""Celery tasks: thin shells that take ids and call a service. Nothing sensitive in their arguments."""

import socket

from celery import shared_task
from django.utils import timezone

from outbox.models import WorkerHeartbeat
from outbox.services import PROCESS_TASK, outbox_process, outbox_sweep


@shared_task(name=PROCESS_TASK)
def process_outbox(outbox_id: int) -> None:
    outbox_process(outbox_id=outbox_id)


@shared_task(name="outbox.sweep")
def sweep_outbox() -> int:
    return outbox_sweep()


@shared_task(name="outbox.heartbeat")
def record_heartbeat() -> None:
    WorkerHeartbeat.objects.update_or_create(name=socket.gethostname(), defaults={"beat_at": timezone.now()})

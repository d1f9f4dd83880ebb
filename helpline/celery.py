"""The Celery application: Redis broker, ids-only JSON messages, no results, late acks."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpline.settings")

app = Celery("helpline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "sweep-outbox": {
        "task": "triage.tasks.sweep_outbox",
        "schedule": float(os.environ.get("OUTBOX_SWEEP_SECONDS", "30")),
    },
    "sweep-deadlines": {"task": "triage.tasks.sweep_deadlines", "schedule": 60.0},
    "refresh-statistics": {"task": "oversight.tasks.refresh_statistics", "schedule": 300.0},
    "heartbeat": {"task": "triage.tasks.record_heartbeat", "schedule": 15.0},
    "purge-expired": {"task": "reports.tasks.purge_expired", "schedule": crontab(minute="*/10")},
}


@worker_init.connect
def refuse_to_start_without_keys(**kwargs: object) -> None:
    from django.conf import settings

    from reports.checks import refuse_to_start_without_keys as check

    if settings.PRODUCTION:
        check()

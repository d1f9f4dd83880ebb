from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import submit_report
from triage.models import WorkerHeartbeat

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def test_healthz_names_each_dependency(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    WorkerHeartbeat.objects.create(name="w1", beat_at=timezone.now() - timedelta(seconds=5))
    submit_report()
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["ok"] and body["broker"]["ok"] and body["worker"]["ok"]
    assert body["outbox"]["oldest_pending_seconds"] >= 0
    assert body["status"] == "ok"


def test_healthz_is_503_when_the_broker_is_down(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def test_a_stale_worker_heartbeat_shows_in_healthz(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    WorkerHeartbeat.objects.create(name="w1", beat_at=timezone.now() - timedelta(minutes=5))
    body = client.get("/healthz").json()
    assert body["worker"]["ok"] is False
    assert body["status"] == "degraded"

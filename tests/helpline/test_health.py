"""/healthz says one word to anyone; the detail is a staff page for supervisors and administrators."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from helpline import health
from outbox.models import WorkerHeartbeat
from tests.factories import signed_in_as, submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

BROKER_UP = "redis://127.0.0.1:6379/15"
BROKER_DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def test_healthz_is_ok_and_says_nothing_more(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = BROKER_UP
    WorkerHeartbeat.objects.create(name="w1", beat_at=timezone.now() - timedelta(seconds=5))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_answers_a_head_probe_as_load_balancers_send_it(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = BROKER_UP
    WorkerHeartbeat.objects.create(name="w1", beat_at=timezone.now() - timedelta(seconds=5))
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response.content == b""
    assert client.post("/healthz").status_code == 405


def test_a_broker_outage_is_degraded_with_a_200_because_intake_still_works(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = BROKER_DOWN
    WorkerHeartbeat.objects.create(name="w1", beat_at=timezone.now() - timedelta(seconds=5))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded"}
    # And intake does work meanwhile: the report waits in the outbox.
    assert submit_report().report.pk


def test_a_stale_worker_is_degraded_with_a_200(client: Client, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = BROKER_UP
    WorkerHeartbeat.objects.create(name="w1", beat_at=timezone.now() - timedelta(minutes=5))
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "degraded"})


def test_a_database_outage_is_down_with_a_503(client: Client, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = BROKER_UP
    monkeypatch.setattr(health, "database_ok", lambda: False)
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (503, {"status": "down"})


def test_the_staff_health_page_names_each_dependency(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = BROKER_DOWN
    WorkerHeartbeat.objects.create(name="w1", beat_at=timezone.now() - timedelta(minutes=5))
    submit_report()
    client = signed_in_as(User.Role.SUPERVISOR)[0]
    page = client.get("/staff/health")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Degraded" in text and "Not answering: new reports wait in the outbox" in text
    assert "Not working" in text
    body = client.get("/staff/health", {"format": "json"}).json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True and body["broker"]["ok"] is False and body["worker"]["ok"] is False
    assert body["worker"]["last_heartbeat_seconds_ago"] >= 300
    assert body["outbox"]["pending"] >= 1 and body["outbox"]["longest_wait_sweeps"] >= 0


def test_administrators_see_the_health_page_too(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CELERY_BROKER_URL = BROKER_UP
    assert signed_in_as(User.Role.ADMINISTRATOR)[0].get("/staff/health").status_code == 200


@pytest.mark.parametrize("role", [User.Role.CALL_HANDLER, User.Role.AUTHORITY_OFFICER, User.Role.PARTNERSHIP])
def test_other_staff_are_refused_the_health_page(role: str) -> None:
    assert signed_in_as(role)[0].get("/staff/health").status_code == 403


def test_the_health_page_needs_a_signed_in_user(client: Client) -> None:
    response = client.get("/staff/health")
    assert response.status_code == 302 and response["Location"].startswith("/staff/sign-in")

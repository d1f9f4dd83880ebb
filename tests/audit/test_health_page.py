"""A break the checkpointer found is in front of supervisors and administrators on /staff/health until one acts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from audit.tasks import checkpoint as checkpoint_task
from tests.audit.conftest import record, superuser_sql
from tests.factories import sign_in, staff_with_mfa

pytestmark = pytest.mark.django_db


def supervisor_page() -> tuple[str, dict[str, Any]]:
    user, _ = staff_with_mfa("health-audit", role=User.Role.SUPERVISOR)
    client = Client()
    sign_in(client, user)
    page = client.get("/staff/health")
    assert page.status_code == 200
    return page.content.decode(), client.get("/staff/health", {"format": "json"}).json()


def test_an_intact_trail_shows_no_alert() -> None:
    record(3)
    checkpoint_task()
    text, body = supervisor_page()
    assert "The audit trail is broken" not in text
    assert "No alert: every checkpoint extends the last" in text
    assert body["audit"] == {"ok": True, "alerts": []}


def test_a_deleted_tail_is_shown_as_a_broken_trail_waiting_for_someone(settings: Any) -> None:
    settings.AUDIT_ALERT_REPEAT_SECONDS = 0
    events = record(4)
    checkpoint_task()
    superuser_sql("DELETE FROM audit_event WHERE id > %s", [events[1].pk])
    checkpoint_task()

    text, body = supervisor_page()
    assert "The audit trail is broken" in text
    assert "waiting for someone to act" in text
    assert body["audit"]["ok"] is False and len(body["audit"]["alerts"]) == 1

"""A break the checkpointer finds stays in front of the supervisors and administrators until one of them acts:
on /staff/health (audit.alerts.alerts_health) and by email, repeated until it is acknowledged."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.alerts import alerts_health
from audit.models import AuditAlert, AuditEvent
from audit.tasks import checkpoint as checkpoint_task
from tests.audit.conftest import record, superuser_sql
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def break_the_trail() -> None:
    events = record(4)
    checkpoint_task()
    superuser_sql("DELETE FROM audit_event WHERE id > %s", [events[1].pk])
    checkpoint_task()


def test_the_health_summary_is_ok_without_alerts() -> None:
    record(2)
    checkpoint_task()
    assert alerts_health() == {"ok": True, "alerts": []}


def test_the_health_summary_shows_a_break_until_it_is_acknowledged(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.AUDIT_ALERT_REPEAT_SECONDS = 0  # every run is due
    supervisor = staff_user("supervisor", role="supervisor")
    break_the_trail()
    health = alerts_health()
    assert health["ok"] is False
    (alert,) = health["alerts"]
    assert "is missing" in alert["reason"] and not alert["acknowledged"] and alert["still_found"]
    assert len(mail.outbox) == 1

    call_command("audit_alert_acknowledge", "supervisor")
    assert "Acknowledged audit alert" in capsys.readouterr().out

    checkpoint_task()  # still broken: still refused and still shown, but nobody is emailed again
    health = alerts_health()
    assert health["ok"] is True
    assert [(a["acknowledged"], a["still_found"]) for a in health["alerts"]] == [(True, True)]
    assert len(mail.outbox) == 1
    acknowledged = AuditAlert.objects.get()
    assert acknowledged.acknowledged_by == supervisor
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None and event.kind == "audit_alert_acknowledged" and event.actor == supervisor


def test_only_a_supervisor_or_administrator_can_acknowledge() -> None:
    staff_user("handler", role="call_handler")
    break_the_trail()
    with pytest.raises(CommandError, match="only an active supervisor or administrator"):
        call_command("audit_alert_acknowledge", "handler")
    assert AuditAlert.objects.get().acknowledged_at is None


def test_an_alert_with_nobody_to_email_is_still_raised_and_tried_again(settings: Any) -> None:
    settings.AUDIT_ALERT_REPEAT_SECONDS = 3600
    break_the_trail()
    alert = AuditAlert.objects.get()
    assert alert.emailed_at is None and not mail.outbox
    staff_user("admin", role="administrator")
    checkpoint_task()
    assert [message.to for message in mail.outbox] == [["admin@helpline.test"]]

"""Issue 21, point 1: a deleted tail or a TRUNCATE must not pass once the checkpointer has run again.

Each attack is made as a database superuser with the triggers off (this test's connection is one), then the
checkpoint task is called at once, as beat would within an interval. Before the fix the task signed the
shorter head it found and verify_audit, which compared only the latest checkpoint, said "intact".
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core import mail

from audit import keys
from audit.checkpoints import TrailBroken, checkpoint_write
from audit.models import AuditAlert, AuditEvent
from audit.tasks import checkpoint as checkpoint_task
from tests.audit.conftest import (
    record,
    rewrite_chain_from,
    sink_lines,
    superuser_sql,
    superuser_truncate,
    verify_fails,
)
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def people_to_alert() -> None:
    staff_user("supervisor", role="supervisor")
    staff_user("admin", role="administrator")
    staff_user("handler", role="call_handler")
    staff_user("left", role="supervisor", is_active=False)


def kinds(settings: Any) -> list[str]:
    return [json.loads(line).get("kind", "checkpoint") for line in sink_lines(settings)]


def refused(settings: Any, lines_before: int) -> dict[str, Any]:
    """The task signed nothing new: the one line it added is a break. Returns that line."""
    lines = sink_lines(settings)
    assert len(lines) == lines_before + 1, "the task should add exactly one line, a break"
    added = json.loads(lines[-1])
    assert added["kind"] == "break" and added["reason"]
    return added


@pytest.mark.parametrize("then", ["nothing", "new events"])
def test_a_deleted_tail_already_checkpointed_is_not_signed_over(
    then: str, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = record(8)
    checkpoint_task()
    kept = events[4]
    superuser_sql("DELETE FROM audit_event WHERE id > %s", [kept.pk])
    verify_fails(capsys)  # correctly, before the checkpointer runs again
    if then == "new events":
        record(2)  # the service goes on writing onto the shortened chain

    checkpoint_task()

    added = refused(settings, 1)
    assert f"event {events[-1].pk}, named by checkpoint line 1, is missing" in added["reason"]
    err = verify_fails(capsys)
    assert f"event {events[-1].pk}: named by checkpoint line 1" in err
    assert "checkpoint line 2: the checkpointer refused to sign" in err


@pytest.mark.parametrize("then", ["nothing", "one new event"])
def test_a_truncated_trail_is_not_signed_over(then: str, settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    events = record(3)
    checkpoint_task()
    superuser_truncate()
    if then == "one new event":
        record(1)

    checkpoint_task()

    added = refused(settings, 1)
    if then == "nothing":
        assert "there are no events, but checkpoint line 1 counted 3" in added["reason"]
    else:
        assert f"event {events[-1].pk}, named by checkpoint line 1, is missing" in added["reason"]
    err = verify_fails(capsys)
    assert f"event {events[-1].pk}: named by checkpoint line 1" in err
    assert "The audit trail is intact" not in capsys.readouterr().out


def test_an_event_removed_after_the_previous_checkpoint_breaks_a_link(settings: Any) -> None:
    events = record(3)
    checkpoint_write()
    events += record(3)
    superuser_sql("DELETE FROM audit_event WHERE id = %s", [events[4].pk])  # the count alone would still add up
    with pytest.raises(TrailBroken, match=f"event {events[5].pk} does not link to the event before it"):
        checkpoint_write()
    assert kinds(settings) == ["checkpoint", "break"]


def test_an_event_removed_before_the_previous_checkpoint_changes_the_count(settings: Any) -> None:
    events = record(4)
    checkpoint_write()
    record(1)
    superuser_sql("DELETE FROM audit_event WHERE id = %s", [events[1].pk])  # the links from the checkpoint hold
    with pytest.raises(TrailBroken, match="the table has 4 events up to event .* checkpoint line 1 counted 4"):
        checkpoint_write()
    assert kinds(settings) == ["checkpoint", "break"]


def test_the_checkpointed_event_rechained_is_not_signed_over(settings: Any, audit_keys: dict[str, str]) -> None:
    events = record(3)
    checkpoint_write()
    rewrite_chain_from(events[0].pk, {"detail": {"n": 99}}, version=3, mac_key=audit_keys["mac"])
    with pytest.raises(TrailBroken, match=f"event {events[-1].pk}'s hash differs from checkpoint line 1's"):
        checkpoint_write()


def test_a_trail_that_extends_its_checkpoint_is_signed_without_the_mac_key(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checkpointer holds the signing key only (docs/deploy.md): its checks need no MAC."""

    def no_mac_key() -> bytes:
        raise AssertionError("the checkpointer must not need the MAC key")

    record(2)
    monkeypatch.setattr(keys, "mac_key", no_mac_key)
    checkpoint_task()
    monkeypatch.undo()
    record(3)
    monkeypatch.setattr(keys, "mac_key", no_mac_key)
    checkpoint_task()
    assert [json.loads(line)["event_count"] for line in sink_lines(settings)] == [2, 5]
    assert kinds(settings) == ["checkpoint", "checkpoint"]


def test_a_break_is_recorded_once_and_alerts_supervisors_and_administrators_until_acknowledged(
    settings: Any,
) -> None:
    settings.AUDIT_ALERT_REPEAT_SECONDS = 3600
    events = record(5)
    checkpoint_task()
    superuser_sql("DELETE FROM audit_event WHERE id > %s", [events[2].pk])

    checkpoint_task()
    checkpoint_task()  # still broken at the next run: no second line, no second email yet

    assert kinds(settings) == ["checkpoint", "break"]
    alert = AuditAlert.objects.get()
    assert alert.acknowledged_at is None and "is missing" in alert.reason
    assert sorted(message.to[0] for message in mail.outbox) == ["admin@helpline.test", "supervisor@helpline.test"]
    assert all("/staff/health" in message.body for message in mail.outbox)

    settings.AUDIT_ALERT_REPEAT_SECONDS = 0  # an hour has passed: nobody has acted, so they are told again
    checkpoint_task()
    assert len(mail.outbox) == 4
    assert AuditAlert.objects.count() == 1


def test_a_deleted_alert_row_is_raised_again(settings: Any) -> None:
    events = record(3)
    checkpoint_task()
    superuser_sql("DELETE FROM audit_event WHERE id = %s", [events[-1].pk])
    checkpoint_task()
    superuser_sql("DELETE FROM audit_alert", [])  # whoever removed the events hides the alert too
    mail.outbox.clear()
    checkpoint_task()
    assert AuditAlert.objects.count() == 1
    assert len(mail.outbox) == 2
    assert kinds(settings) == ["checkpoint", "break"]  # the sink already says so


def test_events_written_after_the_checkpoint_are_still_signed(settings: Any) -> None:
    record(2)
    checkpoint_task()
    record(2)
    checkpoint_task()
    record(1)
    checkpoint_task()
    assert kinds(settings) == ["checkpoint"] * 3
    assert not AuditAlert.objects.exists() and not mail.outbox
    assert AuditEvent.objects.count() == 5

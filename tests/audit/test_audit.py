import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from audit.trail import audit_verify, event_record
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def events() -> list[AuditEvent]:
    actor = staff_user("handler", role="call_handler")
    return [event_record(kind="content_viewed", actor=actor, detail={"n": n}) for n in range(5)]


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET kind = 'nothing' WHERE id = %s",
        "DELETE FROM audit_event WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_or_remove_an_audit_event(events: list[AuditEvent], statement: str) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [events[2].pk])
    assert AuditEvent.objects.count() == 5


def test_an_intact_chain_verifies(events: list[AuditEvent], capsys: pytest.CaptureFixture[str]) -> None:
    assert audit_verify() == []
    call_command("verify_audit")
    assert "5 events verified" in capsys.readouterr().out


def bypass_trigger(sql: str, params: list[object]) -> None:
    """What a database superuser could do: switch triggers off and edit rows."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = 'replica'")  # superuser only: triggers off
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = 'origin'")


def test_verify_audit_detects_a_removed_event(events: list[AuditEvent]) -> None:
    bypass_trigger("DELETE FROM audit_event WHERE id = %s", [events[2].pk])
    breaks = audit_verify()
    assert [b.event_id for b in breaks] == [events[3].pk]
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit")


def test_verify_audit_detects_an_altered_event(events: list[AuditEvent]) -> None:
    bypass_trigger("UPDATE audit_event SET detail = '{\"n\": 99}' WHERE id = %s", [events[1].pk])
    assert [b.event_id for b in audit_verify()] == [events[1].pk]

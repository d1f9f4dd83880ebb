"""Issue 21, point 2: the keyed chain cannot be downgraded.

Before the fix, a trail rewritten as unkeyed (version 2) from its first event, with one event edited, passed
once a checkpoint was taken: with no keyed row left, nothing said a keyed chain had ever begun. Now the legacy
unkeyed chain ends at its carry-over point, recorded by migration 0003 and signed by the first checkpoint;
any unkeyed row outside it is a break, and a trail that never had legacy rows accepts none.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction

from audit.checkpoints import checkpoint_verify
from audit.identity import CarryOver, trail_identity
from audit.models import AuditEvent
from audit.tasks import checkpoint as checkpoint_task
from audit.trail import GENESIS_HASH, OUTSIDE_CARRY_OVER, audit_verify
from tests.audit.conftest import (
    carry_over_as_migrated,
    insert_unkeyed,
    record,
    rewrite_chain_from,
    sink_lines,
    superuser_sql,
    verify_fails,
)

pytestmark = pytest.mark.django_db


def last_line(settings: Any) -> dict[str, Any]:
    return dict(json.loads(sink_lines(settings)[-1]))


@pytest.mark.parametrize("earlier_checkpoint", [False, True], ids=["no-checkpoint-before", "checkpoint-before"])
def test_a_keyed_trail_rewritten_unkeyed_from_its_first_event_fails_after_the_next_checkpoint(
    earlier_checkpoint: bool, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = record(4)
    if earlier_checkpoint:
        checkpoint_task()
    rewrite_chain_from(events[0].pk, {"detail": {"n": 99}}, version=2, edit_id=events[2].pk)

    checkpoint_task()

    assert trail_identity().carry_over is None  # this database never had unkeyed rows: it accepts none
    assert [(b.event_id, b.reason) for b in audit_verify()] == [(e.pk, OUTSIDE_CARRY_OVER) for e in events]
    broken = last_line(settings)
    assert broken["kind"] == "break"
    if not earlier_checkpoint:
        assert f"event {events[0].pk} is unkeyed (version 2) outside the carried-over legacy chain" in broken["reason"]
    err = verify_fails(capsys)
    assert f"event {events[0].pk}: {OUTSIDE_CARRY_OVER}" in err


def legacy_then_keyed() -> tuple[list[AuditEvent], list[AuditEvent]]:
    """A database from before the keyed chain: two unkeyed rows, the migration's record, then keyed rows."""
    carried = insert_unkeyed(1, GENESIS_HASH, "case_referred", subject_kind="case", subject_id=731)
    plain = insert_unkeyed(2, carried.row_hash, "signed_in")
    carry_over_as_migrated()
    return [carried, plain], record(3)


@pytest.mark.parametrize("earlier_checkpoint", [False, True], ids=["no-checkpoint-before", "checkpoint-before"])
def test_a_legacy_trail_rewritten_unkeyed_from_its_first_event_fails_after_the_next_checkpoint(
    earlier_checkpoint: bool, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy, keyed = legacy_then_keyed()
    if earlier_checkpoint:
        checkpoint_task()
    rewrite_chain_from(legacy[0].pk, {"detail": {"edited": True}}, version=2, edit_id=legacy[1].pk)

    checkpoint_task()

    breaks = audit_verify()
    assert [b.event_id for b in breaks] == [legacy[1].pk] + [e.pk for e in keyed]
    assert "differs from its recorded carry-over point" in breaks[0].reason
    assert all(b.reason == OUTSIDE_CARRY_OVER for b in breaks[1:])
    assert last_line(settings)["kind"] == "break"
    verify_fails(capsys)


def test_a_legacy_only_trail_accepts_no_unkeyed_row_after_its_recorded_head(settings: Any) -> None:
    """As a database just migrated from the case-only trail is (tests/test_migrations_carry_over.py)."""
    carried = insert_unkeyed(1, GENESIS_HASH, "case_referred", subject_kind="case", subject_id=731)
    carry_over_as_migrated()
    checkpoint_task()
    appended = insert_unkeyed(2, carried.row_hash, "signed_in")  # written without the key
    assert [(b.event_id, b.reason) for b in audit_verify()] == [(appended.pk, OUTSIDE_CARRY_OVER)]
    checkpoint_task()
    assert f"event {appended.pk} is unkeyed (version 2)" in last_line(settings)["reason"]


def test_a_legacy_only_trail_rewritten_from_its_first_event_is_a_break() -> None:
    carried = insert_unkeyed(1, GENESIS_HASH, "case_referred", subject_kind="case", subject_id=731)
    head = insert_unkeyed(2, carried.row_hash, "signed_in")
    carry_over_as_migrated()
    rewrite_chain_from(carried.pk, {"detail": {"edited": True}}, version=2)
    # Each rewritten row is a good version 2 row, but the legacy chain no longer ends at its recorded head.
    breaks = audit_verify()
    assert [b.event_id for b in breaks] == [head.pk]
    assert "differs from its recorded carry-over point" in breaks[0].reason


def test_the_carry_over_point_is_signed_by_the_first_checkpoint_and_a_rewritten_record_is_a_break(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    legacy, keyed = legacy_then_keyed()
    checkpoint_task()
    line = last_line(settings)
    assert (line["carry_over_event_id"], line["carry_over_hash"]) == (legacy[-1].pk, legacy[-1].row_hash)

    # Everything rewritten unkeyed, and the record moved to the new head, so the chain alone holds.
    rewrite_chain_from(legacy[0].pk, {"detail": {"edited": True}}, version=2)
    superuser_sql(
        "UPDATE audit_trail SET (carry_over_event_id, carry_over_hash) = (SELECT id, row_hash FROM audit_event"
        " ORDER BY id DESC LIMIT 1)",
        [],
    )
    assert audit_verify() == []

    checkpoint_task()
    assert "carry-over point differs from the one checkpoint line 1 signed" in last_line(settings)["reason"]
    err = verify_fails(capsys)
    assert "trail: the trail record's carry-over point differs from the one checkpoint line 1 signed" in err
    assert "checkpoint line 2: its carry-over point differs from the one line 1 signed" in err


def test_the_migration_records_the_last_unkeyed_row_before_the_keyed_chain() -> None:
    assert trail_identity().carry_over is None  # the test database was migrated with no events at all
    legacy, keyed = legacy_then_keyed()
    forged = insert_unkeyed(2, keyed[-1].row_hash, "signed_in")
    carry_over_as_migrated()
    assert trail_identity().carry_over == CarryOver(legacy[-1].pk, legacy[-1].row_hash)
    assert [b.event_id for b in audit_verify()] == [forged.pk]
    assert checkpoint_verify().problems == []  # no checkpoint yet: the chain alone speaks


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_trail SET trail_id = gen_random_uuid()",
        "UPDATE audit_trail SET carry_over_event_id = 1, carry_over_hash = repeat('a', 64)",
        "DELETE FROM audit_trail",
        "TRUNCATE audit_trail",
        "INSERT INTO audit_trail (trail_id, recorded_at) VALUES (gen_random_uuid(), now())",
    ],
)
def test_the_trail_record_is_fixed(statement: str) -> None:
    with pytest.raises(psycopg.Error), transaction.atomic(), connection.cursor() as cursor:
        cursor.cursor.execute(statement)


def test_the_checkpointer_marks_when_it_first_saw_events_once() -> None:
    assert trail_identity().first_seen_at is None
    record(1)
    checkpoint_task()
    first = trail_identity().first_seen_at
    assert first is not None
    checkpoint_task()
    assert trail_identity().first_seen_at == first
    with pytest.raises(psycopg.Error), transaction.atomic(), connection.cursor() as cursor:
        cursor.cursor.execute("UPDATE audit_trail SET first_seen_at = now() + interval '1 day'")

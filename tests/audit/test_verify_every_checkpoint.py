"""Issue 21, point 1, as verify_audit sees it: every checkpoint of the trail is checked against the table in one
ordered pass, the sink's own lines against each other, lines are matched to this trail by its id, and a trail
the checkpointer has seen without any checkpoint for longer than an interval is a failure."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit import checkpoints, keys
from audit.checkpoints import checkpoint_verify
from audit.identity import trail_identity
from audit.models import AuditEvent
from audit.tasks import checkpoint as checkpoint_task
from audit.trail import event_record
from tests.audit.conftest import (
    record,
    sink_lines,
    superuser_sql,
    superuser_truncate,
    verify_fails,
    verify_passes,
)

pytestmark = pytest.mark.django_db


def database_name() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        return str(cursor.fetchone()[0])


def sign_whatever_head(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkpointer as it was before issue 21: it signed whatever head it found."""
    monkeypatch.setattr(checkpoints, "_refusal", lambda *args, **kwargs: None, raising=False)


def test_every_checkpoint_is_checked_not_only_the_latest(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    events = record(8)
    checkpoint_task()
    superuser_sql("DELETE FROM audit_event WHERE id > %s", [events[4].pk])
    sign_whatever_head(monkeypatch)
    checkpoint_task()  # a checkpoint of the shorter head is now the latest, and it matches the table

    err = verify_fails(capsys)
    assert f"event {events[-1].pk}: named by checkpoint line 1" in err
    assert "checkpoint line 1: counted 8 events up to event" in err
    assert "checkpoint line 2: counts 5 events up to event" in err and "fewer than line 1's 8" in err


def test_a_line_removed_from_the_middle_of_the_sink_is_detected(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(3):
        record(1)
        checkpoint_task()
    path = Path(settings.AUDIT_CHECKPOINT_PATH)
    first, _, third = path.read_text().splitlines()
    path.write_text(f"{first}\n{third}\n")
    assert "checkpoint line 2: does not follow the line of this trail before it" in verify_fails(capsys)


@pytest.mark.parametrize("checkpoints_taken", [2, 12])
def test_the_table_is_read_once_however_many_checkpoints(checkpoints_taken: int) -> None:
    for _ in range(checkpoints_taken):
        record(2)
        checkpoint_task()
    with CaptureQueriesContext(connection) as queries:
        report = checkpoint_verify()
    assert report.problems == [] and report.checked == checkpoints_taken
    reads = [q["sql"] for q in queries.captured_queries if "audit_event" in q["sql"]]
    assert len(reads) == 1, reads  # one ordered pass, not a count per checkpoint


def test_a_truncate_does_not_reset_the_trail_id() -> None:
    record(2)
    checkpoint_task()
    before = trail_identity()
    superuser_truncate()
    record(1)
    assert trail_identity() == before


@pytest.mark.parametrize("record_change", ["removed", "replaced"])
def test_a_trail_record_removed_or_replaced_while_the_sink_has_checkpoints_is_a_break(
    record_change: str, settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    record(3)
    checkpoint_task()
    superuser_truncate()
    superuser_sql("DELETE FROM audit_trail", [])
    if record_change == "replaced":
        superuser_sql("INSERT INTO audit_trail (trail_id, recorded_at) VALUES (gen_random_uuid(), now())", [])
    record(1)

    checkpoint_task()

    added = json.loads(sink_lines(settings)[-1])
    assert added["kind"] == "break"
    err = verify_fails(capsys)
    if record_change == "removed":
        assert "no trail record" in added["reason"]
        assert "trail: the sink has 1 line(s) of this database, but it has no trail record" in err
    else:
        assert "not this database's trail" in added["reason"]
        assert "checkpoint line 1: a line of this database under trail" in err


def test_lines_of_this_database_name_under_another_trail_are_never_matched(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sink written for another database of the same name (a staging copy, a re-created database)."""
    record(2)
    checkpoint_task()
    line = json.loads(sink_lines(settings)[0])
    signing = keys.signing_key()
    foreign = checkpoints.Checkpoint(**{**line, "trail_id": "another-trail", "signature": ""})
    foreign = checkpoints.Checkpoint(
        **{**foreign.__dict__, "signature": keys.b64(signing.sign(foreign.signed_bytes()).signature)}
    )
    Path(settings.AUDIT_CHECKPOINT_PATH).write_text(foreign.to_line() + "\n")
    err = verify_fails(capsys)
    assert "checkpoint line 1: a line of this database under trail another-trail" in err


def test_a_trail_seen_by_the_checkpointer_without_a_checkpoint_for_an_interval_is_a_failure(
    settings: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.AUDIT_CHECKPOINT_SECONDS = 300
    record(2)
    checkpoint_task()
    settings.AUDIT_CHECKPOINT_PATH = str(tmp_path / "another-sink.jsonl")  # its lines gone, or the wrong sink
    out = verify_passes(capsys)
    assert "No checkpoint yet" in out and "The checkpointer first saw events at" in out
    with time_machine.travel(timezone.now() + timedelta(seconds=301)):
        err = verify_fails(capsys)
    assert "checkpoints: the checkpointer first saw this trail's events at" in err


def test_events_the_checkpointer_has_not_seen_are_not_yet_checkpointed_however_old_their_times(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Event times say nothing about when the checkpointer could have run: reporters' are kept to the day."""
    settings.AUDIT_CHECKPOINT_SECONDS = 300
    event_record(kind="report_submitted", at=timezone.now() - timedelta(days=30))
    out = verify_passes(capsys)
    assert "No checkpoint yet" in out and "first saw" not in out


def legacy_line(event: AuditEvent, count: int) -> str:
    """A checkpoint line as the code before trail ids wrote it (format /1)."""
    signing = keys.signing_key()
    fields = {
        "format": "helpline-audit-checkpoint/1",
        "database": database_name(),
        "last_event_id": event.pk,
        "row_hash": event.row_hash,
        "event_count": count,
        "created_at": "2026-01-01T00:00:00+00:00",
        "key_id": keys.key_id(signing.verify_key),
    }
    signed = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    line = {**fields, "signature": keys.b64(signing.sign(signed).signature)}
    return json.dumps(line, sort_keys=True, separators=(",", ":"))


def test_legacy_lines_are_read_as_this_databases_checkpoints_and_carried_on(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = record(3)
    Path(settings.AUDIT_CHECKPOINT_PATH).write_text(legacy_line(events[-1], 3) + "\n")
    out = verify_passes(capsys)
    assert "1 of them are legacy lines (format /1" in out
    record(2)
    checkpoint_task()
    first, second = sink_lines(settings)
    assert json.loads(second)["previous_line"] == checkpoints.line_digest(first)
    out = verify_passes(capsys)
    assert "All 2 checkpoint(s) of trail" in out and "1 of them are legacy lines" in out


def test_a_legacy_line_the_trail_no_longer_extends_is_a_break_not_a_crash(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    events = record(3)
    Path(settings.AUDIT_CHECKPOINT_PATH).write_text(legacy_line(events[-1], 3) + "\n")
    superuser_sql("DELETE FROM audit_event WHERE id = %s", [events[-1].pk])
    checkpoint_task()
    assert json.loads(sink_lines(settings)[-1])["kind"] == "break"
    assert f"event {events[-1].pk}: named by checkpoint line 1" in verify_fails(capsys)

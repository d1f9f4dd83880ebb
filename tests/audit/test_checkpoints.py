"""Signed checkpoints of the chain's head: what they hold, and what verify_audit catches with them."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from nacl.signing import SigningKey, VerifyKey

from audit import keys
from audit.checkpoints import Checkpoint, checkpoint_verify, checkpoint_write
from audit.identity import trail_identity
from audit.models import AuditEvent
from audit.tasks import checkpoint as checkpoint_task
from audit.trail import audit_verify
from tests.audit.conftest import record, rewrite_chain_from, sink_lines, superuser_sql, verify_fails

pytestmark = pytest.mark.django_db

SIGNED = (
    "carry_over_event_id",
    "carry_over_hash",
    "created_at",
    "database",
    "event_count",
    "format",
    "key_id",
    "kind",
    "last_event_id",
    "previous_line",
    "reason",
    "row_hash",
    "trail_id",
)


def database_name() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        return str(cursor.fetchone()[0])


def test_a_checkpoint_is_one_signed_json_line_naming_the_head(settings: Any, audit_keys: dict[str, str]) -> None:
    events = record(3)
    call_command("audit_checkpoint")
    (line,) = sink_lines(settings)
    data = json.loads(line)
    assert data["last_event_id"] == events[-1].pk
    assert data["row_hash"] == events[-1].row_hash
    assert data["event_count"] == 3
    assert data["database"] == database_name()
    assert data["created_at"].endswith("+00:00")
    assert (data["format"], data["kind"], data["reason"]) == ("helpline-audit-checkpoint/2", "checkpoint", "")
    # The trail it belongs to, and the carry-over point (none: this database never had unkeyed events).
    identity = trail_identity()
    assert identity is not None and data["trail_id"] == identity.trail_id
    assert (data["carry_over_event_id"], data["carry_over_hash"]) == (None, "")
    assert data["previous_line"] == ""  # the trail's first line
    verify = VerifyKey(base64.b64decode(audit_keys["verify"]))
    assert data["key_id"] == keys.key_id(verify)
    # The signature covers the canonical JSON of every other field (re-derived here, not imported).
    signed = json.dumps({name: data[name] for name in SIGNED}, sort_keys=True, separators=(",", ":"))
    verify.verify(signed.encode(), base64.b64decode(data["signature"]))


def test_checkpoints_are_appended_and_fsynced(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        synced.append(descriptor)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", fsync)
    record(1)
    first = checkpoint_write()
    record(1)
    second = checkpoint_write()
    assert first and second
    lines = sink_lines(settings)
    assert [json.loads(line)["event_count"] for line in lines] == [1, 2]
    # Each line links to the one before it, so a line removed from the middle shows.
    assert json.loads(lines[1])["previous_line"] == hashlib.sha256(lines[0].encode()).hexdigest()
    assert len(synced) >= 2  # each append (and the new file's directory)


def test_a_line_cut_short_by_a_crash_does_not_swallow_the_next(settings: Any) -> None:
    Path(settings.AUDIT_CHECKPOINT_PATH).write_text('{"format": "helpline-audit-ch')
    record(1)
    written = checkpoint_write()
    lines = sink_lines(settings)
    assert len(lines) == 2 and Checkpoint.from_line(lines[1]) == written


def test_the_beat_task_writes_a_checkpoint(settings: Any) -> None:
    assert settings.CELERY_BEAT_SCHEDULE["audit-checkpoint"]["task"] == checkpoint_task.name
    assert checkpoint_task.name == "audit.tasks.checkpoint"
    events = record(2)
    checkpoint_task()
    (line,) = sink_lines(settings)
    assert json.loads(line)["last_event_id"] == events[-1].pk


def test_there_is_nothing_to_checkpoint_before_the_first_event(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not AuditEvent.objects.exists()
    call_command("audit_checkpoint")
    assert "nothing to checkpoint" in capsys.readouterr().out
    assert not Path(settings.AUDIT_CHECKPOINT_PATH).exists()


def test_no_checkpoint_yet_is_said_and_is_not_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    record(2)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "The audit trail is intact: 2 events verified." in out
    assert "No checkpoint yet" in out


def test_an_intact_trail_matches_its_latest_checkpoint(capsys: pytest.CaptureFixture[str]) -> None:
    record(3)
    checkpoint_write()
    events = record(2)
    checkpoint_write()
    record(1)
    call_command("verify_audit")
    out = capsys.readouterr().out
    assert "The audit trail is intact: 6 events verified." in out
    assert f"The latest checkpoint holds: event {events[-1].pk}, 5 events" in out
    assert "line 2 of" in out and "1 event(s) written since are covered by the chain alone" in out


@pytest.mark.parametrize("removed", ["tail", "everything"])
def test_a_removed_tail_older_than_the_last_checkpoint_is_detected(
    removed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    events = record(5)
    checkpoint_write()
    events += record(2)
    first_removed = events[3] if removed == "tail" else events[0]
    superuser_sql("DELETE FROM audit_event WHERE id >= %s", [first_removed.pk])
    assert audit_verify() == []  # what is left is a shorter chain that holds: only the checkpoint can tell
    err = verify_fails(capsys)
    assert f"event {events[4].pk}: named by checkpoint line 1" in err
    assert "counted 5 events up to event" in err


def test_a_removed_tail_newer_than_the_last_checkpoint_is_not_detected_which_bounds_the_loss() -> None:
    events = record(3)
    checkpoint_write()
    events += record(2)
    superuser_sql("DELETE FROM audit_event WHERE id >= %s", [events[3].pk])
    report = checkpoint_verify()
    assert report.problems == [] and audit_verify() == []


def test_rows_rechained_with_a_stolen_mac_key_are_caught_by_the_checkpoint(
    audit_keys: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    events = record(4)
    checkpoint_write()
    rewrite_chain_from(events[1].pk, {"detail": {"n": 99}}, version=3, mac_key=audit_keys["mac"])
    assert audit_verify() == []  # with the key, the chain can be rebuilt
    err = verify_fails(capsys)
    assert f"event {events[-1].pk}: its hash differs from checkpoint line 1" in err


def test_a_keyed_chain_rewritten_as_unkeyed_throughout_is_caught_by_the_chain_and_the_checkpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    events = record(3)
    checkpoint_write()
    rewrite_chain_from(events[0].pk, {"detail": {"n": 99}}, version=2)
    # No keyed row is left to show the downgrade, but the trail never had unkeyed rows: each is a break.
    assert [b.event_id for b in audit_verify()] == [e.pk for e in events]
    assert f"event {events[-1].pk}: its hash differs" in verify_fails(capsys)


def tamper(settings: Any, change: str) -> None:
    path = Path(settings.AUDIT_CHECKPOINT_PATH)
    data = json.loads(path.read_text())
    if change == "count":
        data["event_count"] -= 2
    elif change == "hash":
        data["row_hash"] = "f" * 64
    elif change == "event":
        data["last_event_id"] -= 1
    elif change == "signature":
        raw = bytearray(base64.b64decode(data["signature"]))
        raw[0] ^= 1
        data["signature"] = base64.b64encode(bytes(raw)).decode()
    path.write_text(json.dumps(data) + "\n")


@pytest.mark.parametrize("change", ["count", "hash", "event", "signature"])
def test_a_tampered_checkpoint_line_is_detected(change: str, settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    record(3)
    checkpoint_write()
    tamper(settings, change)
    assert "checkpoint line 1: signature does not verify" in verify_fails(capsys)


def test_a_checkpoint_re_signed_with_another_key_is_detected(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    events = record(3)
    checkpoint_write()
    forger = SigningKey.generate()
    data = json.loads(sink_lines(settings)[0])
    forged = Checkpoint(**{**data, "event_count": 2, "key_id": keys.key_id(forger.verify_key), "signature": ""})
    forged = Checkpoint(**{**forged.__dict__, "signature": keys.b64(forger.sign(forged.signed_bytes()).signature)})
    Path(settings.AUDIT_CHECKPOINT_PATH).write_text(forged.to_line() + "\n")
    superuser_sql("DELETE FROM audit_event WHERE id = %s", [events[-1].pk])
    err = verify_fails(capsys)
    assert f"checkpoint line 1: signed by {forged.key_id}, but the verify key is" in err


def test_an_unreadable_checkpoint_line_is_reported(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    record(1)
    checkpoint_write()
    with Path(settings.AUDIT_CHECKPOINT_PATH).open("a") as handle:
        handle.write("not json\n")
    assert "checkpoint line 2: not a readable checkpoint" in verify_fails(capsys)


def test_an_auditor_checks_with_the_verify_key_alone(
    settings: Any, audit_keys: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    record(2)
    checkpoint_write()
    settings.AUDIT_SIGNING_KEY = ""
    settings.PRODUCTION = True  # so no development key could stand in for it
    call_command("verify_audit", verify_key=audit_keys["verify"])
    assert "The latest checkpoint holds" in capsys.readouterr().out
    assert "checkpoint line 1: cannot be checked: No key to check checkpoints with" in verify_fails(capsys)


def foreign_checkpoint(settings: Any) -> None:
    """A checkpoint, correctly signed, of another database sharing the sink (as var/ is shared locally)."""
    signing = keys.signing_key()
    other = Checkpoint(
        database="some_other_database",
        last_event_id=999_999,
        row_hash="a" * 64,
        event_count=999_999,
        created_at="2026-01-01T00:00:00+00:00",
        key_id=keys.key_id(signing.verify_key),
    )
    signed = Checkpoint(**{**other.__dict__, "signature": keys.b64(signing.sign(other.signed_bytes()).signature)})
    Path(settings.AUDIT_CHECKPOINT_PATH).write_text(signed.to_line() + "\n")


def test_checkpoints_of_other_databases_are_ignored_in_development(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign_checkpoint(settings)
    record(1)
    call_command("verify_audit")
    assert "1 checkpoints of other databases ignored" in capsys.readouterr().out


def test_production_refuses_a_sink_with_checkpoints_of_other_databases_only(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign_checkpoint(settings)
    record(1)
    settings.PRODUCTION = True
    assert "no checkpoint of database" in verify_fails(capsys)

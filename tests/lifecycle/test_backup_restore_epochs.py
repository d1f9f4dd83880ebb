"""Restore epochs in the audit checkpoints (issue 26, "Restores and the audit checkpoints").

A restore to an earlier point looks like a deleted tail, and new events then reuse the lost events' ids. The
checkpointer records it, on request, as a restore epoch naming the backup's head; it accepts one only if an
earlier checkpoint or a signed manifest vouches for that head and the table continues from it. verify_audit then
checks earlier checkpoints only up to that head, continues after it, and always says which events were lost.

A restore is played here as the database sees it: every event after the backup's head gone and the id
sequence set back to it (tests/lifecycle/test_backup_restore.py does it with pg_dump and pg_restore).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from audit.checkpoints import BackupHead, RestoreEpochRefused, TrailBroken, checkpoint_write, restore_epoch_write
from audit.identity import trail_identity
from audit.models import AuditEvent
from tests.audit.conftest import (  # noqa: F401 - audit_keys: this test's own audit keys and sink (autouse)
    audit_keys,
    record,
    rewrite_chain_from,
    sink_lines,
    superuser_sql,
    verify_fails,
    verify_passes,
)

pytestmark = pytest.mark.django_db


def head_at(event: AuditEvent) -> BackupHead:
    """The chain's head at ``event``, as a backup's manifest records it."""
    identity = trail_identity()
    assert identity is not None
    return BackupHead(
        trail_id=identity.trail_id,
        last_event_id=event.pk,
        row_hash=event.row_hash,
        event_count=AuditEvent.objects.filter(id__lte=event.pk).count(),
    )


def restore_to(event: AuditEvent) -> None:
    """What a restore of a backup taken at ``event`` leaves: the events after it gone, their ids free again."""
    superuser_sql("DELETE FROM audit_event WHERE id > %s", [event.pk])
    with connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('audit_event', 'id'), %s)", [event.pk])


def test_a_restore_epoch_lets_the_trail_verify_and_says_which_events_were_lost(
    settings: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    backed_up = record(4)
    checkpoint_write()  # line 1: the backup's head
    lost = record(3)
    checkpoint_write()  # line 2: events the restore will lose
    head = head_at(backed_up[-1])
    restore_to(backed_up[-1])
    since = record(4)  # the restored service goes on, reusing the lost events' ids
    assert since[2].pk == lost[-1].pk and since[2].row_hash != lost[-1].row_hash

    err = verify_fails(capsys)
    assert f"event {lost[-1].pk}: its hash differs from checkpoint line 2" in err
    assert "manage.py audit_restore_epoch" in err
    with pytest.raises(TrailBroken):
        checkpoint_write()  # line 3: the checkpointer, on schedule, refuses to sign over it

    line = restore_epoch_write(head=head, source="backup manifest sha256:0123 taken yesterday")

    assert line.kind == "restore" and (line.last_event_id, line.event_count) == (backed_up[-1].pk, 4)
    assert "its head vouched for by checkpoint line 1" in line.reason
    assert json.loads(sink_lines(settings)[-1])["kind"] == "restore"
    out = verify_passes(capsys)
    assert "The audit trail is intact" not in out
    assert "The audit trail holds since its restore, but events were lost with it: 8 events verified." in out
    assert (
        f"Restore epoch at line 4 ({line.created_at}): the trail went back to event {backed_up[-1].pk} (4 events)"
        in out
    )
    assert (
        f"Lost: events {backed_up[-1].pk + 1} to {lost[-1].pk} (3 events, as line 2 recorded them), and any "
        f"written after event {lost[-1].pk} before the restore." in out
    )
    assert "1 checkpoint(s) written before a restore name events it lost" in out
    # The checkpointer goes on from the epoch, and the loss is still said every time.
    written = checkpoint_write()
    assert written is not None and written.last_event_id == since[-1].pk and written.event_count == 8
    out = verify_passes(capsys)
    assert f"The latest checkpoint holds: event {since[-1].pk}, 8 events" in out
    assert f"Lost: events {backed_up[-1].pk + 1} to {lost[-1].pk} (3 events" in out


def test_a_backup_newer_than_every_checkpoint_loses_only_what_no_checkpoint_recorded(
    capsys: pytest.CaptureFixture[str],
) -> None:
    record(2)
    checkpoint_write()
    backed_up = record(2)
    record(2)
    restore_to(backed_up[-1])
    record(1)
    restore_epoch_write(head=head_at(backed_up[-1]), source="backup", manifest_signed_by="dev1")
    out = verify_passes(capsys)
    assert "its head vouched for by the manifest's signature (service key dev1)" in out
    assert f"Lost: any events written after event {backed_up[-1].pk} before the restore (no checkpoint" in out


def test_a_head_nothing_vouches_for_is_refused(settings: Any) -> None:
    events = record(3)
    checkpoint_write()
    record(3)
    checkpoint_write()
    restore_to(events[1])  # a head between the two checkpoints, and no signed manifest for it
    before = sink_lines(settings)
    with pytest.raises(RestoreEpochRefused, match="matches no checkpoint of this trail, and its manifest's signature"):
        restore_epoch_write(head=head_at(events[1]), source="backup")
    assert sink_lines(settings) == before
    # The same head from a manifest whose signature the caller checked is accepted.
    restore_epoch_write(head=head_at(events[1]), source="backup", manifest_signed_by="dev1")


def test_a_head_the_database_does_not_continue_from_is_refused(settings: Any) -> None:
    events = record(3)
    checkpoint_write()
    record(2)
    checkpoint_write()
    restore_to(events[-1])
    forged = BackupHead(**{**head_at(events[-1]).__dict__, "row_hash": "f" * 64})
    with pytest.raises(RestoreEpochRefused, match="does not continue from the backup's head: event .* hash differs"):
        restore_epoch_write(head=forged, source="backup", manifest_signed_by="dev1")
    other_trail = BackupHead(**{**head_at(events[-1]).__dict__, "trail_id": "00000000-0000-0000-0000-000000000000"})
    with pytest.raises(RestoreEpochRefused, match="the backup is of trail 00000000"):
        restore_epoch_write(head=other_trail, source="backup", manifest_signed_by="dev1")
    assert len(sink_lines(settings)) == 2


def test_an_epoch_is_refused_when_the_trail_lost_nothing() -> None:
    events = record(3)
    checkpoint_write()
    record(2)
    checkpoint_write()  # the table still extends this checkpoint: nothing was restored
    with pytest.raises(RestoreEpochRefused, match="nothing was lost: the trail still extends checkpoint line 2"):
        restore_epoch_write(head=head_at(events[-1]), source="backup", manifest_signed_by="dev1")


def test_an_epoch_cannot_sign_over_history_rewritten_before_the_backups_head(settings: Any) -> None:
    events = record(3)
    checkpoint_write()  # line 1 at the third event
    events += record(4)
    checkpoint_write()  # line 2 at the seventh
    # Someone with the MAC key rewrites the second event, re-chains up to the sixth and drops the seventh, then
    # offers a "backup" of that history, its manifest genuinely signed.
    rewrite_chain_from(
        events[1].pk, {"detail": {"n": 99}}, version=3, mac_key=settings.AUDIT_MAC_KEY, last_id=events[5].pk
    )
    restore_to(events[5])
    rewritten = AuditEvent.objects.get(pk=events[5].pk)
    with pytest.raises(
        RestoreEpochRefused,
        match=f"would still not verify: event {events[2].pk}: its hash differs from checkpoint line 1",
    ):
        restore_epoch_write(head=head_at(rewritten), source="backup", manifest_signed_by="dev1")


def test_an_altered_restore_epoch_is_caught(settings: Any, capsys: pytest.CaptureFixture[str]) -> None:
    backed_up = record(3)
    checkpoint_write()
    lost = record(2)
    checkpoint_write()
    restore_to(backed_up[-1])
    restore_epoch_write(head=head_at(backed_up[-1]), source="backup")
    path = Path(settings.AUDIT_CHECKPOINT_PATH)
    lines = path.read_text().splitlines()
    epoch = json.loads(lines[-1])
    epoch["last_event_id"] = lost[-1].pk  # claim the lost events were never lost
    path.write_text("\n".join([*lines[:-1], json.dumps(epoch)]) + "\n")
    err = verify_fails(capsys)
    assert "checkpoint line 3: signature does not verify" in err
    assert f"event {lost[-1].pk}: named by checkpoint line 2" in err

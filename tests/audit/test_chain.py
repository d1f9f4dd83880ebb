"""The keyed chain: new events are MACed, the unkeyed chain before them carries over up to its recorded head,
and neither an edit re-chained without the key nor a step back to unkeyed rows verifies."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from audit import keys
from audit.models import AuditEvent
from audit.trail import GENESIS_HASH, audit_verify, event_record
from tests.audit.conftest import (
    FIELDS,
    carry_over_as_migrated,
    insert_unkeyed,
    mac,
    plain_hash,
    record,
    rewrite_chain_from,
)

pytestmark = pytest.mark.django_db


def row_of(event: AuditEvent) -> dict[str, Any]:
    return AuditEvent.objects.filter(pk=event.pk).values(*FIELDS).get()


def test_new_events_are_chained_with_the_mac_key(audit_keys: dict[str, str]) -> None:
    first, second = record(2)
    assert (first.chain_version, second.chain_version) == (3, 3)
    assert first.previous_hash == GENESIS_HASH and second.previous_hash == first.row_hash
    for event in (first, second):
        assert event.row_hash == mac(row_of(event), audit_keys["mac"])
        assert event.row_hash != plain_hash(row_of(event))
    assert audit_verify() == []


def test_keyed_events_do_not_verify_under_another_key(settings: Any) -> None:
    events = record(3)
    settings.AUDIT_MAC_KEY = keys.generate_key_material()["mac"]
    assert [b.event_id for b in audit_verify()] == [e.pk for e in events]


@pytest.mark.parametrize("version", [3, 2], ids=["kept-version-3", "downgraded-to-2"])
def test_an_edit_rechained_without_the_key_is_detected(version: int) -> None:
    events = record(5)
    rewrite_chain_from(events[2].pk, {"detail": {"n": 99}}, version=version)
    breaks = audit_verify()
    # Every rewritten row fails: its hash is not a MAC under the key (or it is unkeyed past the legacy chain).
    assert [b.event_id for b in breaks] == [e.pk for e in events[2:]]
    expected = "do not match its hash" if version == 3 else "unkeyed row outside the carried-over legacy chain"
    assert all(expected in b.reason for b in breaks)
    with pytest.raises(CommandError, match="broken in 3 place"):
        call_command("verify_audit")


def test_a_carried_over_unkeyed_chain_followed_by_keyed_events_verifies(capsys: pytest.CaptureFixture[str]) -> None:
    carried = insert_unkeyed(1, GENESIS_HASH, "case_referred", subject_kind="case", subject_id=731)
    plain = insert_unkeyed(2, carried.row_hash, "signed_in")
    carry_over_as_migrated()
    keyed = record(2)
    assert keyed[0].previous_hash == plain.row_hash  # the keyed chain starts at the head of the unkeyed one
    assert audit_verify() == []
    call_command("verify_audit")
    assert "The audit trail is intact: 4 events verified." in capsys.readouterr().out


def test_an_edited_carried_over_row_is_still_detected() -> None:
    carried = insert_unkeyed(2, GENESIS_HASH, "signed_in")
    carry_over_as_migrated()
    (keyed,) = record(1)
    rewrite_chain_from(carried.pk, {"detail": {"edited": True}}, version=2, last_id=carried.pk)
    # The carried row's new hash is a good SHA-256, but it is no longer the recorded head of the legacy chain,
    # and the keyed row after it links to the old one.
    breaks = audit_verify()
    assert [b.event_id for b in breaks] == [carried.pk, keyed.pk]
    assert "differs from its recorded carry-over point" in breaks[0].reason


def test_an_unkeyed_row_after_a_keyed_row_is_a_break() -> None:
    (keyed,) = record(1)
    downgraded = insert_unkeyed(2, keyed.row_hash, "signed_in")  # a perfectly good version 2 hash
    after = event_record(kind="content_viewed")
    breaks = audit_verify()
    assert [(b.event_id, b.reason) for b in breaks] == [
        (downgraded.pk, "unkeyed row outside the carried-over legacy chain (rewritten without the key?)")
    ]
    assert after.previous_hash == downgraded.row_hash


def test_an_unknown_chain_version_is_a_break() -> None:
    (event,) = record(1)
    rewrite_chain_from(event.pk, {}, version=4)
    assert [b.event_id for b in audit_verify()] == [event.pk]

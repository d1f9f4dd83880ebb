"""Custody keys rotate: one suspected of compromise is replaced at once (rewrap_custody_key), and the open-cases
key is replaced every backup-retention period by the daily task, its successor destroyed only when its time
has come and nothing names it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.models import AuditEvent
from core import crypto, keystore
from core.models import CustodyKey
from lifecycle import keys as custody
from reports.models import Report
from reports.services import report_unlock
from tests.factories import routed_case, staff_user, submit_report
from tests.lifecycle.keyrings import Keys, configured_keys
from triage import retention
from triage.case_actions import case_close
from triage.case_content import case_open
from triage.intake import report_route
from triage.models import Case, Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]


@pytest.fixture
def keys(settings: Any, tmp_path: Path) -> Iterator[Keys]:
    yield from configured_keys(settings, tmp_path)


def key_of(case: Case) -> str:
    return Report.objects.get(pk=case.report_id).custody_key_id


def rewrap(key_id: str, *args: str) -> None:
    call_command("rewrap_custody_key", "--from", key_id, "--no-progress", *args)


def events(kind: str, key_id: str) -> list[dict[str, Any]]:
    return [e.detail for e in AuditEvent.objects.filter(kind=kind).order_by("pk") if e.detail["key_id"] == key_id]


def key_file(settings: Any, key_id: str) -> Path:
    return Path(settings.CUSTODY_KEY_DIR, f"{key_id}.key")


def fresh(case: Case) -> Case:
    """The case as a new request would read it (its report row as it is now)."""
    return Case.objects.select_related("report").get(pk=case.pk)


def closed(case: Case, outcome: str = Outcome.NOT_SUBSTANTIATED) -> Case:
    case_close(case=case, outcome=outcome, feedback="Thank you for telling us.", acting_user=staff_user())
    return Case.objects.get(pk=case.pk)


# --- a key suspected of compromise -------------------------------------------------------------------------


def test_a_compromised_open_key_is_replaced_its_data_keys_rewrapped_and_it_is_destroyed(
    keys: Keys, settings: Any
) -> None:
    submitted = [submit_report(summary=f"Concern {n}") for n in range(3)]
    cases = [report_route(report_id=s.report.pk) for s in submitted]
    old = key_of(cases[0])
    captured = {r.pk: bytes(r.custody_wrapped_key) for r in Report.objects.all()}
    assert {key_of(case) for case in cases} == {old}

    rewrap(old, "--batch-size", "2")

    new = keystore.open_key_id()
    assert new != old and keystore.kind_of(new) == keystore.OPEN
    assert {key_of(case) for case in cases} == {new}
    record = CustodyKey.objects.get(key_id=old)
    assert record.retired_on == record.destroyed_on == timezone.localdate()
    assert not key_file(settings, old).exists()
    with pytest.raises(keystore.KeyDestroyed):
        keystore.load(old)
    # What was wrapped under the old key is no longer what the rows hold, and the rows open with the new one.
    assert all(bytes(r.custody_wrapped_key) != captured[r.pk] for r in Report.objects.all())
    supervisor = staff_user()
    for n, (case, sent) in enumerate(zip(cases, submitted, strict=True)):
        assert case_open(case=fresh(case), acting_user=supervisor).content["summary"] == f"Concern {n}"
        _, data_key = report_unlock(reference=sent.report.reference, access_code=sent.access_code, client="c")
        assert data_key == keystore.data_key_of(Report.objects.get(pk=case.report_id))
    # New cases go under the new key; each step is in the audit trail, ids and dates only.
    assert key_of(routed_case()) == new
    today = timezone.localdate().isoformat()
    assert events(custody.KEY_CREATED, new) == [
        {"key_id": new, "key_kind": "open", "created_on": today, "why": "compromise"}
    ]
    assert events(custody.KEY_RETIRED, old) == [
        {"key_id": old, "key_kind": "open", "retired_on": today, "replaced_by": new, "why": "compromise"}
    ]
    assert events(custody.KEY_DESTROYED, old) == [
        {"key_id": old, "key_kind": "open", "destroyed_on": today, "why": "compromise"}
    ]


def test_a_compromised_epoch_key_is_replaced_by_another_key_for_the_same_month(keys: Keys) -> None:
    first = closed(routed_case())
    old = key_of(first)
    assert old == keystore.epoch_base_id(first.destroy_on)

    rewrap(old)

    new = f"{old}-2"
    assert key_of(first) == new == keystore.epoch_key_id(first.destroy_on)
    assert keystore.epoch_month_end(new) == keystore.epoch_month_end(old)
    # The next case due that month goes under the new key too, and both open.
    second = closed(routed_case())
    assert second.destroy_on.month == first.destroy_on.month and key_of(second) == new
    assert case_open(case=fresh(first), acting_user=staff_user()).content["summary"] == "Missing episodes ignored"
    # Compromised again: a third key for the month.
    rewrap(new)
    assert {key_of(first), key_of(second)} == {f"{old}-3"}


def test_a_compromised_legal_hold_key_is_replaced_by_a_new_hold_key(keys: Keys) -> None:
    supervisor = staff_user()
    case = routed_case()
    retention.hold_place(case=case, basis="court_order", reason="Order 7", acting_user=supervisor)
    old = key_of(case)
    rewrap(old)
    assert key_of(case) == keystore.held_key_id() != old
    assert keystore.kind_of(key_of(case)) == keystore.HELD
    assert retention.hold_reason(case.legal_holds.get()) == "Order 7"


def test_a_rewrap_stopped_after_one_batch_goes_on_and_destroys_the_key_only_when_none_is_left(
    keys: Keys, settings: Any
) -> None:
    cases = [routed_case() for _ in range(3)]
    old = key_of(cases[0])

    rewrap(old, "--batch-size", "1", "--max-batches", "1")

    new = keystore.open_key_id()
    assert [key_of(case) for case in cases] == [new, old, old]
    record = CustodyKey.objects.get(key_id=old)
    assert record.retired_on is not None and record.destroyed_on is None and key_file(settings, old).exists()
    # Run again: the same replacement goes on, and the key goes once nothing names it.
    rewrap(old, "--batch-size", "1")
    assert [key_of(case) for case in cases] == [new, new, new]
    assert CustodyKey.objects.get(key_id=old).destroyed_on is not None
    assert len(events(custody.KEY_CREATED, new)) == 1
    # A further run is refused: the key is gone.
    with pytest.raises(CommandError, match="destroyed"):
        rewrap(old)


def test_the_daily_run_finishes_a_stopped_compromise_rewrap_and_destroys_the_key_at_once(keys: Keys) -> None:
    cases = [closed(routed_case()) for _ in range(2)]
    old = key_of(cases[0])
    rewrap(old, "--batch-size", "1", "--max-batches", "1")
    assert [key_of(case) for case in cases] == [f"{old}-2", old]
    done = custody.open_key_rotate()
    assert done.destroyed == [old] and done.rewrapped == 1
    assert {key_of(case) for case in cases} == {f"{old}-2"}
    assert events(custody.KEY_DESTROYED, old)[0]["why"] == "compromise"


def test_a_key_a_row_still_names_is_never_destroyed(keys: Keys, settings: Any) -> None:
    case = routed_case()
    old = key_of(case)
    custody.custody_key_replace(old, why=custody.COMPROMISE)
    assert custody.custody_key_destroy_unused(old, why=custody.COMPROMISE) is False
    assert CustodyKey.objects.get(key_id=old).destroyed_on is None and key_file(settings, old).exists()
    assert case_open(case=fresh(case), acting_user=staff_user()).content["summary"] == "Missing episodes ignored"


def test_nothing_is_wrapped_under_a_destroyed_key_even_by_a_move_that_chose_it_before(keys: Keys) -> None:
    case = routed_case()
    old = key_of(case)
    custody.custody_key_replace(old, why=custody.COMPROMISE)
    call_command("rewrap_custody_key", "--from", old, "--no-progress")
    report = Report.objects.get(pk=case.report_id)
    with pytest.raises(keystore.KeyDestroyed):
        keystore.place(report, old)


# --- the open-cases key, replaced every backup-retention period ---------------------------------------------


def at(day: datetime) -> Any:
    return time_machine.travel(day, tick=False)


def test_the_open_key_is_replaced_each_backup_retention_period_and_destroyed_one_period_after(
    keys: Keys, settings: Any
) -> None:
    settings.BACKUP_RETENTION_DAYS = 35
    start = timezone.now().replace(hour=12)
    with at(start):
        sent = submit_report()
        case = report_route(report_id=sent.report.pk)
        first = key_of(case)
        assert custody.open_key_rotate().replaced == ""
    with at(start + timedelta(days=34)):
        assert custody.open_key_rotate().replaced == ""
        assert key_of(case) == first
    with at(start + timedelta(days=35)):
        done = custody.open_key_rotate()
        second = keystore.open_key_id()
        assert (done.replaced, done.replaced_by, done.rewrapped) == (first, second, 1)
        assert key_of(case) == second and done.destroyed == []
        record = CustodyKey.objects.get(key_id=first)
        assert record.retired_on == timezone.localdate() and record.destroyed_on is None
        # The same day again: nothing more to do.
        again = custody.open_key_rotate()
        assert (again.replaced, again.rewrapped, again.destroyed) == ("", 0, [])
    # Kept while a backup taken when it was in use may be restored: one backup-retention period.
    with at(start + timedelta(days=69)):
        assert custody.open_key_rotate().destroyed == []
        assert keystore.load(first)
    with at(start + timedelta(days=70)):
        done = custody.open_key_rotate()
        assert done.destroyed == [first] and done.replaced == second
        assert not key_file(settings, first).exists()
        assert events(custody.KEY_DESTROYED, first)[0]["why"] == "schedule"
        assert case_open(case=fresh(case), acting_user=staff_user()).content["summary"] == "Missing episodes ignored"
        _, data_key = report_unlock(reference=sent.report.reference, access_code=sent.access_code, client="c")
        assert data_key == keystore.data_key_of(Report.objects.get(pk=case.report_id))


def test_a_retired_open_key_that_a_row_still_names_waits_for_its_rewrap(keys: Keys, settings: Any) -> None:
    settings.BACKUP_RETENTION_DAYS = 10
    start = timezone.now().replace(hour=12)
    with at(start):
        case = routed_case()
        first = key_of(case)
    with at(start + timedelta(days=10)):
        custody.open_key_rotate(batches=0)  # replaced, nothing re-wrapped yet
    with at(start + timedelta(days=20)):
        assert custody.open_key_rotate(batches=0).destroyed == []
        assert key_of(case) == first and keystore.load(first)
        done = custody.open_key_rotate()
        assert done.rewrapped == 1 and done.destroyed == [first]
        assert key_of(case) == keystore.open_key_id()


def test_keys_made_on_first_use_are_recorded_in_the_audit_trail_once(keys: Keys) -> None:
    case = closed(routed_case())
    epoch = key_of(case)
    assert events(custody.KEY_CREATED, epoch) == []
    custody.open_key_rotate()
    custody.open_key_rotate()
    created = CustodyKey.objects.get(key_id=epoch).created_on.isoformat()
    assert events(custody.KEY_CREATED, epoch) == [
        {"key_id": epoch, "key_kind": "epoch", "created_on": created, "why": "first_use"}
    ]


def test_key_material_left_behind_by_a_failed_destruction_is_removed_by_the_daily_run(
    keys: Keys, settings: Any
) -> None:
    case = routed_case()
    old = key_of(case)
    custody.custody_key_replace(old, why=custody.COMPROMISE)
    call_command("rewrap_custody_key", "--from", old, "--no-progress")
    # As if the file's removal had failed after the commit.
    key_file(settings, old).write_bytes(b"AAAA")
    custody.open_key_rotate()
    assert not key_file(settings, old).exists()
    assert crypto.open_key_with(keystore.load(key_of(case)), bytes(Report.objects.get().custody_wrapped_key))


def test_the_beat_runs_the_open_key_rotation_every_day(keys: Keys, settings: Any) -> None:
    from helpline.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["rotate-open-key"]
    assert entry["task"] == custody.open_key_rotate_task.name and entry["task"] in app.tasks
    assert entry["schedule"].hour == {3} and entry["schedule"].minute == {40}
    routed_case()
    assert custody.open_key_rotate_task() == {
        "replaced": "",
        "replaced_by": "",
        "rewrapped": 0,
        "unreadable": 0,
        "destroyed": [],
        "recorded": 1,
    }

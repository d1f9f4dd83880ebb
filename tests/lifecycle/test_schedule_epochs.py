"""Epoch keys: destroyed by the nightly run once their month has ended and no report names them, never
before; then nothing opens with them, and the service still starts."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from core import keystore
from core.models import CustodyKey
from lifecycle import schedule
from reports.checks import missing_private_key_ids, refuse_to_start_without_keys
from reports.models import Report
from tests.factories import case_closed, routed_case, staff_user
from triage import retention
from triage.case_content import case_open
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def _key_there(settings: Any, key_id: str) -> bool:
    return Path(settings.CUSTODY_KEY_DIR, f"{key_id}.key").exists()


def test_an_epoch_key_is_destroyed_only_once_its_month_has_ended_and_no_report_names_it(settings: Any) -> None:
    settings.RETENTION_BATCH_SIZE = 1
    settings.RETENTION_MAX_BATCHES = 1
    supervisor = staff_user()
    first = case_closed(routed_case(), supervisor)
    second = case_closed(routed_case(), supervisor)
    assert first.destroy_on is not None and first.destroy_on == second.destroy_on
    key_id = keystore.epoch_key_id(first.destroy_on)
    assert Report.objects.get(pk=first.report_id).custody_key_id == key_id
    month_end = keystore.epoch_month_end(key_id)

    # The cases' day: one destroyed (the run's cap is one case), the key kept while its month runs.
    schedule.retention_apply(today=first.destroy_on)
    # The month's last day: the other case destroyed, and the key still kept.
    last_day = schedule.retention_apply(today=month_end)
    assert last_day is not None and last_day.destroyed == 1 and last_day.epochs_destroyed == 0
    assert _key_there(settings, key_id) and not CustodyKey.objects.get(key_id=key_id).destroyed_on

    after = schedule.retention_apply(today=month_end + timedelta(days=1))

    assert after is not None and after.epochs_destroyed == 1
    assert CustodyKey.objects.get(key_id=key_id).destroyed_on == timezone.localdate()
    assert not _key_there(settings, key_id)
    with pytest.raises(keystore.KeyDestroyed):
        keystore.load(key_id)
    event = AuditEvent.objects.get(kind=schedule.KEY_DESTROYED)
    assert event.detail == {
        "key_id": key_id,
        "key_kind": "epoch",
        "destroyed_on": timezone.localdate().isoformat(),
        "why": "schedule",
    }
    # The service still starts: no row names a key it cannot load.
    assert missing_private_key_ids() == set()
    refuse_to_start_without_keys()


def test_an_epoch_key_a_report_still_names_is_kept_after_its_month(settings: Any) -> None:
    settings.RETENTION_BATCH_SIZE = 1
    settings.RETENTION_MAX_BATCHES = 1
    supervisor = staff_user()
    first = case_closed(routed_case(), supervisor)
    second = case_closed(routed_case(), supervisor)
    key_id = keystore.epoch_key_id(first.destroy_on)  # type: ignore[arg-type]
    after_month = keystore.epoch_month_end(key_id) + timedelta(days=1)

    # A night whose cap leaves one case under the key: the key stays.
    capped = schedule.retention_apply(today=after_month)
    assert capped is not None and capped.destroyed == 1 and capped.capped and capped.epochs_destroyed == 0
    assert Report.objects.filter(custody_key_id=key_id).count() == 1
    assert _key_there(settings, key_id) and keystore.load(key_id)

    following = schedule.retention_apply(today=after_month + timedelta(days=1))

    assert following is not None and following.destroyed == 1 and following.epochs_destroyed == 1
    assert {Report.objects.get(pk=c.report_id).content_destroyed_on for c in (first, second)} == {timezone.localdate()}
    assert not _key_there(settings, key_id)


def test_a_held_case_leaves_its_epoch_so_the_epoch_key_goes_and_the_held_case_still_opens(settings: Any) -> None:
    supervisor = staff_user()
    held = case_closed(routed_case(), supervisor)
    shredded = case_closed(routed_case(), supervisor)
    retention.hold_place(case=held, basis="inquiry_notice", reason="Inquiry notice 12", acting_user=supervisor)
    key_id = keystore.epoch_key_id(shredded.destroy_on)  # type: ignore[arg-type]

    run = schedule.retention_apply(today=keystore.epoch_month_end(key_id) + timedelta(days=1))

    assert run is not None and run.destroyed == 1 and run.skipped_held == 1 and run.epochs_destroyed == 1
    assert not _key_there(settings, key_id)
    held = Case.objects.select_related("report").get(pk=held.pk)
    assert held.report.custody_key_id == keystore.held_key_id()
    assert case_open(case=held, acting_user=supervisor).content["summary"] == "Missing episodes ignored"


def test_open_cases_and_held_keys_are_never_destroyed_by_the_schedule(settings: Any) -> None:
    supervisor = staff_user()
    open_case = routed_case()
    held = case_closed(routed_case(), supervisor)
    retention.hold_place(case=held, basis="inquiry_notice", reason="Inquiry notice 12", acting_user=supervisor)
    open_key = Report.objects.get(pk=open_case.report_id).custody_key_id

    schedule.retention_apply(today=timezone.localdate() + timedelta(days=5000))

    assert _key_there(settings, open_key) and _key_there(settings, keystore.held_key_id())
    assert not CustodyKey.objects.filter(destroyed_on__isnull=False, kind__in=["open", "held"]).exists()

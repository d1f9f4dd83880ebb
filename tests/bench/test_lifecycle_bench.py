"""`make bench-lifecycle` (bench/lifecycle.py) times legal hold, extension, shredding, rotation and backup against
floors. These keep its own logic from rotting, on a small seeded database: the cases each phase takes are the
ones it needs, the floors leave every report opening as before, and each phase's check stops the run when the
work it times was not done (a fast phase that did nothing means nothing). No timings are asserted."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from bench import lifecycle
from core import crypto, keystore
from reports.models import Message, Report
from triage import retention
from triage.models import Case, LegalHold

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

UNROUTED = 12


@pytest.fixture(autouse=True)
def _own_folders(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    # The rotation phase changes the helpline keys in settings: the fixture puts them back.
    settings.HELPLINE_PUBLIC_KEY = settings.HELPLINE_PUBLIC_KEY
    settings.HELPLINE_PRIVATE_KEYS = settings.HELPLINE_PRIVATE_KEYS
    settings.HELPLINE_HMAC_KEY = settings.HELPLINE_HMAC_KEY
    yield
    crypto.keyring.cache_clear()


@pytest.fixture
def found() -> lifecycle.Pools:
    call_command("seed_cases", count=300, batch=150, open_fraction=0.2, keys=3, unrouted=UNROUTED, stdout=io.StringIO())
    return lifecycle.pools(timezone.localdate())


def test_each_pool_holds_the_cases_its_phase_needs_in_the_same_order_every_time(found: lifecycle.Pools) -> None:
    today = timezone.localdate()
    assert found.kept and found.due and found.open_reports
    for case in Case.objects.filter(pk__in=found.kept).select_related("report"):
        assert case.destroy_on is not None and case.destroy_on > today
        assert case.closed_at is not None and timezone.localdate(case.closed_at) < today.replace(day=1)
        assert case.report.custody_key_id == keystore.epoch_key_id(case.destroy_on)
    assert all(case.destroy_on and case.destroy_on <= today for case in Case.objects.filter(pk__in=found.due))
    open_keys = set(Report.objects.filter(pk__in=found.open_reports).values_list("custody_key_id", flat=True))
    assert open_keys == {keystore.open_key_id()}
    assert lifecycle.pools(today) == found
    assert sorted(lifecycle.pools(today, seed=1).kept) == sorted(found.kept)


def test_the_batch_fits_every_pool_and_the_slices_never_overlap() -> None:
    assert lifecycle.batch_size(1000, 3, {"a": 10_000, "b": 4_000}) == 1000
    assert lifecycle.batch_size(1000, 3, {"a": 10_000, "b": 450}) == 150
    assert lifecycle.batch_size(1000, 3, {"a": 2}) == 0
    parts = lifecycle.slices(list(range(10)), 3, 3)
    assert parts == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]


def test_the_median_rate_and_the_ratio_to_the_floor() -> None:
    phase, floor = lifecycle.Runs(), lifecycle.Runs()
    for cases, seconds in ((100, 2.0), (100, 1.0), (100, 4.0)):
        phase.add(cases, seconds)
    for cases, seconds in ((100, 0.1), (100, 0.1), (100, 0.2)):
        floor.add(cases, seconds)
    assert phase.rate() == 50.0
    assert floor.rate() == 1000.0
    assert lifecycle.times_floor(phase, floor) == 20.0
    assert lifecycle.times_floor(lifecycle.Runs(), floor) is None


def _data_keys(ids: list[int]) -> dict[int, tuple[str, bytes, bytes]]:
    return {
        report.pk: (report.custody_key_id or report.helpline_key_id, keystore.data_key_of(report), _copy(report))
        for report in Report.objects.filter(pk__in=ids)
    }


def _copy(report: Report) -> bytes:
    return bytes(report.custody_wrapped_key) or bytes(report.helpline_sealed_key)


def test_the_floors_rewrite_each_copy_and_leave_every_report_opening_as_before(found: lifecycle.Pools) -> None:
    floor_ids = found.open_reports[:5]
    unrouted = list(Report.objects.filter(case__isnull=True).values_list("pk", flat=True))
    assert len(unrouted) == UNROUTED
    keys = lifecycle.KeyMaterial()
    floors: list[tuple[list[int], Callable[[], float]]] = [
        (floor_ids, lambda: lifecycle.rewrap_floor_each(floor_ids, keys)),
        (floor_ids, lambda: lifecycle.rewrap_floor_batched(floor_ids, keys)),
        (unrouted, lambda: lifecycle.reseal_floor_batched(unrouted)),
    ]
    for ids, floor in floors:
        before = _data_keys(ids)
        floor()
        after = _data_keys(ids)
        assert {pk: value[:2] for pk, value in after.items()} == {pk: value[:2] for pk, value in before.items()}
        assert all(after[pk][2] != before[pk][2] for pk in ids)  # sealed again, with a fresh nonce
    lifecycle.row_floor_each(floor_ids)
    assert not Report.objects.filter(pk__in=floor_ids, content_destroyed_on__isnull=False).exists()


def test_legal_hold_moves_each_case_under_the_held_key_and_a_case_held_already_stops_the_run(
    found: lifecycle.Pools,
) -> None:
    supervisor = lifecycle.bench_supervisor()
    ids = found.kept[:3]
    lifecycle.hold_batch(ids, supervisor)
    assert LegalHold.objects.filter(case__in=ids, released_on__isnull=True).count() == 3
    assert set(Report.objects.filter(case__in=ids).values_list("custody_key_id", flat=True)) == {keystore.held_key_id()}
    with pytest.raises(lifecycle.PhaseFailed, match="legal hold"):
        lifecycle.hold_batch([*ids, found.kept[3]], supervisor)  # three were held already: nothing to time


def test_extension_moves_each_case_to_a_later_epoch_and_without_activity_stops_the_run(
    found: lifecycle.Pools,
) -> None:
    today = timezone.localdate()
    ids = found.kept[:3]
    before = lifecycle.extension_prepare(ids, today)
    assert Message.objects.filter(report__case__in=ids, direction=Message.Direction.FROM_REPORTER).count() == 3
    lifecycle.extension_batch(ids, before)
    for case in Case.objects.filter(pk__in=ids).select_related("report"):
        assert case.outcome and case.destroy_on == retention.add_months(today, retention.period_months(case.outcome))
        assert case.report.custody_key_id == keystore.epoch_key_id(case.destroy_on)
        assert case.report.custody_key_id > before[case.report_id]
    others = found.kept[3:5]
    unchanged = {report.pk: report.custody_key_id for report in Report.objects.filter(case__in=others)}
    with pytest.raises(lifecycle.PhaseFailed, match="extension"):
        lifecycle.extension_batch(others, unchanged)  # no reporter wrote: nothing moves


def test_shredding_destroys_the_due_cases_and_a_shredder_that_does_nothing_stops_the_run(
    found: lifecycle.Pools,
) -> None:
    ids = found.due[:2]
    count, _ = lifecycle.shred_batch(ids)
    assert count == 2
    assert Report.objects.filter(case__in=ids, content_destroyed_on__isnull=False).count() == 2
    assert lifecycle.SHRED is lifecycle.schedule_cases
    with pytest.raises(lifecycle.PhaseFailed, match="shredding"):
        lifecycle.shred_batch(found.due[2:4], shred=lambda case_ids: len(case_ids))


def test_a_command_this_checkout_lacks_is_reported_and_never_called() -> None:
    assert lifecycle.command_available("seed_cases")
    assert not lifecycle.command_available("no_such_command_here")
    assert "no `manage.py rotate_helpline_key`" in lifecycle.not_available("rotate_helpline_key")


def test_a_helpline_rotation_that_leaves_a_report_under_the_old_key_stops_the_run(
    found: lifecycle.Pools, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = lifecycle.HelplineKeys.from_settings()
    old = keys.current_id()

    def rotates(name: str, *args: str) -> float:
        """What the command is for: every report sealed to the old key, sealed to the new one."""
        assert (name, args[0]) == ("rotate_helpline_key", "--to")
        for report in Report.objects.filter(helpline_key_id=old):
            key_id, sealed = crypto.seal_key_for_helpline(keystore.data_key_of(report))
            Report.objects.filter(pk=report.pk).update(helpline_key_id=key_id, helpline_sealed_key=sealed)
        return 0.0

    monkeypatch.setattr(lifecycle, "call", rotates)
    count, _, _ = lifecycle.rotate_helpline_once(keys, 1)
    assert count == UNROUTED
    assert keys.current_id() != old
    assert Report.objects.filter(helpline_key_id=keys.current_id()).count() == UNROUTED

    monkeypatch.setattr(lifecycle, "call", lambda name, *args: 0.0)
    with pytest.raises(lifecycle.PhaseFailed, match="still sealed to"):
        lifecycle.rotate_helpline_once(keys, 2)


def test_a_custody_rewrap_takes_the_busiest_open_key_and_one_that_leaves_a_report_stops_the_run(
    found: lifecycle.Pools, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id = keystore.open_key_id()
    assert lifecycle.busiest_open_key() == key_id
    under = Report.objects.filter(custody_key_id=key_id).count()
    fresh = keystore.fresh_key_id(keystore.OPEN)

    def rewraps(name: str, *args: str) -> float:
        """What the command is for: every data key under the key, wrapped under a fresh one instead."""
        assert (name, *args) == ("rewrap_custody_key", "--from", key_id)
        for report in Report.objects.filter(custody_key_id=key_id):
            fields = keystore.place(report, fresh)
            Report.objects.filter(pk=report.pk).update(**{field: getattr(report, field) for field in fields})
        return 0.0

    monkeypatch.setattr(lifecycle, "call", rewraps)
    count, _, _ = lifecycle.rewrap_custody_once(lifecycle.KeyMaterial())
    assert count == under
    assert lifecycle.busiest_open_key() == fresh

    monkeypatch.setattr(lifecycle, "call", lambda name, *args: 0.0)
    with pytest.raises(lifecycle.PhaseFailed, match=f"still under {fresh}"):
        lifecycle.rewrap_custody_once(lifecycle.KeyMaterial())

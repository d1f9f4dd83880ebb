"""Reports that share a data key (an original and the retaliation report its reporter filed through a
check-in) are destroyed together, once every one of their cases is due and none is held. A due case that
waits for one that is not moves under that one's key, so its own epoch can end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from core import keystore
from lifecycle import schedule
from reports import checkins
from reports.models import Report
from reports.services import SubmittedReport, report_unlock
from tests.factories import case_closed, staff_user, submit_report
from triage import retention
from triage.case_content import case_open
from triage.intake import report_route
from triage.models import Case, Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def _family() -> tuple[Case, Case]:
    """A routed report, and the retaliation report its reporter filed through a check-in, routed too."""
    submitted: SubmittedReport = submit_report()
    original = report_route(report_id=submitted.report.pk)
    checkins.checkins_opt_in(report=submitted.report)
    _, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    with time_machine.travel(submitted.report.submitted_at + timedelta(days=95)):
        due = checkins.checkin_due(report=submitted.report)
        assert due is not None
        retaliation = checkins.checkin_answer(checkin=due, answer="yes", details="Moved to nights", data_key=key)
    assert retaliation is not None
    return original, report_route(report_id=retaliation.pk)


def _fresh(case: Case) -> Case:
    return Case.objects.select_related("report").get(pk=case.pk)


def _destroyed(case: Case) -> bool:
    return Report.objects.get(pk=case.report_id).content_destroyed_on is not None


def test_a_due_case_waits_for_its_family_under_their_key_and_its_epoch_key_goes(settings: Any) -> None:
    supervisor = staff_user()
    original, retaliation = _family()
    original = case_closed(original, supervisor, Outcome.NO_FURTHER_ACTION)
    own_epoch = keystore.epoch_key_id(original.destroy_on)  # type: ignore[arg-type]
    assert original.report.custody_key_id == own_epoch

    waiting = schedule.retention_apply(today=original.destroy_on)

    assert waiting is not None and (waiting.destroyed, waiting.waiting, waiting.rewrapped) == (0, 1, 1)
    assert not _destroyed(original) and not _destroyed(retaliation)
    # Under the open-cases key, as the retaliation case is open: both still open for staff.
    assert Report.objects.get(pk=original.report_id).custody_key_id == keystore.open_key_id()
    assert case_open(case=_fresh(original), acting_user=supervisor).content["summary"] == "Missing episodes ignored"
    assert case_open(case=_fresh(retaliation), acting_user=supervisor).content["details"] == "Moved to nights"
    # Its own month ends: its epoch key goes, as nothing is under it any more.
    after_month = schedule.retention_apply(today=keystore.epoch_month_end(own_epoch) + timedelta(days=1))
    assert after_month is not None and after_month.epochs_destroyed == 1 and after_month.rewrapped == 0
    assert not Path(settings.CUSTODY_KEY_DIR, f"{own_epoch}.key").exists()

    # The retaliation case closes, and its day comes: both go together.
    retaliation = case_closed(_fresh(retaliation), supervisor, Outcome.NOT_SUBSTANTIATED)
    together = schedule.retention_apply(today=retaliation.destroy_on)

    assert together is not None and together.destroyed == 2
    assert _destroyed(original) and _destroyed(retaliation)


def test_a_due_case_whose_family_member_is_held_waits_under_the_held_key() -> None:
    supervisor = staff_user()
    original, retaliation = _family()
    original = case_closed(original, supervisor, Outcome.NO_FURTHER_ACTION)
    retaliation = case_closed(_fresh(retaliation), supervisor, Outcome.NO_FURTHER_ACTION)
    # Held with its linked original, then the original alone released.
    retention.hold_place(case=retaliation, basis="court_order", reason="Order 7", acting_user=supervisor)
    retention.hold_release(case=original, acting_user=supervisor)
    assert retention.on_hold(retaliation) and not retention.on_hold(original)

    run = schedule.retention_apply(today=original.destroy_on)

    assert run is not None and run.destroyed == 0 and run.waiting == 1 and run.skipped_held == 1
    assert Report.objects.get(pk=original.report_id).custody_key_id == keystore.held_key_id()
    assert not _destroyed(original) and not _destroyed(retaliation)


def test_a_family_whose_cases_are_all_due_is_destroyed_in_one_go() -> None:
    supervisor = staff_user()
    original, retaliation = _family()
    original = case_closed(original, supervisor, Outcome.NO_FURTHER_ACTION)
    retaliation = case_closed(_fresh(retaliation), supervisor, Outcome.NO_FURTHER_ACTION)

    run = schedule.retention_apply(today=max(original.destroy_on, retaliation.destroy_on))  # type: ignore[type-var]

    assert run is not None and (run.destroyed, run.waiting) == (2, 0)
    assert _destroyed(original) and _destroyed(retaliation)

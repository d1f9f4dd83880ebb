"""The stub a destroyed case keeps is enough for the figures: oversight's statistics, its annual report and
its pattern alerts are the same before and after the schedule destroys the cases they count."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from lifecycle import schedule
from oversight import selectors
from oversight.annual import annual_report
from oversight.patterns import same_organisation
from oversight.periods import Period
from referrals import services as referral_services
from reports.models import Report
from tests.factories import (
    ROTHERHAM,
    SHEFFIELD,
    authority,
    case_closed,
    facts_record,
    referral_of,
    routed_case,
    staff_user,
)
from triage.models import Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def _figures() -> dict[str, Any]:
    year = timezone.localdate().year
    selectors.stats_refresh()
    tables = selectors.statistics_tables(selectors.NATIONAL, period=Period(year))
    return {
        "tables": [(slug, title, table.counts) for slug, title, table in tables],
        "annual": annual_report(year).rows(),
        "patterns": [
            (alert.key, alert.count, alert.case_numbers, alert.evidence_columns)
            for alert in same_organisation(timezone.now())
        ],
    }


def test_the_figures_are_the_same_before_and_after_the_cases_are_destroyed() -> None:
    supervisor = staff_user()
    officer = staff_user("officer", role="authority_officer")
    officer.authorities.set([authority(ROTHERHAM)])
    cases = []
    for code, outcome in (
        (ROTHERHAM, Outcome.SUBSTANTIATED),
        (ROTHERHAM, Outcome.NOT_SUBSTANTIATED),
        (SHEFFIELD, Outcome.NO_FURTHER_ACTION),
        (SHEFFIELD, Outcome.NO_FURTHER_ACTION),
    ):
        case = routed_case(local_authority=authority(code), organisation_name="Brightwater Residential Care Ltd")
        facts_record(case, supervisor, group_based="yes", suspects=3)
        if code == ROTHERHAM:
            referral_services.case_refer(case=case, summary="Please look.", acting_user=supervisor)
            referral = referral_of(case)
            referral_services.referral_acknowledge(referral=referral, acting_user=officer)
            referral_services.referral_record_outcome(
                referral=referral, outcome="practice_changed", note="Met on Monday.", acting_user=officer
            )
        cases.append(case_closed(case, supervisor, outcome))
    before = _figures()
    assert any(any(any(row) for row in counts) for _, _, counts in before["tables"])
    assert before["patterns"] and before["annual"]

    run = schedule.retention_apply(today=max(case.destroy_on for case in cases))

    assert run is not None and run.destroyed == 4
    assert all(Report.objects.get(pk=case.report_id).content_destroyed_on for case in cases)
    assert _figures() == before

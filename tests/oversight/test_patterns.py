"""National pattern alerts: the same organisation (by keyed hash) in several reports within a window,
an authority that keeps missing acknowledgements, a concern type rising in a region against its own
baseline. Thresholds from settings; case links only for the helpline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from oversight import selectors
from oversight.patterns import Alert, pattern_alerts
from referrals import services as referral_services
from referrals.models import Referral
from reports.models import ConcernType
from tests.factories import national_body, partnership_of_region, referral_of, signed_in_as
from tests.oversight.helpers import (
    MANCHESTER,
    ROTHERHAM,
    SHEFFIELD,
    YORKSHIRE,
    helpline_supervisor,
    new_case,
    referred_case,
    text,
)
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

SPELLINGS = ["Northside Children's Home Ltd", "NORTHSIDE CHILDREN'S HOME", "northside children's home, ltd."]


def alerts(kind: str, now: datetime | None = None) -> list[Alert]:
    return [a for a in pattern_alerts(now) if a.kind == kind]


def case_at(moment: datetime, code: str, **overrides: object) -> Case:
    with time_machine.travel(moment, tick=False):
        return new_case(code, **overrides)


# --- the same organisation ------------------------------------------------------------------------------


def test_the_same_organisation_in_three_reports_across_authorities_raises_one_alert() -> None:
    cases = [
        new_case(code, organisation_name=name)
        for code, name in zip((ROTHERHAM, SHEFFIELD, MANCHESTER), SPELLINGS, strict=True)
    ]
    new_case(ROTHERHAM, organisation_name="Southside Foster Care")  # another organisation, once

    found = alerts("same_organisation")

    assert len(found) == 1
    alert = found[0]
    assert alert.count == 3
    assert alert.case_numbers == sorted(c.case_number for c in cases)
    for name in ("Manchester", "Rotherham", "Sheffield"):
        assert name in alert.detail
    for spelling in SPELLINGS:
        assert spelling.lower() not in (alert.title + alert.detail).lower()
    assert "northside" not in (alert.title + alert.detail).lower()


def test_two_reports_naming_an_organisation_raise_no_alert() -> None:
    new_case(ROTHERHAM, organisation_name=SPELLINGS[0])
    new_case(SHEFFIELD, organisation_name=SPELLINGS[1])
    assert alerts("same_organisation") == []


def test_a_report_older_than_180_days_does_not_count() -> None:
    now = timezone.now()
    case_at(now - timedelta(days=200), ROTHERHAM, organisation_name=SPELLINGS[0])
    new_case(SHEFFIELD, organisation_name=SPELLINGS[1])
    new_case(MANCHESTER, organisation_name=SPELLINGS[2])

    assert alerts("same_organisation") == []
    # The same three within the window do.
    case_at(now - timedelta(days=170), ROTHERHAM, organisation_name=SPELLINGS[0])
    assert [a.count for a in alerts("same_organisation")] == [3]


def test_the_organisation_thresholds_come_from_settings(settings) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    new_case(ROTHERHAM, organisation_name=SPELLINGS[0])
    new_case(SHEFFIELD, organisation_name=SPELLINGS[1])
    case_at(now - timedelta(days=60), MANCHESTER, organisation_name=SPELLINGS[2])

    settings.PATTERN_ORGANISATION_MIN_REPORTS = 4
    assert alerts("same_organisation") == []
    settings.PATTERN_ORGANISATION_MIN_REPORTS = 2
    assert [a.count for a in alerts("same_organisation")] == [3]
    settings.PATTERN_ORGANISATION_DAYS = 30
    found = alerts("same_organisation")
    assert [a.count for a in found] == [2]
    assert "30 days" in found[0].detail


def test_an_organisation_named_without_its_apostrophe_is_the_same_organisation() -> None:
    """Reporters type names as they remember them: "Childrens" and "Children's" are one home. The
    normaliser turns the apostrophe into a space ("children s"), so the two never match."""
    new_case(ROTHERHAM, organisation_name="Northside Children's Home")
    new_case(SHEFFIELD, organisation_name="Northside Childrens Home")
    new_case(MANCHESTER, organisation_name="Northside Childrens Home Ltd")
    assert [a.count for a in alerts("same_organisation")] == [3]


def test_reports_naming_no_organisation_are_never_grouped() -> None:
    for code in (ROTHERHAM, SHEFFIELD, MANCHESTER):
        new_case(code, organisation_name="")
    assert alerts("same_organisation") == []


# --- missed acknowledgements ----------------------------------------------------------------------------


def test_an_authority_missing_three_acknowledgements_raises_an_alert() -> None:
    rotherham = [referred_case(ROTHERHAM) for _ in range(3)]
    # One of the three was acknowledged, but late: that is a miss too.
    Referral.objects.filter(case_id=rotherham[0].pk).update(
        acknowledged_at=referral_of(rotherham[0]).ack_due_at + timedelta(hours=2)
    )
    sheffield = [referred_case(SHEFFIELD) for _ in range(3)]
    Referral.objects.filter(case_id=sheffield[0].pk).update(acknowledged_at=timezone.now())  # on time
    later = timezone.now() + timedelta(days=7)

    found = alerts("missed_acknowledgements", later)

    assert [(a.count, a.title) for a in found] == [(3, "Rotherham missed 3 acknowledgement deadlines")]
    assert alerts("missed_acknowledgements", timezone.now()) == []  # nothing overdue yet


def test_the_missed_acknowledgement_threshold_comes_from_settings(settings) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2):
        referred_case(ROTHERHAM)
    later = timezone.now() + timedelta(days=7)
    assert alerts("missed_acknowledgements", later) == []
    settings.PATTERN_MISSED_ACK_MIN = 2
    assert [a.count for a in alerts("missed_acknowledgements", later)] == [2]


def test_referrals_to_national_bodies_are_never_an_authoritys_missed_acknowledgements() -> None:
    """Three Rotherham cases sent for review and three passed to the police, none acknowledged: no alert
    for them (no "None" authority), and Rotherham's own alert counts its referrals only."""
    supervisor = helpline_supervisor()
    for _ in range(3):
        referral_services.case_send_for_review(case=new_case(ROTHERHAM), reason="About it.", acting_user=supervisor)
        referral_services.case_escalate_police(
            case=new_case(ROTHERHAM),
            force=national_body("police-south-yorkshire"),
            how_sent="telephone",
            acting_user=supervisor,
        )
    rotherham = [referred_case(ROTHERHAM) for _ in range(2)]
    later = timezone.now() + timedelta(days=7)

    assert alerts("missed_acknowledgements", later) == []

    rotherham.append(referred_case(ROTHERHAM))
    found = alerts("missed_acknowledgements", later)
    assert [(a.count, a.title) for a in found] == [(3, "Rotherham missed 3 acknowledgement deadlines")]
    assert len(found[0].evidence) == 3


# --- rising concern types -------------------------------------------------------------------------------


def test_a_concern_type_rising_in_a_region_against_its_baseline_raises_an_alert() -> None:
    now = timezone.now()
    rising = ConcernType.RETALIATION_AGAINST_STAFF
    steady = ConcernType.UNSAFE_WORKLOAD_OR_RESOURCES
    for _ in range(5):  # Yorkshire: 5 this quarter, none before
        new_case(ROTHERHAM, concern_types=(rising,))
    for _ in range(5):  # the North West: 5 this quarter against 12 over the year before (3 a quarter)
        new_case(MANCHESTER, concern_types=(steady,))
    # The current window is counted in whole months, so it reaches back 90 to 120 days: the oldest of these
    # is 125 days ago, so that it is in the baseline on every day of the year (at 120 it was not, on the
    # days when 90 days ago was the 31st).
    for days_ago in (125, 150, 200, 230, 260, 290, 320, 330, 350, 380, 400, 420):
        case_at(now - timedelta(days=days_ago), MANCHESTER, concern_types=(steady,))
    for _ in range(4):  # too few to count as a pattern
        new_case(SHEFFIELD, concern_types=(ConcernType.INFORMATION_NOT_SHARED,))
    selectors.stats_refresh()

    found = alerts("rising_concern")

    assert [a.title for a in found] == [f"{rising.label} rising in {YORKSHIRE}"]
    assert found[0].count == 5
    assert "baseline of 0.0" in found[0].detail


def test_a_rising_concern_needs_the_summary_views_refreshed() -> None:
    # Start from views that hold this test's (empty) data: a flush after a transactional test that
    # refreshed them leaves their rows behind.
    selectors.stats_refresh()
    for _ in range(5):
        new_case(ROTHERHAM, concern_types=(ConcernType.RETALIATION_AGAINST_STAFF,))
    assert alerts("rising_concern") == []  # the summary view has not been refreshed yet
    selectors.stats_refresh()
    assert len(alerts("rising_concern")) == 1


# --- the page -------------------------------------------------------------------------------------------


def test_the_pattern_page_links_cases_only_for_helpline_supervisors() -> None:
    cases = [
        new_case(code, organisation_name=name)
        for code, name in zip((ROTHERHAM, SHEFFIELD, MANCHESTER), SPELLINGS, strict=True)
    ]
    supervisor, _ = signed_in_as(User.Role.SUPERVISOR)
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    for_supervisor = supervisor.get("/staff/patterns")
    for_analyst = analyst.get("/staff/patterns")

    assert for_supervisor.status_code == for_analyst.status_code == 200
    supervisor_body, analyst_body = text(for_supervisor), text(for_analyst)
    assert "The same organisation named in 3 reports" in supervisor_body
    assert "The same organisation named in 3 reports" in analyst_body
    for case in cases:
        assert f'href="/staff/cases/{case.case_number}"' in supervisor_body
        assert case.case_number not in analyst_body
        for body in (supervisor_body, analyst_body):
            assert case.report.reference not in body
    for body in (supervisor_body, analyst_body):
        assert "northside" not in body.lower()


@pytest.mark.parametrize(
    "role", [User.Role.PARTNERSHIP, User.Role.AUTHORITY_OFFICER, User.Role.CALL_HANDLER, User.Role.ADMINISTRATOR]
)
def test_the_pattern_page_is_refused_to_everyone_else(role: str) -> None:
    client, _ = signed_in_as(role, partnership=partnership_of_region(YORKSHIRE))
    assert client.get("/staff/patterns").status_code == 403

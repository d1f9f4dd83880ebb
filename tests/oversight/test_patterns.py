"""National pattern alerts from real reports and referrals: the same organisation (by keyed hash) in several
reports within a window; the weekly series detection judges (oversight.series), counted as the services
leave reports and referrals; the alerts page, with case links for the helpline only. The statistics on
seeded histories are in tests/patterns/."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from accounts.models import User
from oversight import detection, series
from oversight.models import PatternAlert
from oversight.patterns import Alert, same_organisation
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
from triage.models import Case, CaseFacts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

SPELLINGS = ["Northside Children's Home Ltd", "NORTHSIDE CHILDREN'S HOME", "northside children's home, ltd."]


def alerts(kind: str, now: datetime | None = None) -> list[Alert]:
    assert kind == "same_organisation"
    return same_organisation(now or timezone.now())


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


# --- the weekly series -----------------------------------------------------------------------------------


def this_week() -> series.Weeks:
    """The weeks up to and including the current one (the series can count any span of whole weeks)."""
    start = series.period_start(timezone.localdate())
    return series.Weeks(first=start - timedelta(weeks=3), last=start)


def test_a_report_counts_once_in_each_of_its_concern_types_in_its_region() -> None:
    both = (ConcernType.RETALIATION_AGAINST_STAFF, ConcernType.INFORMATION_NOT_SHARED)
    new_case(ROTHERHAM, concern_types=both)
    new_case(SHEFFIELD, concern_types=(ConcernType.RETALIATION_AGAINST_STAFF,))
    new_case(MANCHESTER, concern_types=(ConcernType.RETALIATION_AGAINST_STAFF,))

    found = {(s.key["region"], s.key["concern_type"]): s.counts for s in series.concern_series(this_week())}

    assert found == {
        (YORKSHIRE, ConcernType.RETALIATION_AGAINST_STAFF): [0, 0, 0, 2],
        (YORKSHIRE, ConcernType.INFORMATION_NOT_SHARED): [0, 0, 0, 1],
        ("North West", ConcernType.RETALIATION_AGAINST_STAFF): [0, 0, 0, 1],
    }


def test_case_facts_count_in_their_own_series_by_region() -> None:
    """Settings (each of a case's), group-based exploitation (yes only) and Ofsted's classification (when
    recorded), in the region of the case, by the week of its report; a case with no facts counts in none."""
    first, second = new_case(ROTHERHAM), new_case(MANCHESTER)
    new_case(SHEFFIELD)  # no facts recorded
    CaseFacts.objects.update_or_create(
        case=first, defaults={"settings": ["taxis", "hotels"], "group_based": "yes", "ofsted_class": "systemic_failure"}
    )
    CaseFacts.objects.update_or_create(case=second, defaults={"settings": ["taxis"], "group_based": "no"})

    found = {tuple(sorted(s.key.items())): s.counts[-1] for s in series.facts_series(this_week())}

    assert found == {
        (("region", YORKSHIRE), ("setting", "taxis")): 1,
        (("region", YORKSHIRE), ("setting", "hotels")): 1,
        (("region", "North West"), ("setting", "taxis")): 1,
        (("group_based", "yes"), ("region", YORKSHIRE)): 1,
        (("ofsted_class", "systemic_failure"), ("region", YORKSHIRE)): 1,
    }


def test_late_acknowledgements_count_in_the_week_they_were_due_and_only_for_authorities() -> None:
    """Three Rotherham referrals, one acknowledged on time; referrals to national bodies (a review, the
    police) are no authority's. Counted once their deadline has passed, in the week it fell in."""
    supervisor = helpline_supervisor()
    for _ in range(2):
        referral_services.case_send_for_review(case=new_case(ROTHERHAM), reason="About it.", acting_user=supervisor)
        referral_services.case_escalate_police(
            case=new_case(ROTHERHAM),
            force=national_body("police-south-yorkshire"),
            how_sent="telephone",
            acting_user=supervisor,
        )
    rotherham = [referred_case(ROTHERHAM) for _ in range(3)]
    Referral.objects.filter(case_id=rotherham[0].pk).update(acknowledged_at=timezone.now())
    due = timezone.localdate(referral_of(rotherham[1]).ack_due_at)
    later = timezone.now() + timedelta(days=14)

    with time_machine.travel(later, tick=False):
        weeks = series.Weeks(first=series.period_start(due) - timedelta(weeks=1), last=series.period_start(due))
        found = {(s.key["authority"], s.key["outcome_class"]): s.counts for s in series.lateness_series(weeks)}
        standard = series.standard_lateness(timezone.localdate() - timedelta(days=20), timezone.localdate())

    assert found[(ROTHERHAM, series.ACK_LATE)] == [0, 2]
    assert {key[0] for key in found} == {ROTHERHAM}
    assert [(row.authority, row.referrals, row.late) for row in standard] == [(ROTHERHAM, 3, 2)]


def test_a_referral_acknowledged_after_one_working_day_is_late_against_the_standard() -> None:
    """Referred on a Friday: due by the end of Monday (core.calendar). Acknowledged on Monday is on time,
    on Tuesday late."""
    friday = datetime(2026, 11, 6, 10, 0, tzinfo=timezone.get_current_timezone())
    with time_machine.travel(friday, tick=False):
        cases = [referred_case(ROTHERHAM) for _ in range(2)]
    Referral.objects.filter(case_id=cases[0].pk).update(acknowledged_at=friday + timedelta(days=3))  # Monday
    Referral.objects.filter(case_id=cases[1].pk).update(acknowledged_at=friday + timedelta(days=4))  # Tuesday
    [row] = series.standard_lateness(friday.date(), friday.date() + timedelta(days=7))
    assert (row.referrals, row.late) == (2, 1)


# --- the page -------------------------------------------------------------------------------------------


def test_the_pattern_page_links_cases_only_for_helpline_supervisors() -> None:
    cases = [
        new_case(code, organisation_name=name)
        for code, name in zip((ROTHERHAM, SHEFFIELD, MANCHESTER), SPELLINGS, strict=True)
    ]
    detection.detect()
    [alert] = PatternAlert.objects.filter(kind="organisation")
    supervisor, _ = signed_in_as(User.Role.SUPERVISOR)
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    for_supervisor = supervisor.get(f"/staff/patterns/{alert.pk}")
    for_analyst = analyst.get(f"/staff/patterns/{alert.pk}")

    assert for_supervisor.status_code == for_analyst.status_code == 200
    supervisor_body, analyst_body = text(for_supervisor), text(for_analyst)
    assert "The same organisation named in 3 reports" in supervisor_body
    assert "The same organisation named in 3 reports" in analyst_body
    assert "The same organisation named in 3 reports" in text(analyst.get("/staff/patterns"))
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

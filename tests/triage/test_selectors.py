"""triage.selectors, function by function: who sees which case, the case list, one case, its timeline and
access history, and what a reporter is told about where their concern is."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from referrals import services as referral_services
from reports.models import Channel
from reports.services import report_submit
from tests.factories import (
    national_body,
    partnership_of_region,
    referral_make,
    report_input,
    reviewed_case,
    routed_case,
    staff_user,
    submit_report,
)
from triage import case_actions as actions
from triage import selectors
from triage.case_content import content_viewed
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case
from triage.selectors import CaseFilters

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 11, 9, 0, tzinfo=LONDON)  # a Wednesday
S = Case.Status


def authority(code: str) -> LocalAuthority:
    found = authority_by_code(code)
    assert found is not None
    return found


@pytest.fixture
def rotherham() -> LocalAuthority:
    return authority("E08000018")


@pytest.fixture
def sheffield() -> LocalAuthority:
    return authority("E08000039")


@pytest.fixture
def supervisor() -> User:
    return staff_user("sup", role=User.Role.SUPERVISOR)


@pytest.fixture
def handler() -> User:
    return staff_user("handler", role=User.Role.CALL_HANDLER)


def officer_of(*authorities: LocalAuthority, username: str = "officer") -> User:
    user = staff_user(username, role=User.Role.AUTHORITY_OFFICER)
    user.authorities.add(*authorities)
    return user


def referred(referrer: User, **overrides: Any) -> Case:
    case = routed_case(**overrides)
    referral_services.case_refer(case=case, summary="For the authority", acting_user=referrer)
    case.refresh_from_db()
    return case


def numbers(cases: Any) -> set[str]:
    return {case.case_number for case in cases}


# --- case_queryset_for ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [User.Role.CALL_HANDLER, User.Role.SUPERVISOR])
def test_helpline_staff_see_every_case(role: str, supervisor: User, rotherham: LocalAuthority) -> None:
    cases = [routed_case(), referred(supervisor), routed_case(about_authority=rotherham)]
    assert numbers(selectors.case_queryset_for(staff_user("someone", role=role))) == numbers(cases)


def test_an_officer_sees_only_the_referred_cases_of_their_own_authorities(
    supervisor: User, rotherham: LocalAuthority, sheffield: LocalAuthority
) -> None:
    ours = referred(supervisor)
    routed_case()  # routed to Rotherham but not referred yet
    theirs = referred(supervisor, local_authority=sheffield)
    assert numbers(selectors.case_queryset_for(officer_of(rotherham))) == {ours.case_number}
    both = officer_of(rotherham, sheffield, username="officer-both")
    assert numbers(selectors.case_queryset_for(both)) == {ours.case_number, theirs.case_number}


def test_an_officer_never_sees_a_case_about_their_own_council(supervisor: User, rotherham: LocalAuthority) -> None:
    about_us = routed_case(about_authority=rotherham)
    assert about_us.conflict_authority_id == rotherham.pk
    # However it came to carry Rotherham as its authority and a referral row, it stays invisible.
    Case.objects.filter(pk=about_us.pk).update(authority=rotherham)
    referral_make(about_us, authority=rotherham)
    visible = referred(supervisor)
    assert numbers(selectors.case_queryset_for(officer_of(rotherham))) == {visible.case_number}


def test_an_officer_loses_sight_of_a_referral_sent_to_independent_review(
    supervisor: User, rotherham: LocalAuthority
) -> None:
    case = referred(supervisor)
    officer = officer_of(rotherham)
    assert numbers(selectors.case_queryset_for(officer)) == {case.case_number}
    actions.case_escalate(case=case, route="national_review", reason="About the council.", acting_user=supervisor)
    assert Case.objects.filter(pk=case.pk, referrals__isnull=False, independent_review=True).exists()
    assert not selectors.case_queryset_for(officer).exists()


@pytest.mark.parametrize("role", [User.Role.PARTNERSHIP, User.Role.OVERSIGHT_ANALYST, User.Role.ADMINISTRATOR])
def test_other_roles_see_no_cases(role: str, supervisor: User, rotherham: LocalAuthority) -> None:
    referred(supervisor)
    routed_case()
    user = staff_user("other", role=role, partnership=partnership_of_region("Yorkshire and The Humber"))
    user.authorities.add(rotherham)  # even a stray authority link opens nothing
    assert not selectors.case_queryset_for(user).exists()


# --- case_list -------------------------------------------------------------------------------------------


def listed(user: User, **filters: Any) -> list[str]:
    return [str(row["case_number"]) for row in selectors.case_list(user=user, filters=CaseFilters(**filters)).rows]


def test_the_case_list_is_for_helpline_staff_only(rotherham: LocalAuthority) -> None:
    with pytest.raises(PermissionDenied):
        selectors.case_list(user=officer_of(rotherham), filters=CaseFilters())


def test_the_case_list_filters(handler: User, supervisor: User) -> None:
    plain = routed_case()
    unknown = routed_case(local_authority=None)
    urgent = routed_case(child_at_immediate_risk=True)
    actions.case_claim(case=urgent, acting_user=handler)
    closed = routed_case()
    actions.case_close(case=closed, outcome="duplicate", feedback="Thank you", acting_user=supervisor)
    late = routed_case()
    Case.objects.filter(pk=late.pk).update(triage_due_at=timezone.now() - timedelta(hours=1))
    n = {"plain": plain, "unknown": unknown, "urgent": urgent, "closed": closed, "late": late}
    names = {case.case_number: name for name, case in n.items()}

    def names_of(**filters: Any) -> set[str]:
        return {names[number] for number in listed(handler, **filters)}

    assert names_of() == {"plain", "unknown", "urgent", "late"}
    assert names_of(include_closed=True) == set(n)
    assert names_of(status=S.CLOSED) == {"closed"}
    assert names_of(status=S.IN_TRIAGE) == {"urgent"}
    assert names_of(queue="urgent") == {"urgent"}
    assert names_of(priority=Case.Priority.STANDARD) == {"plain", "unknown", "late"}
    assert names_of(authority="unknown") == {"unknown"}
    assert names_of(authority="E08000018") == {"plain", "urgent", "late"}
    assert names_of(assignee="none") == {"plain", "unknown", "late"}
    assert names_of(assignee="handler") == {"urgent"}
    assert names_of(overdue=True) == {"late"}


def test_search_finds_one_case_by_reference_or_case_number_whatever_the_other_filters(supervisor: User) -> None:
    closed = routed_case()
    actions.case_close(case=closed, outcome="duplicate", feedback="Thank you", acting_user=supervisor)
    other = routed_case()
    reference = closed.report.reference
    assert listed(supervisor, search=f"  {reference.lower()} ", queue="urgent") == [closed.case_number]
    assert listed(supervisor, search=other.case_number.lower()) == [other.case_number]
    assert listed(supervisor, search="ZZZZ-ZZZZ-ZZZZ") == []


def test_the_case_list_sorts_by_deadline_either_way_or_by_age(handler: User) -> None:
    with time_machine.travel(NOW, tick=False) as traveller:
        first = routed_case()  # due tomorrow 09:00
        traveller.move_to(NOW + timedelta(hours=1))
        urgent = routed_case(child_at_immediate_risk=True)  # due today 11:00
        traveller.move_to(NOW + timedelta(hours=2))
        last = routed_case()  # due tomorrow 11:00
        a, b, c = first.case_number, urgent.case_number, last.case_number
        assert listed(handler) == [b, a, c]
        assert listed(handler, sort="deadline") == [b, a, c]
        assert listed(handler, sort="-deadline") == [c, a, b]
        assert listed(handler, sort="newest") == [c, b, a]
        assert listed(handler, sort="oldest") == [a, b, c]
        assert listed(handler, sort="whatever") == [b, a, c]


def test_the_case_list_pages_and_says_whether_there_is_more(handler: User) -> None:
    for _ in range(26):
        routed_case()
    in_order = list(Case.objects.order_by("triage_due_at", "id").values_list("case_number", flat=True))
    first = selectors.case_list(user=handler, filters=CaseFilters(page_size=25))
    assert [row["case_number"] for row in first.rows] == in_order[:25]
    assert first.has_next and first.page == 1
    second = selectors.case_list(user=handler, filters=CaseFilters(page_size=25, page=2))
    assert [row["case_number"] for row in second.rows] == in_order[25:]
    assert not second.has_next
    odd = selectors.case_list(user=handler, filters=CaseFilters(page_size=7, page=0))
    assert (odd.page_size, odd.page, len(odd.rows), odd.has_next) == (50, 1, 26, False)


# --- one case, its timeline and access history ------------------------------------------------------------


def test_case_get_for_returns_a_case_in_scope_and_404_outside_it(
    handler: User, supervisor: User, rotherham: LocalAuthority, sheffield: LocalAuthority
) -> None:
    case = referred(supervisor)
    assert selectors.case_get_for(user=handler, case_number=case.case_number).pk == case.pk
    assert selectors.case_get_for(user=officer_of(rotherham), case_number=case.case_number).pk == case.pk
    with pytest.raises(Http404):
        selectors.case_get_for(user=officer_of(sheffield, username="sheffield-officer"), case_number=case.case_number)
    with pytest.raises(Http404):
        selectors.case_get_for(
            user=staff_user("analyst", role=User.Role.OVERSIGHT_ANALYST), case_number=case.case_number
        )
    with pytest.raises(Http404):
        selectors.case_get_for(user=handler, case_number="2026-NOPE00")


def test_the_timeline_starts_with_the_phone_call_recorded_on_the_report(handler: User) -> None:
    report = report_submit(data=report_input(), channel=Channel.PHONE, acting_user=handler).report
    case = report_route(report_id=report.pk)
    actions.case_claim(case=case, acting_user=handler)
    routed_case()  # another case's events stay on its own timeline
    timeline = selectors.case_timeline(case=case)
    assert [(event.kind, event.subject_kind) for event in timeline] == [
        ("report_taken_by_phone", "report"),
        ("case_routed", "case"),
        ("claim", "case"),
    ]
    assert timeline[0].subject_id == report.pk
    assert timeline[0].actor == handler


def test_only_supervisors_see_who_opened_a_case_newest_first(handler: User, supervisor: User) -> None:
    case = routed_case()
    for _ in range(3):
        content_viewed(case=case, acting_user=handler)
    content_viewed(case=case, acting_user=supervisor)
    content_viewed(case=routed_case(), acting_user=handler)  # another case
    history = selectors.case_access_history(user=supervisor, case=case)
    assert [(row["actor__username"], row["views"]) for row in history] == [("sup", 1), ("handler", 3)]
    assert selectors.case_access_history(user=handler, case=case) == []


def test_views_stay_out_of_the_timeline_and_it_filters_by_kind(handler: User) -> None:
    case = routed_case()
    actions.case_claim(case=case, acting_user=handler)
    for _ in range(27):
        content_viewed(case=case, acting_user=handler)
    actions.case_add_note(case=case, body="Called the school.", acting_user=handler)
    assert [event.kind for event in selectors.case_timeline(case=case)] == ["case_routed", "claim", "add_note"]
    assert selectors.case_timeline_kinds(case=case) == ["case_routed", "claim", "add_note"]
    assert [event.kind for event in selectors.case_timeline(case=case, kind="add_note")] == ["add_note"]
    # Every view is still an audit event.
    assert case_events(case).filter(kind="content_viewed").count() == 27


# --- reporter_status ---------------------------------------------------------------------------------------

REPORTER_CODES = {
    S.NEW: "with_helpline",
    S.IN_TRIAGE: "with_helpline",
    S.AWAITING_REPORTER: "question_for_you",
    S.REFERRED: "referred",
    S.NATIONAL_REVIEW: "national_review",
    S.CLOSED: "closed",
}


def test_every_case_status_has_a_reporter_wording_in_this_test() -> None:
    assert set(REPORTER_CODES) == set(S.values)


@pytest.mark.parametrize("status", list(S.values))
def test_each_case_status_is_told_to_the_reporter_in_their_words(status: str) -> None:
    case = routed_case()
    Case.objects.filter(pk=case.pk).update(status=status)
    told = selectors.reporter_status(case.report)
    assert told.code == REPORTER_CODES[status]
    assert told.label and told.explanation
    for hidden in ("Rotherham", case.case_number):
        assert hidden not in f"{told.label} {told.explanation}"


def test_a_report_without_a_case_yet_is_received() -> None:
    report = submit_report().report
    told = selectors.reporter_status(report)
    assert (told.code, told.label) == ("received", "Received")


def test_a_closed_case_still_tells_the_reporter_who_else_has_their_concern(supervisor: User) -> None:
    case, review = reviewed_case(supervisor)
    reviewer = staff_user("reviewer", role=User.Role.NATIONAL_REVIEWER)
    referral_services.referral_acknowledge(referral=review, acting_user=reviewer)
    referral_services.referral_refer_on(
        referral=review, body=national_body("ofsted"), how_sent="telephone", acting_user=reviewer
    )
    referral_services.case_refer_national_body(
        case=case, body=national_body("cqc"), how_sent="telephone", summary="A health setting.", acting_user=supervisor
    )
    actions.case_close(case=case, outcome="substantiated", feedback="Thank you.", acting_user=supervisor)
    told = selectors.reporter_status(case.report)
    assert told.code == "closed"
    assert told.review_passed_on == ("Ofsted",)
    assert told.passed_on == ("the Care Quality Commission",)


def test_the_reporter_reads_to_the_day_how_far_the_independent_review_has_gone(supervisor: User) -> None:
    reviewer = staff_user("reviewer", role=User.Role.NATIONAL_REVIEWER)
    saturday, monday = datetime(2026, 12, 5, 10, 0, tzinfo=LONDON), datetime(2026, 12, 7, 9, 0, tzinfo=LONDON)
    with time_machine.travel(saturday, tick=False):
        case, review = reviewed_case(supervisor)
    sent = selectors.reporter_status(case.report)
    assert sent.under_review and sent.review_sent_on == saturday.date()
    assert sent.review_acknowledged_on is None and sent.review_findings_on is None
    assert "records its findings" in sent.explanation

    with time_machine.travel(monday, tick=False):
        referral_services.referral_acknowledge(referral=review, acting_user=reviewer)
    acknowledged = selectors.reporter_status(case.report)
    assert acknowledged.review_acknowledged_on == monday.date() and acknowledged.review_findings_on is None
    assert acknowledged.outcome_due_on is not None

    with time_machine.travel(monday + timedelta(days=2), tick=False):
        referral_services.referral_record_outcome(
            referral=review, outcome="review_upheld", note="FINDINGS-Zq4 were hidden.", acting_user=reviewer
        )
    found = selectors.reporter_status(case.report)
    assert found.review_findings_on == (monday + timedelta(days=2)).date()
    assert found.outcome_due_on is None
    assert "recorded its findings" in found.explanation and "records its findings" not in found.explanation
    assert "FINDINGS-Zq4" not in f"{found.label} {found.explanation}"

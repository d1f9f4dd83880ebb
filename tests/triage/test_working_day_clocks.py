"""Issue 22, point 9: every clock counted in working days follows one rule. A clock of N working days ends at
the end of the Nth working day after the London day the thing arrived, whatever day that was: Sunday →
Monday, Wednesday → Thursday, a bank-holiday Monday → Tuesday. Triage, the authority's acknowledgement and
outcome (and the ladder's second rungs), and the authority's questions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import User
from directory.lookup import authority_by_code
from referrals import services as referral_services
from tests.factories import referral_of, staff_user, submit_report
from triage import deadlines
from triage.intake import report_route
from triage.models import Case

LONDON = ZoneInfo("Europe/London")


def end_of(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=LONDON)


# Arrival day → the 1st, 2nd, 3rd, 45th and 47th working days after it. November 2026 has no bank holiday;
# the 45th and 47th run into January 2027 past Christmas Day, Boxing Day's substitute (Monday 28 December)
# and New Year's Day.
WEEK = {
    "Monday": (date(2026, 11, 9), date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)),
    "Tuesday": (date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12), date(2026, 11, 13)),
    "Wednesday": (date(2026, 11, 11), date(2026, 11, 12), date(2026, 11, 13), date(2026, 11, 16)),
    "Thursday": (date(2026, 11, 12), date(2026, 11, 13), date(2026, 11, 16), date(2026, 11, 17)),
    "Friday": (date(2026, 11, 13), date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)),
    "Saturday": (date(2026, 11, 14), date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)),
    "Sunday": (date(2026, 11, 15), date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)),
    # The summer bank holiday: counted from Tuesday 1 September.
    "bank holiday Monday": (date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2), date(2026, 9, 3)),
}
ONE: dict[str, Callable[[datetime], datetime]] = {
    "triage": lambda sent: deadlines.triage_due(sent, urgent=False),
    "authority acknowledgement": deadlines.authority_ack_due,
}


@pytest.mark.parametrize("arrival", WEEK, ids=list(WEEK))
@pytest.mark.parametrize("clock", ONE, ids=list(ONE))
@pytest.mark.parametrize("at", [time(0, 0), time(9, 30), time(23, 45)], ids=["midnight", "morning", "late"])
def test_a_one_working_day_clock_ends_at_the_end_of_the_next_working_day(arrival: str, clock: str, at: time) -> None:
    arrived, first, _, _ = WEEK[arrival]
    assert ONE[clock](datetime.combine(arrived, at, tzinfo=LONDON)) == end_of(first)


@pytest.mark.parametrize("arrival", WEEK, ids=list(WEEK))
def test_the_longer_clocks_count_the_same_way(arrival: str) -> None:
    arrived, _, second, third = WEEK[arrival]
    moment = datetime.combine(arrived, time(15, 0), tzinfo=LONDON)
    assert deadlines.question_answer_due(moment) == end_of(second)
    assert deadlines.authority_ack_escalate(moment) == end_of(third)


@pytest.mark.parametrize(
    ("arrived", "outcome", "outcome_escalate"),
    [
        (date(2026, 11, 15), date(2027, 1, 20), date(2027, 1, 22)),  # a Sunday
        (date(2026, 11, 16), date(2027, 1, 21), date(2027, 1, 25)),  # the Monday after: one day later
    ],
)
def test_the_outcome_clocks_count_the_same_way(arrived: date, outcome: date, outcome_escalate: date) -> None:
    moment = datetime.combine(arrived, time(11, 0), tzinfo=LONDON)
    assert deadlines.authority_outcome_due(moment) == end_of(outcome)
    assert deadlines.authority_outcome_escalate(moment) == end_of(outcome_escalate)


# --- through the services: a Sunday report, a Saturday referral, a question asked on a bank holiday --------


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_a_report_sent_on_a_sunday_is_due_for_triage_at_the_end_of_monday() -> None:
    with time_machine.travel(datetime(2026, 12, 6, 15, 0, tzinfo=LONDON), tick=False):  # Sunday 6 December
        case = report_route(report_id=submit_report().report.pk)
    assert case.triage_due_at == end_of(date(2026, 12, 7))  # not the end of Tuesday


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_a_saturday_referral_and_a_bank_holiday_question_are_due_the_next_working_day() -> None:
    handler = staff_user("handler", role=User.Role.CALL_HANDLER)
    officer = staff_user("officer", role=User.Role.AUTHORITY_OFFICER)
    rotherham = authority_by_code("E08000018")
    assert rotherham is not None
    officer.authorities.add(rotherham)
    case = report_route(report_id=submit_report(local_authority=rotherham).report.pk)
    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=LONDON), tick=False):  # Saturday 5 December
        referral_services.case_refer(case=case, summary="Please visit", acting_user=handler)
    case = Case.objects.get(pk=case.pk)
    assert referral_of(case).ack_due_at == end_of(date(2026, 12, 7))  # the end of Monday, not midnight on Tuesday
    assert referral_of(case).ack_escalate_at == end_of(date(2026, 12, 9))
    with time_machine.travel(datetime(2026, 12, 28, 10, 0, tzinfo=LONDON), tick=False):  # Boxing Day's substitute
        question = referral_services.referral_ask_helpline(
            referral=referral_of(case), question="Which school?", acting_user=officer
        )
    assert question.answer_due_at == end_of(date(2026, 12, 30))  # Tuesday 29th, Wednesday 30th

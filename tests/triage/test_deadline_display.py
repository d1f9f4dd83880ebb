"""Issue 22, point 10: deadlines read as GOV.UK writes them, "by 11:59pm on Monday 7 December 2026", on every
staff page that shows one (the case page, the case list, the home page, the authority's referral page and
list), exact clocks with their time ("by 3:15pm on …"), and never "00:00"."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from accounts.models import User
from directory.lookup import authority_by_code
from referrals import services as referral_services
from referrals.models import Referral
from tests.factories import referral_of, signed_in, staff_with_mfa, submit_report
from tests.triage.page_text import section, text
from triage.escalations import deadlines_sweep
from triage.intake import report_route
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
ROTHERHAM = "E08000018"
SUNDAY = datetime(2026, 12, 6, 14, 15, tzinfo=LONDON)
END_OF_MONDAY = "11:59pm on Monday 7 December 2026"
# A clock time as Django's old formats printed it ("00:00", "23:59", "15:15").
TWENTY_FOUR_HOUR = re.compile(r"\b\d{2}:\d{2}\b")


@pytest.fixture
def people() -> dict[str, User]:
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    officer.authorities.add(rotherham)
    return {
        "handler": staff_with_mfa("handler", role=User.Role.CALL_HANDLER)[0],
        "supervisor": staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)[0],
        "officer": officer,
    }


def test_a_sunday_reports_triage_deadline_reads_by_11_59pm_on_monday(people: dict[str, User]) -> None:
    with time_machine.travel(SUNDAY, tick=False):
        case = report_route(report_id=submit_report().report.pk)
        client = signed_in(people["handler"])
        page = text(client.get(f"/staff/cases/{case.case_number}"))
        listing = text(client.get("/staff/cases"))
    deadlines = section(page, '<h2 class="govuk-heading-m">Deadlines</h2>', "</dl>")
    assert f"by {END_OF_MONDAY} (on time)" in deadlines  # 33 hours ahead
    assert not TWENTY_FOUR_HOUR.search(deadlines)
    row = section(listing, f">{case.case_number}</a>", "</tr>")
    assert f"Triage<br>by {END_OF_MONDAY}" in row
    assert not TWENTY_FOUR_HOUR.search(row)


def test_the_urgent_one_hour_clock_shows_its_time(people: dict[str, User]) -> None:
    with time_machine.travel(SUNDAY, tick=False):
        case = report_route(report_id=submit_report(child_at_immediate_risk=True).report.pk)
        client = signed_in(people["handler"])
        page = text(client.get(f"/staff/cases/{case.case_number}"))
        listing = text(client.get("/staff/cases"))
    assert "by 3:15pm on Sunday 6 December 2026 (due soon)" in page
    assert "by 3:15pm on Sunday 6 December 2026" in section(listing, f">{case.case_number}</a>", "</tr>")


def test_a_met_triage_clock_keeps_the_day_only_and_shows_no_time(people: dict[str, User]) -> None:
    with time_machine.travel(SUNDAY, tick=False):
        case = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
        referral_services.case_refer(case=case, summary="Please visit", acting_user=people["handler"])
        page = text(signed_in(people["handler"]).get(f"/staff/cases/{case.case_number}"))
    deadlines = section(page, '<h2 class="govuk-heading-m">Deadlines</h2>', "</dl>")
    # The triage clock: done when the case was referred (issue 22: when it was done, not its due date), and
    # its due date kept to the day only.
    assert (
        'Done at 2:15pm on Sunday 6 December 2026 <span class="govuk-body-s">(due by Monday 7 December 2026)'
        in deadlines
    )
    assert f"by {END_OF_MONDAY} (on time)" in deadlines  # the authority's acknowledgement
    assert not TWENTY_FOUR_HOUR.search(deadlines)


def referred_on_saturday(people: dict[str, User]) -> Case:
    # Reported well before, so that no other deadline on the page (triage's) falls in the week these tests
    # read, whatever today's date is.
    with time_machine.travel(datetime(2026, 11, 16, 10, 0, tzinfo=LONDON), tick=False):
        case = report_route(report_id=submit_report(local_authority=authority_by_code(ROTHERHAM)).report.pk)
    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=LONDON), tick=False):
        referral_services.case_refer(case=case, summary="Please visit", acting_user=people["handler"])
    return Case.objects.get(pk=case.pk)


def test_the_authority_sees_its_deadlines_in_gov_uk_style(people: dict[str, User]) -> None:
    case = referred_on_saturday(people)
    with time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=LONDON), tick=False):
        referral_services.referral_ask_helpline(
            referral=referral_of(case), question="Which school?", acting_user=people["officer"]
        )
        officer = signed_in(people["officer"])
        page = text(officer.get(f"/staff/referrals/{case.case_number}", follow=True))
        listing = text(officer.get("/staff/referrals"))
        helpline = signed_in(people["handler"])
        home = text(helpline.get("/staff/"))
        case_page = text(helpline.get(f"/staff/cases/{case.case_number}"))
    summary = section(page, "Acknowledge by", "</dl>")
    assert f'Acknowledge by</dt><dd class="govuk-summary-list__value">{END_OF_MONDAY}' in summary
    assert 'Outcome by</dt><dd class="govuk-summary-list__value">11:59pm on Wednesday 10 February 2027' in summary
    # The question, asked on Monday: 2 working days, the end of Wednesday.
    assert "waiting for an answer, due by 11:59pm on Wednesday 9 December 2026" in page
    assert f'data-testid="ack-due-{case.case_number}">{END_OF_MONDAY} (due soon)' in listing
    assert f'data-testid="outcome-due-{case.case_number}">11:59pm on Wednesday 10 February 2027 (on time)' in listing
    questions = section(home, 'id="questions"', "</table>")
    assert "11:59pm on Wednesday 9 December 2026" in questions
    assert "reply by 11:59pm on Wednesday 9 December 2026" in case_page
    # No clock time but the referral's own (an event, not a deadline: "5 Dec 2026 10:00").
    for shown in (summary, section(listing, "<tbody", "</tbody>"), questions):
        assert TWENTY_FOUR_HOUR.findall(shown) in ([], ["10:00"]), shown


def test_a_midnight_deadline_stored_before_the_rule_changed_reads_as_the_end_of_the_day_before(
    people: dict[str, User],
) -> None:
    """The old rule counted a weekend referral from Monday's midnight: its acknowledgement was stored as
    midnight on Tuesday 8 December, shown as "8 December 2026 00:00" and read as the end of the 8th."""
    case = referred_on_saturday(people)
    Referral.objects.filter(case_id=case.pk).update(ack_due_at=datetime(2026, 12, 8, 0, 0, tzinfo=LONDON))
    with time_machine.travel(datetime(2026, 12, 7, 9, 0, tzinfo=LONDON), tick=False):
        page = text(signed_in(people["officer"]).get(f"/staff/referrals/{case.case_number}", follow=True))
        case_page = text(signed_in(people["handler"]).get(f"/staff/cases/{case.case_number}"))
    assert f'Acknowledge by</dt><dd class="govuk-summary-list__value">{END_OF_MONDAY}' in page
    assert f"by {END_OF_MONDAY} (due soon)" in case_page
    for body in (page, case_page):
        assert "00:00" not in body and "8 December 2026" not in body


def test_the_timeline_names_the_missed_deadline_in_gov_uk_style(people: dict[str, User]) -> None:
    case = referred_on_saturday(people)
    with time_machine.travel(datetime(2026, 12, 8, 0, 5, tzinfo=LONDON), tick=False):
        deadlines_sweep(now=datetime(2026, 12, 8, 0, 5, tzinfo=LONDON))
        page = text(signed_in(people["supervisor"]).get(f"/staff/cases/{case.case_number}"))
    timeline = section(page, '<ol class="app-timeline">', "</ol>")
    assert f"missed the deadline of {END_OF_MONDAY}" in timeline

"""Issue 22, point 16: the helpline's home page shows "My cases", the open cases with a new message from the
reporter, the cases whose authority has recorded its outcome (feedback to the reporter due), and, for the
urgent queue, the time left on the soonest clock instead of "Due today"."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from directory.lookup import authority_by_code
from referrals import services as referral_services
from reports.services import message_send_from_reporter, report_unlock
from tests.factories import SubmittedReport, referral_of, reviewer, sign_in, staff_with_mfa, submit_report
from tests.triage.page_text import section, text
from triage import case_actions as actions
from triage.intake import report_route
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
ROTHERHAM = "E08000018"
NOW = datetime(2026, 3, 11, 14, 30, tzinfo=LONDON)  # a Wednesday afternoon


@pytest.fixture
def people() -> dict[str, User]:
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    officer.authorities.add(rotherham)
    return {
        "handler": staff_with_mfa("handler", role=User.Role.CALL_HANDLER)[0],
        "other": staff_with_mfa("other", role=User.Role.CALL_HANDLER)[0],
        "officer": officer,
    }


def routed(**overrides: Any) -> tuple[Case, SubmittedReport]:
    submitted = submit_report(local_authority=authority_by_code(ROTHERHAM), **overrides)
    return report_route(report_id=submitted.report.pk), submitted


def reporter_writes(submitted: SubmittedReport, body: str) -> None:
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="t")
    message_send_from_reporter(report=report, data_key=key, body=body)


def home(user: User) -> Any:
    client = Client()
    sign_in(client, user)
    return client.get("/staff/")


def test_my_cases_counts_the_open_cases_assigned_to_me_and_links_to_them(people: dict[str, User]) -> None:
    handler = people["handler"]
    mine = [routed()[0] for _ in range(2)]
    for case in mine:
        actions.case_claim(case=case, acting_user=handler)
    closed, _ = routed()
    actions.case_claim(case=closed, acting_user=handler)
    actions.case_close(case=closed, outcome="duplicate", feedback="Thank you", acting_user=handler)
    actions.case_claim(case=routed()[0], acting_user=people["other"])
    routed()

    response = home(handler)
    assert response.context["work"].assigned_to_me == 2
    link = section(text(response), 'data-testid="my-cases"', "</a>")
    assert 'href="/staff/cases?assignee=me"' in section(text(response), "<a", 'data-testid="my-cases"')
    assert ">2</span>My cases" in link


def test_cases_whose_reporter_wrote_last_are_counted_and_listed(people: dict[str, User]) -> None:
    handler = people["handler"]
    waiting, waiting_report = routed()
    reporter_writes(waiting_report, "It happened again on Friday.")
    answered, answered_report = routed()
    reporter_writes(answered_report, "One more thing.")
    actions.case_ask_reporter(case=answered, body="Thank you, which school?", acting_user=handler)
    asked, _ = routed()
    actions.case_ask_reporter(case=asked, body="Which school?", acting_user=handler)
    routed()  # no messages at all

    response = home(handler)
    work = response.context["work"]
    assert work.new_messages == 1
    assert [row["case_number"] for row in work.new_message_cases] == [waiting.case_number]
    body = text(response)
    assert ">1</span>New messages from reporters" in section(body, 'data-testid="new-messages"', "</a>")
    listed = section(body, '<h2 class="govuk-heading-m" id="new-messages">', "</table>")
    assert waiting.case_number in listed
    assert answered.case_number not in listed and asked.case_number not in listed


def test_cases_with_the_authoritys_outcome_recorded_show_that_feedback_is_due(people: dict[str, User]) -> None:
    handler, officer = people["handler"], people["officer"]
    with time_machine.travel(NOW, tick=False):
        done, _ = routed()
        acknowledged, _ = routed()
        for case in (done, acknowledged):
            referral_services.case_refer(case=case, summary="Please visit", acting_user=handler)
            referral_services.referral_acknowledge(referral=referral_of(case), acting_user=officer)
        referral_services.referral_record_outcome(
            referral=referral_of(done), outcome="early_help", note="", acting_user=officer
        )
        told, _ = routed()
        referral_services.case_refer(case=told, summary="Please visit", acting_user=handler)
        referral_services.referral_acknowledge(referral=referral_of(told), acting_user=officer)
        referral_services.referral_record_outcome(
            referral=referral_of(told), outcome="early_help", note="", acting_user=officer
        )
        actions.case_close(case=told, outcome="referred_and_acted_on", feedback="Thank you", acting_user=handler)
        response = home(handler)

    work = response.context["work"]
    assert work.feedback_due == 1
    assert [row["case_number"] for row in work.feedback_due_cases] == [done.case_number]
    body = text(response)
    assert ">1</span>Outcome recorded, feedback due" in section(body, 'data-testid="feedback-due"', "</a>")
    listed = section(body, '<h2 class="govuk-heading-m" id="feedback-due">', "</table>")
    assert done.case_number in listed and "Early help" in listed
    # The reporter's feedback is due 3 months after the report was sent, at the end of that day.
    assert "by 11:59pm on Thursday 11 June 2026" in listed
    assert acknowledged.case_number not in listed and told.case_number not in listed


def test_the_review_teams_findings_and_question_name_the_review_team(people: dict[str, User]) -> None:
    """A concern about Rotherham council made in Rotherham (so with no authority of its own), sent for
    review: the team's findings and its question waiting are listed under the team's name, not a blank."""
    handler = people["handler"]
    team = reviewer()
    with time_machine.travel(NOW, tick=False):
        case, _ = routed(about_authority=authority_by_code(ROTHERHAM))
        assert case.authority_id is None
        review = referral_services.case_send_for_review(case=case, reason="About the council.", acting_user=handler)
        referral_services.referral_acknowledge(referral=review, acting_user=team)
        referral_services.referral_ask_helpline(referral=review, question="Which team?", acting_user=team)
        referral_services.referral_record_outcome(
            referral=review, outcome="review_upheld", note="Findings.", acting_user=team
        )
        response = home(handler)

    body = text(response)
    listed = section(body, '<h2 class="govuk-heading-m" id="feedback-due">', "</table>")
    assert case.case_number in listed
    assert '<td class="govuk-table__cell">Independent national review team</td>' in listed
    assert "Concern upheld" in listed
    asked = section(body, '<h2 class="govuk-heading-m" id="questions">', "</table>")
    assert case.case_number in asked
    assert '<td class="govuk-table__cell">Independent national review team</td>' in asked


def test_the_urgent_queue_shows_the_time_left_on_its_soonest_clock(people: dict[str, User]) -> None:
    with time_machine.travel(NOW - timedelta(minutes=15), tick=False):
        routed(child_at_immediate_risk=True)  # due at 15:15
    with time_machine.travel(NOW - timedelta(minutes=5), tick=False):
        routed(child_at_immediate_risk=True)  # due at 15:25
    with time_machine.travel(NOW, tick=False):
        response = home(people["handler"])
    body = text(response)
    urgent = section(body, 'data-testid="due-urgent"', "</td>")
    assert "45 minutes left" in urgent
    assert "by 3:15pm on Wednesday 11 March 2026" in urgent
    assert "today" not in urgent
    assert next(s for s in response.context["queues"] if s.queue.slug == "urgent").next_due == datetime(
        2026, 3, 11, 15, 15, tzinfo=LONDON
    )
    # Standard queues keep their count of clocks ending today.
    assert "0 today" in section(body, 'data-testid="due-national"', "</td>")

    with time_machine.travel(NOW + timedelta(minutes=55), tick=False):
        late = section(text(home(people["handler"])), 'data-testid="due-urgent"', "</td>")
    assert "overdue by 10 minutes" in late and "app-overdue" in late


def test_an_urgent_queue_with_no_clock_running_says_so(people: dict[str, User]) -> None:
    with time_machine.travel(NOW, tick=False):
        case, _ = routed(child_at_immediate_risk=True)
        referral_services.case_refer(case=case, summary="Please visit", acting_user=people["handler"])
        urgent = section(text(home(people["handler"])), 'data-testid="due-urgent"', "</td>")
    assert "No clock running" in urgent

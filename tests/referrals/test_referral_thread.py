"""The thread between the helpline and an authority on a referral (issue 12, points 1, 2, 3 and 6): the
helpline answers an authority's question, asks the reporter on its behalf, and sends later information;
each question has a 2-working-day clock counted on both sides; a closed case says so everywhere."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import User
from core.calendar import working_days_after
from directory.lookup import authority_by_code
from notify.models import Notification
from referrals import services as referral_services
from referrals.models import AuthorityAction
from reports.services import report_read, report_unlock
from tests.factories import referral_of, signed_in, staff_with_mfa, submit_report
from triage import case_actions as actions
from triage.escalations import deadlines_sweep
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case
from triage.notifications import case_emails
from triage.workflow import ActionNotAllowed

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

ROTHERHAM = "E08000018"
QUESTION = "Can the reporter confirm which year group the children are in?"
RELAYED = "The authority would like to know which year group the children are in. Can you tell us?"
REPLY = "The reporter says the children are in Year 9."
UPDATE = "The reporter adds that the man drives a silver hatchback."


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def people() -> dict[str, User]:
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER, email="officer@rotherham.gov.test")
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    officer.authorities.add(rotherham)
    return {
        "officer": officer,
        "handler": staff_with_mfa("handler", role=User.Role.CALL_HANDLER, email="handler@helpline.test")[0],
        "supervisor": staff_with_mfa("supervisor", role=User.Role.SUPERVISOR, email="supervisor@helpline.test")[0],
    }


@pytest.fixture
def referred(people: dict[str, User]) -> tuple[Case, str]:
    submitted = submit_report(local_authority=authority_by_code(ROTHERHAM))
    case = report_route(report_id=submitted.report.pk)
    referral_services.case_refer(case=case, summary="A girl goes missing from a home.", acting_user=people["handler"])
    case.refresh_from_db()
    return case, submitted.access_code


def ask(case: Case, officer: User) -> AuthorityAction:
    return referral_services.referral_ask_helpline(referral=referral_of(case), question=QUESTION, acting_user=officer)


def emails(case: Case, template: str) -> list[str]:
    return sorted(case_emails(case).filter(template=template).values_list("recipient", flat=True))


def test_a_question_gets_a_two_working_day_clock_counted_on_both_sides(
    referred: tuple[Case, str], people: dict[str, User]
) -> None:
    case, _ = referred
    question = ask(case, people["officer"])
    assert question.answer_due_at == working_days_after(question.created_at, 2)

    home = text(signed_in(people["handler"]).get("/staff/"))
    assert "1 case with a question waiting for an answer" in home and case.case_number in home
    page = text(signed_in(people["handler"]).get(f"/staff/cases/{case.case_number}"))
    assert "Rotherham is waiting for an answer to 1 question" in page
    assert "Answer to the authority&#x27;s question" in page or "Answer to the authority's question" in page
    assert QUESTION in page and "Waiting for an answer" in page

    officer = signed_in(people["officer"])
    listing = officer.get("/staff/referrals")
    assert listing.status_code == 200
    assert f'data-testid="open-questions-{case.case_number}">1<' in listing.content.decode()
    referral = text(officer.get(f"/staff/referrals/{case.case_number}", follow=True))
    assert "1 of your questions is waiting for the helpline's answer" in referral


def test_the_helpline_asks_the_reporter_in_its_own_words_and_answers_the_authority(
    referred: tuple[Case, str], people: dict[str, User]
) -> None:
    case, access_code = referred
    question = ask(case, people["officer"])
    handler = signed_in(people["handler"])

    relayed = handler.post(
        f"/staff/cases/{case.case_number}/relay_to_reporter",
        {"relay_to_reporter-question": question.pk, "relay_to_reporter-body": RELAYED},
    )
    assert relayed.status_code == 302
    report, key = report_unlock(reference=case.report.reference, access_code=access_code, client="reporter")
    assert [m.body for m in report_read(report=report, data_key=key).messages] == [RELAYED]
    question.refresh_from_db()
    assert question.relayed_to_reporter and question.answered_at is None, "the clock runs until the reply"

    replied = handler.post(
        f"/staff/cases/{case.case_number}/reply_to_authority",
        {"reply_to_authority-question": question.pk, "reply_to_authority-body": REPLY},
    )
    assert replied.status_code == 302
    question.refresh_from_db()
    assert question.answered_at is not None
    reply = AuthorityAction.objects.get(case=case, kind=AuthorityAction.Kind.HELPLINE_REPLY)
    assert reply.reply_to_id == question.pk and reply.recorded_by == people["handler"]
    assert emails(case, "authority_reply") == ["officer@rotherham.gov.test"]
    assert [e.kind for e in case_events(case).filter(kind__in=["relay_to_reporter", "reply_to_authority"])] == [
        "relay_to_reporter",
        "reply_to_authority",
    ]

    officer = signed_in(people["officer"])
    referral = text(officer.get(f"/staff/referrals/{case.case_number}", follow=True))
    assert "Reply from the helpline to question 1" in referral and REPLY in referral
    assert "Question 1 for the helpline" in referral
    assert "waiting for the helpline" not in referral
    assert (
        'data-testid="open-questions-' + case.case_number + '">0<' in officer.get("/staff/referrals").content.decode()
    )
    assert "No authority is waiting for an answer" in text(handler.get("/staff/"))


def test_a_question_cannot_be_answered_twice_or_from_another_case(
    referred: tuple[Case, str], people: dict[str, User]
) -> None:
    case, _ = referred
    question = ask(case, people["officer"])
    referral_services.case_reply_to_authority(
        case=case, question_id=question.pk, body=REPLY, acting_user=people["handler"]
    )
    with pytest.raises(ActionNotAllowed, match="already been answered"):
        referral_services.case_reply_to_authority(
            case=case, question_id=question.pk, body=REPLY, acting_user=people["handler"]
        )
    other = report_route(report_id=submit_report().report.pk)
    with pytest.raises(ActionNotAllowed, match="no such question"):
        referral_services.case_reply_to_authority(
            case=other, question_id=question.pk, body=REPLY, acting_user=people["handler"]
        )


def test_a_question_is_answered_even_after_the_case_is_closed(
    referred: tuple[Case, str], people: dict[str, User]
) -> None:
    case, _ = referred
    question = ask(case, people["officer"])
    actions.case_close(
        case=case, outcome="referred_and_acted_on", feedback="Thank you.", acting_user=people["supervisor"]
    )
    case.refresh_from_db()
    referral_services.case_reply_to_authority(
        case=case, question_id=question.pk, body=REPLY, acting_user=people["handler"]
    )
    referral = text(signed_in(people["officer"]).get(f"/staff/referrals/{case.case_number}", follow=True))
    assert "The helpline withdrew this referral on" in referral  # closing withdrew it
    assert REPLY in referral


def test_later_information_goes_to_the_authority_as_an_update(
    referred: tuple[Case, str], people: dict[str, User]
) -> None:
    case, _ = referred
    handler = signed_in(people["handler"])
    page = text(handler.get(f"/staff/cases/{case.case_number}"))
    assert "Send an update to Rotherham" in page and "Update for Rotherham" in page
    assert "Reply to Rotherham" not in page, "offered only while a question waits"
    sent = handler.post(f"/staff/cases/{case.case_number}/update_authority", {"update_authority-summary": UPDATE})
    assert sent.status_code == 302
    update = AuthorityAction.objects.get(case=case, kind=AuthorityAction.Kind.HELPLINE_UPDATE)
    assert UPDATE.encode() not in bytes(update.note), "sealed"
    assert emails(case, "authority_update") == ["officer@rotherham.gov.test"]
    assert case_events(case).filter(kind="update_authority", actor=people["handler"]).count() == 1
    referral = text(signed_in(people["officer"]).get(f"/staff/referrals/{case.case_number}", follow=True))
    assert "Update from the helpline" in referral and UPDATE in referral


def test_an_update_needs_a_referral(people: dict[str, User]) -> None:
    case = report_route(report_id=submit_report().report.pk)
    with pytest.raises(ActionNotAllowed):
        referral_services.case_update_authority(case=case, summary=UPDATE, acting_user=people["handler"])


def test_a_missed_answer_alerts_the_supervisors_once_per_question(
    referred: tuple[Case, str], people: dict[str, User]
) -> None:
    case, _ = referred
    first = ask(case, people["officer"])
    second = ask(case, people["officer"])
    assert first.answer_due_at is not None
    before = first.answer_due_at - timedelta(minutes=1)
    deadlines_sweep(now=before)
    assert not Notification.objects.filter(template="authority_question_overdue").exists()
    after = max(first.answer_due_at, second.answer_due_at or first.answer_due_at) + timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        deadlines_sweep(now=after)
        deadlines_sweep(now=after + timedelta(hours=1))
    overdue = case_emails(case).filter(template="authority_question_overdue")
    assert sorted(overdue.values_list("occasion", flat=True)) == sorted(
        [f"question-{first.pk}", f"question-{second.pk}"]
    )
    assert set(overdue.values_list("recipient", flat=True)) == {"supervisor@helpline.test"}
    assert case_events(case).filter(kind="question_overdue").count() == 2
    with time_machine.travel(after, tick=False):
        page = text(signed_in(people["handler"]).get(f"/staff/cases/{case.case_number}"))
    assert "Answer to the authority's question 1</dt>" in page and "Answer to the authority's question 2</dt>" in page
    assert "(overdue)" in page


def test_the_helpline_case_page_marks_met_clocks_done_and_a_closed_case_clearly(
    referred: tuple[Case, str], people: dict[str, User]
) -> None:
    case, _ = referred
    referral_services.referral_acknowledge(referral=referral_of(case), acting_user=people["officer"])
    referral_services.referral_record_outcome(
        referral=referral_of(case), outcome="child_protection_plan", note="", acting_user=people["officer"]
    )
    actions.case_close(
        case=case, outcome="referred_and_acted_on", feedback="Thank you.", acting_user=people["supervisor"]
    )
    page = text(signed_in(people["handler"]).get(f"/staff/cases/{case.case_number}"))
    assert "due soon" not in page and "(overdue)" not in page
    for label in ("Triage", "Authority acknowledgement", "Authority outcome", "Feedback to the reporter"):
        assert f"{label}</dt>" in page
    # Each says when it was done, not only its due date (issue 22).
    assert page.count("Done at ") == 4 and "(done)" not in page
    assert 'govuk-tag--grey" data-testid="case-status">Closed' in page
    assert "with the outcome <strong>Referred; the authority acted</strong>" in page


def test_a_reporter_cannot_send_into_a_closed_concern_and_is_told_what_to_do(
    referred: tuple[Case, str], people: dict[str, User]
) -> None:
    case, access_code = referred
    actions.case_close(
        case=case, outcome="referred_and_acted_on", feedback="Thank you.", acting_user=people["supervisor"]
    )
    reporter = Client()
    opened = reporter.post("/check", {"reference": case.report.reference, "access_code": access_code})
    assert opened.status_code == 302
    page = text(reporter.get("/check/concern"))
    assert "messages can no longer be sent here" in page and "start a new report" in page
    assert 'action="/check/concern/message"' not in page
    refused = reporter.post("/check/concern/message", {"kind": "message", "body": "Anything new?"})
    assert refused.status_code == 409
    assert "Your message has been sent" not in text(refused)
    api = Client().post(
        "/api/v1/reports/messages",
        {"reference": case.report.reference, "access_code": access_code, "body": "Anything new?"},
        content_type="application/json",
    )
    assert api.status_code == 409 and "closed" in api.json()["detail"]
    assert case.report.messages.filter(direction="from_reporter").count() == 0


def test_the_question_choice_defaults_to_the_only_question(referred: tuple[Case, str], people: dict[str, User]) -> None:
    case, _ = referred
    question = ask(case, people["officer"])
    page = signed_in(people["handler"]).get(f"/staff/cases/{case.case_number}").content.decode()
    assert f'<option value="{question.pk}" selected>Question 1, asked ' in page
    assert timezone.localtime(question.created_at).strftime("%-d %B %Y") in html.unescape(page)

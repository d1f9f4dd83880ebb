"""What the reporter's page tells them is expected of them and when (issue 22, point 13): a question that
waits for them, the days by which they will hear, and why a closed concern is open again; and a success
banner when they choose check-ins (the minor point)."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from accounts.models import User
from referrals import services as referral_services
from reports.services import SubmittedReport
from tests.factories import referral_of, staff_user, submit_report
from triage import case_actions
from triage.intake import report_route, reporter_replied
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

Opened = Callable[[SubmittedReport], Client]
QUESTION_WAITS = "The helpline has asked you a question."


def page(reporter: Client, path: str = "/check/concern") -> str:
    response = reporter.get(path)
    assert response.status_code == 200, response.status_code
    return html.unescape(response.content.decode())


def day(moment: object) -> str:
    assert moment is not None
    # GOV.UK's date style, as the deadline filter writes a day: "Saturday 6 March 2027".
    return timezone.localdate(moment).strftime("%A %-d %B %Y")  # type: ignore[arg-type]


@pytest.fixture
def handler() -> User:
    return staff_user("handler", role=User.Role.CALL_HANDLER)


@pytest.fixture
def supervisor() -> User:
    return staff_user("supervisor", role=User.Role.SUPERVISOR)


def referred(handler: User) -> tuple[Case, SubmittedReport]:
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    referral_services.case_refer(case=case, summary="Missing episodes", acting_user=handler)
    case.refresh_from_db()
    return case, submitted


def test_a_question_from_the_helpline_is_said_plainly_until_the_reporter_replies(
    open_concern: Opened, handler: User
) -> None:
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    reporter = open_concern(submitted)
    assert QUESTION_WAITS not in page(reporter)

    case_actions.case_ask_reporter(case=case, body="Which home is it?", acting_user=handler)
    shown = page(reporter)
    assert QUESTION_WAITS in shown and 'href="#message">send your reply</a>' in shown

    # Choosing check-ins meanwhile: their banner, and the question is still said.
    chosen = reporter.post("/check/concern/check-ins")
    shown = page(reporter, chosen["Location"])
    assert "We will check in with you." in shown and QUESTION_WAITS in shown

    reply = reporter.post("/check/concern/message", {"kind": "message", "body": "Riverside"})
    assert reply.status_code == 302
    assert QUESTION_WAITS not in page(reporter, reply["Location"]), "answered, even before the case hears of it"
    reporter_replied(submitted.report.messages.latest("id").pk)  # what the outbox worker does
    assert Case.objects.get(pk=case.pk).status == Case.Status.IN_TRIAGE
    assert QUESTION_WAITS not in page(reporter)


def test_a_question_asked_after_the_referral_is_said_too(open_concern: Opened, handler: User) -> None:
    case, submitted = referred(handler)
    reporter = open_concern(submitted)
    case_actions.case_ask_reporter(case=case, body="Did it happen again?", acting_user=handler)
    assert Case.objects.get(pk=case.pk).status == Case.Status.REFERRED  # the status alone does not say it
    assert QUESTION_WAITS in page(reporter)


def test_the_days_by_which_the_reporter_will_hear_are_on_their_page(open_concern: Opened, handler: User) -> None:
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    reporter = open_concern(submitted)
    shown = page(reporter)
    assert (
        f"The helpline will tell you the outcome here by {day(case.reporter_feedback_due_at)} at the latest." in shown
    )
    assert "The local authority must tell the helpline" not in shown, "not referred yet"

    referral_services.case_refer(case=case, summary="Missing episodes", acting_user=handler)
    case.refresh_from_db()
    shown = page(reporter)
    assert f"what it has done by {day(referral_of(case).outcome_due_at)}." in shown
    assert f"outcome here by {day(case.reporter_feedback_due_at)} at the latest" in shown
    when = shown.split('data-testid="when-you-will-hear">', 1)[1].split("</ul>", 1)[0]
    assert ":" not in when, "days only, never a time"


def test_late_feedback_is_owned_up_to(open_concern: Opened) -> None:
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    with time_machine.travel(case.reporter_feedback_due_at + timedelta(days=2)):
        shown = page(open_concern(submitted))
    assert f"should have told you the outcome by {day(case.reporter_feedback_due_at)}. It is late" in shown


def test_a_closed_concern_reopened_is_explained(open_concern: Opened, handler: User, supervisor: User) -> None:
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    reporter = open_concern(submitted)
    case_actions.case_close(case=case, outcome="not_substantiated", feedback="Thank you.", acting_user=handler)
    closed = page(reporter)
    assert "reopened" not in closed and "When you will hear" not in closed

    case_actions.case_reopen(case=case, reason="New information", acting_user=supervisor)
    shown = page(reporter)
    assert (
        f"The helpline closed your concern, then reopened it on {timezone.localdate():%-d %B %Y} to look at it again."
        in shown
    )
    assert "The feedback it gave you when it closed it is still in your messages." in shown
    assert "Reply or add information" in shown, "they can write again"
    assert QUESTION_WAITS not in shown, "the closing feedback is not a question"


def test_choosing_check_ins_shows_a_success_banner(open_concern: Opened) -> None:
    reporter = open_concern(submit_report())
    chosen = reporter.post("/check/concern/check-ins")
    assert chosen["Location"] == "/check/concern?checkin=chosen"
    shown = page(reporter, chosen["Location"])
    banner = shown.split('data-testid="checkin-banner">', 1)[1].split("</div>\n    </div>", 1)[0]
    assert "Success" in banner and "We will check in with you." in banner
    assert "govuk-notification-banner--success" in shown

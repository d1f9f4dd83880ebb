"""What a frightened reporter sees (issue 13, points 3 to 6): signing out of a concern, emails that give
nothing away, the confirmation for a concern about a council, and check-ins they can see and stop."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from notify import services as notify_services
from notify.models import Notification
from reports import checkins
from reports.models import Anonymity, RetaliationCheckin
from reports.notifications import REPORT_TEMPLATES
from reports.services import Contact
from tests.factories import submit_report, web_report_sent
from triage import notifications
from triage.intake import report_route

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def opened(reference: str, access_code: str) -> Client:
    client = Client()
    assert client.post("/check", {"reference": reference, "access_code": access_code}).status_code == 302
    return client


def test_signing_out_of_a_concern_says_the_report_is_unaffected() -> None:
    submitted = submit_report()
    reporter = opened(submitted.report.reference, submitted.access_code)
    page = text(reporter.get("/check/concern"))
    assert "Sign out of this concern" in page and "Close your concern" not in page
    signed_out = reporter.post("/check/concern/close")
    assert signed_out.status_code == 302 and signed_out["Location"] == "/?signed-out=1"
    start = text(reporter.get(signed_out["Location"]))
    assert "You have signed out of your concern on this device." in start
    assert "Your report is not affected: the helpline still has it." in start
    assert reporter.get("/check/concern")["Location"] == "/check", "signed out on this device"
    assert "You have signed out" not in text(Client().get("/"))
    opened(submitted.report.reference, submitted.access_code)  # the report itself still opens


@pytest.mark.parametrize("template", sorted(notifications.REPORTER_TEMPLATES | REPORT_TEMPLATES))
def test_a_reporter_email_gives_nothing_away(template: str, settings: Any) -> None:
    settings.REPORTER_EMAIL_FROM = "Online service <noreply@service.test>"
    settings.REPORTER_EMAIL_SUBJECT = "You have a new message"
    submitted = submit_report(
        anonymity=Anonymity.CONFIDENTIAL, contact=Contact(name="Sam", email="sam@private.test", phone="")
    )
    case = report_route(report_id=submitted.report.pk)
    # A check-in or unread-message nudge is about the report (reports sends it); a reply's email about the case.
    subject = ("report", case.report_id) if template in REPORT_TEMPLATES else ("case", case.pk)
    record = Notification.objects.create(
        subject_kind=subject[0],
        subject_id=subject[1],
        recipient=Notification.REPORTER,
        template=template,
        created_at=case.created_at,
    )
    message = notify_services.email_render(record)
    assert message.subject == "You have a new message"
    assert message.from_email == "Online service <noreply@service.test>"
    shown = " ".join([message.subject, message.from_email, message.body, *(c for c, _ in message.alternatives)])
    for giveaway in ("concern", "helpline", "whistle", "exploitation", "report", "check in", case.case_number):
        assert giveaway.lower() not in shown.lower().replace("/check", ""), giveaway


def test_the_contact_page_says_exactly_what_the_emails_look_like(settings: Any) -> None:
    settings.REPORTER_EMAIL_FROM = "Online service <noreply@service.test>"
    settings.REPORTER_EMAIL_SUBJECT = "You have a new message"
    client = Client()
    client.post("/report/begin")
    client.post("/report/anonymity", {"anonymity": "confidential"})
    page = text(client.get("/report/contact"))
    assert 'The email comes from "Online service", its subject is "You have a new message"' in page


def test_the_confirmation_for_a_concern_about_a_council_says_it_is_reviewed_independently() -> None:
    confirmation = text(web_report_sent(Client()))
    assert "it will be reviewed independently, by a national review team" in confirmation
    assert "It will not be sent to Barnsley, and nobody there will see it." in confirmation


def test_the_confirmation_of_an_ordinary_concern_says_nothing_about_a_council_review() -> None:
    confirmation = text(web_report_sent(Client(), about_council={"about_council": "no", "which_council": ""}))
    assert "reviewed independently" not in confirmation


def test_check_ins_show_once_chosen_and_can_be_stopped() -> None:
    submitted = submit_report()
    reporter = opened(submitted.report.reference, submitted.access_code)
    assert "Yes, check in with me" in text(reporter.get("/check/concern"))
    assert reporter.post("/check/concern/check-ins").status_code == 302
    page = text(reporter.get("/check/concern?checkin=chosen"))
    assert "You asked us to check in with you" in page and "Stop the check-ins" in page
    assert "Yes, check in with me" not in page
    due = RetaliationCheckin.objects.filter(report=submitted.report).order_by("due_at")
    assert [timezone.localtime(c.due_at).strftime("%-d %B %Y") in page for c in due] == [True, True, True]

    stopped = reporter.post("/check/concern/check-ins/stop")
    assert stopped.status_code == 302 and stopped["Location"] == "/check/concern?checkin=stopped"
    assert not RetaliationCheckin.objects.filter(report=submitted.report).exists()
    page = text(reporter.get(stopped["Location"]))
    assert "You have stopped the check-ins" in page and "Yes, check in with me" in page


def test_stopping_keeps_answered_check_ins() -> None:
    submitted = submit_report()
    chosen = checkins.checkins_opt_in(report=submitted.report)
    RetaliationCheckin.objects.filter(pk=chosen[0].pk).update(answer="no")
    assert checkins.checkins_opt_out(report=submitted.report) == 2
    assert list(RetaliationCheckin.objects.values_list("answer", flat=True)) == ["no"]
    page = text(opened(submitted.report.reference, submitted.access_code).get("/check/concern"))
    assert "There are no more check-ins to come" in page

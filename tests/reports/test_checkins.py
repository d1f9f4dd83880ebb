from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from core import crypto
from notify.models import Notification
from reports import checkins, services
from reports.models import Report, RetaliationCheckin
from tests.factories import submit_report
from triage.escalations import deadlines_sweep
from triage.intake import report_route
from triage.models import CaseLink

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def unlock(submitted: services.SubmittedReport) -> bytes:
    return services.report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")[
        1
    ]


def test_opting_in_schedules_check_ins_at_one_three_and_six_months() -> None:
    report = submit_report().report
    rows = checkins.checkins_opt_in(report=report)
    assert [r.months for r in rows] == [1, 3, 6]
    assert checkins.checkin_due(report=report) is None
    with time_machine.travel(report.submitted_at + timedelta(days=32)):
        due = checkins.checkin_due(report=report)
    assert due is not None and due.months == 1


def test_yes_opens_a_linked_retaliation_case_the_reporter_follows_with_the_same_code() -> None:
    submitted = submit_report()
    original_case = report_route(report_id=submitted.report.pk)
    checkins.checkins_opt_in(report=submitted.report)
    key = unlock(submitted)
    with time_machine.travel(submitted.report.submitted_at + timedelta(days=95)):
        due = checkins.checkin_due(report=submitted.report)
        assert due is not None
        retaliation = checkins.checkin_answer(checkin=due, answer="yes", details="CANARY moved to nights", data_key=key)
    assert retaliation is not None
    assert retaliation.concern_types == ["retaliation_against_staff"]
    assert b"CANARY" not in bytes(retaliation.content)
    assert "CANARY moved to nights" in str(crypto.open_content(key, bytes(retaliation.content)))
    case = report_route(report_id=retaliation.pk)
    assert CaseLink.objects.filter(case=case, other=original_case).exists()
    assert CaseLink.objects.filter(case=original_case, other=case).exists()
    # The 1- and 3-month check-ins are both answered; the 6-month one still waits.
    assert list(RetaliationCheckin.objects.filter(answer="").values_list("months", flat=True)) == [6]


def test_no_opens_nothing() -> None:
    submitted = submit_report()
    checkins.checkins_opt_in(report=submitted.report)
    with time_machine.travel(submitted.report.submitted_at + timedelta(days=40)):
        due = checkins.checkin_due(report=submitted.report)
        assert due is not None
        assert checkins.checkin_answer(checkin=due, answer="no", details="", data_key=unlock(submitted)) is None
    assert Report.objects.count() == 1


def test_a_reporter_with_an_email_gets_a_content_free_nudge_once(mailoutbox) -> None:  # type: ignore[no-untyped-def]
    submitted = submit_report(anonymity="confidential", contact=services.Contact(name="Sam", email="sam@example.com"))
    report_route(report_id=submitted.report.pk)
    checkins.checkins_opt_in(report=submitted.report)
    later = submitted.report.submitted_at + timedelta(days=32)
    with time_machine.travel(later):
        deadlines_sweep(now=later)
        deadlines_sweep(now=later)
    records = Notification.objects.filter(template="reporter_checkin")
    assert records.count() == 1 and records.get().recipient == "reporter"


def test_the_follow_up_page_asks_the_question_when_a_check_in_is_due() -> None:
    submitted = submit_report()
    client = Client()
    client.post("/check", {"reference": submitted.report.reference, "access_code": submitted.access_code})
    assert b"Would you like us to check in" in client.get("/check/concern").content
    assert client.post("/check/concern/check-ins").status_code == 302
    with time_machine.travel(timezone.now() + timedelta(days=32)):
        client.post("/check", {"reference": submitted.report.reference, "access_code": submitted.access_code})
        page = client.get("/check/concern")
        assert b"Has anything happened to you" in page.content
        # Post/redirect/get: the errors are shown on the follow-up page itself, with a 400.
        refused = client.post("/check/concern/check-in", {})
        assert refused.status_code == 302 and refused["Location"] == "/check/concern#checkin"
        shown = client.get(refused["Location"])
        assert shown.status_code == 400 and b"govuk-error-summary" in shown.content
        assert client.get("/check/concern").status_code == 200, "shown once"
        assert client.post("/check/concern/check-in", {"answer": "yes", "details": "moved"}).status_code == 302
    assert Report.objects.filter(retaliation_of=submitted.report).exists()

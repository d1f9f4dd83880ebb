"""Issue 27, point 3 (the reporter's side): on /check and through the API, "Read by the helpline" and its day
(never a time) against each message the reporter sent, a "New" marker on each helpline message they have not
seen before, and the helpline's messages signed "Helpline adviser", never by the member of staff who wrote."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from accounts.models import User
from reports.models import Message
from reports.services import SubmittedReport, message_send_from_reporter, report_unlock
from tests.factories import signed_in, staff_with_mfa, submit_report
from triage import case_actions
from triage.intake import report_route
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
OPENED_AT = datetime(2026, 3, 11, 16, 21, 9, tzinfo=LONDON)


def page_text(client: Client) -> str:
    response = client.get("/check/concern")
    assert response.status_code == 200, response.content[:300]
    return html.unescape(response.content.decode())


def read_lines(body: str) -> list[str]:
    return re.findall(r'data-testid="message-read">([^<]*)<', body)


@pytest.fixture
def handler() -> User:
    return staff_with_mfa("jo.bloggs", role=User.Role.CALL_HANDLER)[0]


def routed() -> tuple[Case, SubmittedReport]:
    submitted = submit_report()
    return report_route(report_id=submitted.report.pk), submitted


def reporter_writes(submitted: SubmittedReport, body: str) -> Message:
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="t")
    return message_send_from_reporter(report=report, data_key=key, body=body)


def test_read_by_the_helpline_shows_the_day_and_never_a_time(
    handler: User, open_concern: Callable[[SubmittedReport], Client]
) -> None:
    case, submitted = routed()
    reporter_writes(submitted, "The manager knew.")
    reporter = open_concern(submitted)
    assert read_lines(page_text(reporter)) == ["Not read by the helpline yet"]
    staff = signed_in(handler)
    with time_machine.travel(OPENED_AT, tick=True):
        assert staff.get(f"/staff/cases/{case.case_number}").status_code == 200
    assert read_lines(page_text(reporter)) == ["Read by the helpline on 11 March 2026"]
    assert Message.objects.get(report=case.report).read_by_helpline_on == date(2026, 3, 11)
    # A later message is not read until someone opens the case again.
    reporter_writes(submitted, "And the deputy.")
    assert read_lines(page_text(reporter)) == ["Read by the helpline on 11 March 2026", "Not read by the helpline yet"]


def test_a_helpline_message_is_new_once_and_signed_helpline_adviser(
    handler: User, open_concern: Callable[[SubmittedReport], Client]
) -> None:
    case, submitted = routed()
    reporter = open_concern(submitted)
    assert 'data-testid="message-new"' not in page_text(reporter)
    case_actions.case_ask_reporter(case=case, body="Which home was it?", acting_user=handler)
    first = page_text(reporter)
    assert first.count('data-testid="message-new"') == 1
    assert "You have 1 new message from the helpline." in first
    assert "<strong>Helpline adviser</strong>" in first
    assert "jo.bloggs" not in first and "The helpline</strong>" not in first
    message = Message.objects.get(report=case.report)
    assert message.read_by_reporter is True
    # Seen once: the next view marks nothing new, and the message stays read.
    second = page_text(reporter)
    assert 'data-testid="message-new"' not in second and "new message from the helpline" not in second
    assert "Which home was it?" in second
    # No "read" line on the helpline's own messages: that is the reporter's to see about theirs.
    assert read_lines(second) == []


def test_a_failed_reply_still_shows_the_new_message_once(
    handler: User, open_concern: Callable[[SubmittedReport], Client]
) -> None:
    case, submitted = routed()
    reporter = open_concern(submitted)
    case_actions.case_ask_reporter(case=case, body="Which home was it?", acting_user=handler)
    response = reporter.post("/check/concern/message", {"kind": "message", "body": ""})
    assert response.status_code == 302
    again = reporter.get("/check/concern")
    assert again.status_code == 400 and 'data-testid="message-new"' in again.content.decode()
    assert Message.objects.get(report=case.report).read_by_reporter is True


def test_the_api_gives_the_read_day_and_the_new_marker_and_reads(handler: User) -> None:
    case, submitted = routed()
    reporter_writes(submitted, "The manager knew.")
    staff = signed_in(handler)
    with time_machine.travel(OPENED_AT, tick=True):
        staff.get(f"/staff/cases/{case.case_number}")
    case_actions.case_ask_reporter(case=Case.objects.get(pk=case.pk), body="Which home?", acting_user=handler)
    pair = {"reference": submitted.report.reference, "access_code": submitted.access_code}
    first = Client().post("/api/v1/reports/access", pair, content_type="application/json").json()
    mine, theirs = first["messages"]
    assert (mine["from"], mine["read_by_helpline_on"], mine["new"]) == ("from_reporter", "2026-03-11", False)
    assert (theirs["from"], theirs["read_by_helpline_on"], theirs["new"]) == ("from_helpline", None, True)
    assert first["new_messages"] == 1
    assert "jo.bloggs" not in str(first)
    again = Client().post("/api/v1/reports/access", pair, content_type="application/json").json()
    assert [m["new"] for m in again["messages"]] == [False, False] and again["new_messages"] == 0


def test_the_privacy_page_says_a_read_is_kept_never_when(client: Client) -> None:
    page = html.unescape(client.get("/privacy").content.decode())
    assert "When you open a message from the helpline, we note that you have read it, but never when." in page

"""Issue 27, point 3 (the helpline's side): a reporter's message is read by the helpline when a member of staff
opens the case showing it (its day kept, never a time); unread counts per case and per queue; whether the
reporter has read the helpline's last message, yes or no; and a gentle nudge when they have not, 10 working
days after the day it was sent: a step on the case's timeline, and a content-free email to a reporter who
gave an address. Once per message."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import User
from notify.models import Notification
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from reports.models import Anonymity, Message
from reports.notifications import UNREAD_NUDGE as UNREAD_EMAIL
from reports.services import Contact, SubmittedReport, message_send_from_reporter, report_unlock
from tests.factories import reporter_opened, signed_in, staff_with_mfa, submit_report
from tests.triage.page_text import section, text
from triage import case_actions
from triage.escalations import deadlines_sweep
from triage.events import case_events
from triage.intake import report_route
from triage.mailbox import UNREAD_NUDGE, latest_due_day, unread_nudges
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

LONDON = ZoneInfo("Europe/London")
# Thursday 21 May 2026; Monday 25 May is the Spring Bank Holiday, so the 10th working day after it is Friday
# 5 June (Thursday 4 June without the holiday).
SENT = datetime(2026, 5, 21, 11, 5, tzinfo=LONDON)
TENTH_WORKING_DAY = datetime(2026, 6, 5, 23, 59, 0, tzinfo=LONDON)
WITHOUT_THE_HOLIDAY = datetime(2026, 6, 5, 9, 0, tzinfo=LONDON)
AFTER_IT = datetime(2026, 6, 6, 0, 0, 30, tzinfo=LONDON)


def routed(*, email: str = "") -> tuple[Case, SubmittedReport]:
    if email:
        submitted = submit_report(anonymity=Anonymity.CONFIDENTIAL, contact=Contact(name="Sam", email=email))
    else:
        submitted = submit_report()
    return report_route(report_id=submitted.report.pk), submitted


def reporter_writes(submitted: SubmittedReport, body: str = "The manager knew.") -> Message:
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="t")
    return message_send_from_reporter(report=report, data_key=key, body=body)


def helpline_writes(case: Case, by: User, body: str = "Thank you. Which home was it?") -> Message:
    return case_actions.case_ask_reporter(case=Case.objects.get(pk=case.pk), body=body, acting_user=by)


@pytest.fixture
def handler() -> User:
    return staff_with_mfa("handler", role=User.Role.CALL_HANDLER)[0]


@pytest.fixture
def client(handler: User) -> Client:
    return signed_in(handler)


# --- read by the helpline -------------------------------------------------------------------------------


def test_opening_the_case_page_reads_the_reporters_messages_to_the_day(handler: User, client: Client) -> None:
    case, submitted = routed()
    first, second = reporter_writes(submitted, "First."), reporter_writes(submitted, "Second.")
    page = client.get(f"/staff/cases/{case.case_number}")
    body = text(page)
    # What the page showed: both new, marked so; from now on both read, on that day.
    assert page.context["opened"].unread_messages == 2
    assert body.count('data-testid="case-message-new"') == 2
    assert "2 new (marked below; read now)" in section(body, 'data-testid="unread-messages"', "</dd>")
    for message in (first, second):
        message.refresh_from_db()
        assert message.read_by_helpline_on == timezone.localdate()
    again = text(client.get(f"/staff/cases/{case.case_number}"))
    assert 'data-testid="case-message-new"' not in again
    assert "None" in section(again, 'data-testid="unread-messages"', "</dd>")
    # A message read on an earlier day keeps that day.
    Message.objects.filter(pk=first.pk).update(read_by_helpline_on=date(2026, 3, 2))
    client.get(f"/staff/cases/{case.case_number}")
    first.refresh_from_db()
    assert first.read_by_helpline_on == date(2026, 3, 2)


def test_the_case_list_and_the_api_list_count_unread_but_read_nothing(handler: User, client: Client) -> None:
    case, submitted = routed()
    message = reporter_writes(submitted)
    listed = client.get("/staff/cases")
    (row,) = [row for row in listed.context["rows"] if row["case_number"] == case.case_number]
    assert row["unread_messages"] == 1
    assert "1 unread" in section(text(listed), 'data-testid="unread-messages"', "</strong>")
    api = client.get("/api/v1/cases").json()
    (api_row,) = [r for r in api["results"] if r["case_number"] == case.case_number]
    assert api_row["unread_messages"] == 1 and api_row["reporter_read_last_message"] is None
    message.refresh_from_db()
    assert message.read_by_helpline_on is None, "a list shows no message: nothing is read"

    detail = client.get(f"/api/v1/cases/{case.case_number}").json()
    assert detail["unread_messages"] == 1
    assert detail["messages"][0]["read_by_helpline_on"] is not None
    message.refresh_from_db()
    assert message.read_by_helpline_on is not None, "the case API shows the message: it is read"
    (after,) = [r for r in client.get("/staff/cases").context["rows"] if r["case_number"] == case.case_number]
    assert after["unread_messages"] == 0
    assert 'data-testid="unread-messages"' not in text(client.get("/staff/cases"))


def test_the_helpline_home_counts_unread_messages_per_queue(handler: User, client: Client) -> None:
    standard, submitted = routed()
    reporter_writes(submitted)
    reporter_writes(submitted)
    closed, closed_report = routed()
    reporter_writes(closed_report)
    case_actions.case_close(case=closed, outcome="duplicate", feedback="Thank you.", acting_user=handler)
    read, read_report = routed()
    reporter_writes(read_report)
    client.get(f"/staff/cases/{read.case_number}")

    home = client.get("/staff/")
    by_queue = {summary.queue.slug: summary.unread_messages for summary in home.context["queues"]}
    # The standard queue's open cases: two unread on one case; none on the case read; a closed case's not counted.
    assert by_queue[standard.queue.slug] == 2
    assert f'data-testid="unread-{standard.queue.slug}">2</td>' in text(home)


def test_whether_the_reporter_read_the_helplines_last_message_is_yes_or_no(handler: User, client: Client) -> None:
    case, submitted = routed()
    detail = client.get(f"/api/v1/cases/{case.case_number}").json()
    assert detail["reporter_read_last_message"] is None
    helpline_writes(case, handler)
    assert client.get(f"/api/v1/cases/{case.case_number}").json()["reporter_read_last_message"] is False
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    assert section(page, 'data-testid="reporter-read-last">', "</dd>").endswith("No")

    assert "Thank you. Which home was it?" in text(reporter_opened(submitted).get("/check/concern"))
    detail = client.get(f"/api/v1/cases/{case.case_number}").json()
    assert detail["reporter_read_last_message"] is True
    assert detail["messages"][-1]["read_by_reporter"] is True
    page = text(client.get(f"/staff/cases/{case.case_number}"))
    assert section(page, 'data-testid="reporter-read-last">', "</dd>").endswith("Yes")
    (row,) = [r for r in client.get("/api/v1/cases").json()["results"] if r["case_number"] == case.case_number]
    assert row["reporter_read_last_message"] is True
    # A newer message is unread again: the answer is about the last one.
    helpline_writes(case, handler, "One more question.")
    assert client.get(f"/api/v1/cases/{case.case_number}").json()["reporter_read_last_message"] is False


def test_nothing_records_when_the_reporter_read(handler: User) -> None:
    case, submitted = routed()
    helpline_writes(case, handler)
    events, emails, rows = case_events(case).count(), Notification.objects.count(), OutboxMessage.objects.count()
    reporter_opened(submitted).get("/check/concern")
    message = Message.objects.get(report=case.report)
    assert message.read_by_reporter is True
    # A message keeps days only (sent, read by the helpline): no column could hold when the reporter read.
    times = [f.name for f in Message._meta.get_fields() if f.get_internal_type() in ("DateTimeField", "TimeField")]
    assert times == []
    # Nor is any event, email or outbox row written for it.
    assert (case_events(case).count(), Notification.objects.count(), OutboxMessage.objects.count()) == (
        events,
        emails,
        rows,
    )


# --- the nudge --------------------------------------------------------------------------------------------


def nudges_of(case: Case) -> list[Any]:
    return list(case_events(case).filter(kind=UNREAD_NUDGE))


def test_the_nudge_comes_after_exactly_10_working_days_counting_the_bank_holiday_and_once(handler: User) -> None:
    with time_machine.travel(SENT, tick=False):
        case, _ = routed(email="sam@private.test")
        message = helpline_writes(case, handler)
    assert latest_due_day(AFTER_IT) == date(2026, 5, 21)
    assert latest_due_day(TENTH_WORKING_DAY) == date(2026, 5, 20)
    for not_yet in (WITHOUT_THE_HOLIDAY, TENTH_WORKING_DAY):
        with time_machine.travel(not_yet, tick=False):
            deadlines_sweep(now=not_yet)
            assert unread_nudges(now=not_yet) == 0
    assert nudges_of(case) == []
    with time_machine.travel(AFTER_IT, tick=False):
        deadlines_sweep(now=AFTER_IT)  # the sweeper takes it
        assert len(nudges_of(case)) == 1
        deadlines_sweep(now=AFTER_IT)
        assert unread_nudges(now=AFTER_IT) == 0, "never twice"
    (nudge,) = nudges_of(case)
    assert nudge.detail == {"message_id": message.pk, "emailed": True}
    # On the timeline, to the day only.
    assert nudge.created_at == datetime(2026, 6, 6, tzinfo=LONDON)
    message.refresh_from_db()
    assert message.reporter_nudged and not message.read_by_reporter
    (email,) = Notification.objects.filter(template=UNREAD_EMAIL)
    assert (email.recipient, email.subject_kind, email.subject_id) == (Notification.REPORTER, "report", case.report_id)
    assert email.occasion == f"unread-{message.pk}"
    with time_machine.travel(datetime(2026, 7, 1, 10, 0, tzinfo=LONDON), tick=False):
        assert unread_nudges() == 0
    client = signed_in(handler)
    assert "The reporter has not read the helpline's last message in 10 working days" in text(
        client.get(f"/staff/cases/{case.case_number}")
    )


def test_the_email_goes_only_to_a_reporter_with_an_address_and_says_nothing(handler: User) -> None:
    with time_machine.travel(SENT, tick=False):
        with_address, _ = routed(email="sam@private.test")
        without, _ = routed()
        helpline_writes(with_address, handler, "The home on Elm Street: did the manager see the girl?")
        helpline_writes(without, handler, "The home on Elm Street: did the manager see the girl?")
    with time_machine.travel(AFTER_IT, tick=False):
        assert unread_nudges(now=AFTER_IT) == 2
        nudge_emails = Notification.objects.filter(template=UNREAD_EMAIL).values_list("pk", flat=True)
        for row in OutboxMessage.objects.filter(kind="send_email", target_id__in=list(nudge_emails)):
            outbox_process(outbox_id=row.pk)
    assert nudges_of(without)[0].detail["emailed"] is False
    assert Notification.objects.filter(template=UNREAD_EMAIL).count() == 1
    (sent,) = mail.outbox
    assert sent.to == ["sam@private.test"]
    assert isinstance(sent, mail.EmailMultiAlternatives)
    bodies = [sent.subject, str(sent.body), *(str(content) for content, _ in sent.alternatives)]
    for words in bodies:
        for secret in ("Elm Street", with_address.report.reference, with_address.case_number, "Sam"):
            assert secret not in words
    assert "A message is waiting for you." in str(sent.body)


def test_no_nudge_when_the_reporter_has_read_it_or_for_an_earlier_message(handler: User) -> None:
    with time_machine.travel(SENT, tick=False):
        read_case, read_report = routed(email="sam@private.test")
        twice, _ = routed(email="kim@private.test")
        helpline_writes(read_case, handler)
        reporter_opened(read_report).get("/check/concern")
        earlier = helpline_writes(twice, handler, "First.")
    with time_machine.travel(datetime(2026, 5, 28, 10, 0, tzinfo=LONDON), tick=False):
        later = helpline_writes(twice, handler, "Second.")
    with time_machine.travel(AFTER_IT, tick=False):
        assert unread_nudges(now=AFTER_IT) == 0, "read, and the later message's clock still runs"
    # The later message's clock: 10 working days after 28 May is Thursday 11 June.
    after_later = datetime(2026, 6, 12, 0, 0, 30, tzinfo=LONDON)
    with time_machine.travel(after_later, tick=False):
        assert unread_nudges(now=after_later) == 1
    (nudge,) = nudges_of(twice)
    assert nudge.detail["message_id"] == later.pk
    earlier.refresh_from_db()
    assert not earlier.reporter_nudged and nudges_of(read_case) == []


def test_a_destroyed_report_is_never_nudged(handler: User) -> None:
    with time_machine.travel(SENT, tick=False):
        case, _ = routed(email="sam@private.test")
        helpline_writes(case, handler)
    type(case.report).objects.filter(pk=case.report_id).update(content_destroyed_on=date(2026, 6, 1))
    with time_machine.travel(AFTER_IT, tick=False):
        assert unread_nudges(now=AFTER_IT) == 0


# --- messages written before the read state -------------------------------------------------------------


def test_messages_from_before_keep_what_their_replies_prove(handler: User) -> None:
    """reports migration 0014: a message answered was read (the reporter's by the day of the answer); an old
    unread helpline message is not nudged about now."""
    import importlib

    migration = importlib.import_module("reports.migrations.0014_message_read_state")
    with time_machine.travel(datetime(2026, 1, 5, 9, 0, tzinfo=LONDON), tick=False):
        case, submitted = routed()
    with time_machine.travel(datetime(2026, 1, 5, 10, 0, tzinfo=LONDON), tick=False):
        asked = reporter_writes(submitted, "Asked.")
    with time_machine.travel(datetime(2026, 1, 7, 10, 0, tzinfo=LONDON), tick=False):
        answer = helpline_writes(case, handler, "Answered.")
    with time_machine.travel(datetime(2026, 1, 8, 10, 0, tzinfo=LONDON), tick=False):
        replied = reporter_writes(submitted, "Replied.")
    with time_machine.travel(datetime(2026, 1, 9, 10, 0, tzinfo=LONDON), tick=False):
        old = helpline_writes(case, handler, "Unanswered.")
        _, other = routed()
        waiting = reporter_writes(other, "Nobody answered.")
    Message.objects.update(read_by_helpline_on=None, read_by_reporter=False, reporter_nudged=False)
    with connection.cursor() as cursor:
        cursor.execute(migration.READ_STATE_OF_EARLIER_MESSAGES)
    state = {m.pk: (m.read_by_helpline_on, m.read_by_reporter, m.reporter_nudged) for m in Message.objects.all()}
    assert state[asked.pk] == (date(2026, 1, 7), False, False)
    assert state[answer.pk] == (None, True, False)
    assert state[replied.pk] == (date(2026, 1, 9), False, False)
    assert state[waiting.pk] == (None, False, False), "no answer yet: unread"
    assert state[old.pk] == (None, False, True), "old and unread: no nudge now"

"""The time canary: the database never holds when a reporter was here, beyond the urgent clock.

The clock is frozen at 13:37:42.123456 (London, in winter, so UTC too) while reporters act: a standard
report on the web pages with a file, an urgent one through the API with an Idempotency-Key and a file, a
message, more information, a file with a message and one without on the follow-up page, check-ins chosen,
and a report left unsent with a file chosen (its file expires with the draft, rounded up like the draft); the
unsent answers and the opened concern are each kept longer by the timeout warning's "Continue".
The routing, receipt, email and file work (scanned by a real clamd, cleaned by mat2, re-sealed; each receipt
signed, its issue day kept and its digest an audit event) runs at that moment too, as a worker would within
the second; the follow-up page's files wait while the scanner is down, and are processed when it is back.
Then ``pg_dump`` of the whole database may show that minute only in the urgent triage clock, which is the one
precise time kept while it runs (docs/architecture.md, "No time trail of a reporter").

The urgent hour runs out at 14:37:42, and the sweeper alerts the supervisors at 14:38. Helpline staff
triage at 14:52: their own actions keep their time (staff are accountable for it). After
triage no trace of 13:37, nor of the second 37:42 (which any derived time such as "+30 minutes" or
"+1 hour" keeps), is left anywhere.

The mailbox's read state (issue 27): opening the case reads the reporter's messages (the day is kept, which
the reporter sees); a reporter reads the helpline's message the next morning at 09:14:27.654321, and the
other leaves the helpline's feedback unread until the nudge, taken at 08:41:53.222222 ten working days on.
Neither moment leaves a trace: whether the reporter read is kept, never when, and the nudge keeps its day.

Urgent pages (issue 28): with a primary on call, the sweep at 14:38 also pages them about the urgent case left
unclaimed (the fake Notify takes the text). The page and its text keep their exact times while the urgent clock
runs (triage_page's sent_at and deadline, notify_notification's created_at and sent_at, at 14:38 and 14:53);
once the case leaves triage they keep the day only, and the timeline's page events never held more.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from outbox.models import OutboxMessage
from referrals import services as referral_services
from reports.models import Attachment, Message, Receipt, Report
from reports.outbox_kinds import PROCESS_ATTACHMENT, REPORTER_ADDED_FILE
from rota.models import Shift
from tests.database import pg_dump_text
from tests.factories import staff_user, web_report_sent
from tests.fake_notify import fake_notify  # noqa: F401 - the fixture
from tests.privacy.canary import CANARY_MOMENT, LONDON, SETUP_MOMENT, TRACES, URGENT_CLOCK, run_outbox, traces_in
from triage import case_actions
from triage.case_content import case_open
from triage.escalations import deadlines_sweep
from triage.mailbox import UNREAD_NUDGE, unread_nudges
from triage.models import Case, Page
from triage.paging import paging_sweep

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("fast_kdf", "authorities_committed", "scanner", "fake_notify"),
]

# The urgent hour has passed without triage: the sweeper alerts the supervisors.
SWEEP_MOMENT = datetime(2026, 12, 2, 14, 38, 10, tzinfo=LONDON)
STAFF_MOMENT = datetime(2026, 12, 2, 14, 52, 5, tzinfo=LONDON)
# The urgent report's reporter reads the helpline's message (their visit), and the sweeper nudges the other.
READ_MOMENT = datetime(2026, 12, 3, 9, 14, 27, 654321, tzinfo=LONDON)
NUDGE_MOMENT = datetime(2026, 12, 17, 8, 41, 53, 222222, tzinfo=LONDON)
MAILBOX_TRACES = ("09:14", "14:27", ".654321", "08:41", "41:53", ".222222")
# The page's clock while it runs: sent at the sweep (14:38:10), to be answered 15 minutes on (14:53:10).
PAGE_TRACES = ("14:38", "14:53")
PAGE_CLOCK = {
    ("triage_page", "sent_at"),
    ("triage_page", "deadline"),
    ("notify_notification", "created_at"),
    ("notify_notification", "sent_at"),
}


def api_report(client: Client) -> dict[str, str]:
    body = {
        "anonymity": "anonymous",
        "reporter_sector": "health",
        "concern_types": ["concern_not_acted_on"],
        "local_authority": "E08000018",
        "summary": "A child was seen at the flat",
        "details": "Seen twice this week; raised with a manager, nothing done.",
        "child_at_immediate_risk": True,
        "raised_internally": "yes",
    }
    response = client.post(
        "/api/v1/reports", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="canary-idempotency-key-0001"
    )
    assert response.status_code == 201, response.content
    return response.json()


def a_file(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"The rota for March, as it was before it was changed.\n", "text/plain")


@pytest.fixture(autouse=True)
def work_dir(settings) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """The workers' memory-backed folder for decrypted files, this test's own."""
    folder = Path(tempfile.mkdtemp(prefix="time-canary-", dir="/dev/shm"))
    settings.ATTACHMENT_WORK_DIR = str(folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@time_machine.travel(SETUP_MOMENT, tick=False)
def test_the_database_holds_no_reporter_time_but_the_urgent_clock_and_none_after_triage(settings) -> None:  # type: ignore[no-untyped-def]
    supervisor = staff_user("supervisor", email="supervisor@helpline.test")
    # On call all that day (staff times, kept exactly: midnight to midnight leaves no trace of the canary).
    Shift.objects.create(
        person=staff_user("on-call", role=User.Role.CALL_HANDLER, email="on-call@helpline.test"),
        role=Shift.Role.PRIMARY,
        starts_at=datetime(2026, 12, 2, 0, 0, tzinfo=LONDON),
        ends_at=datetime(2026, 12, 3, 0, 0, tzinfo=LONDON),
        phone="07700 900001",
        created_by=supervisor,
    )
    with time_machine.travel(CANARY_MOMENT, tick=False):
        web = Client(REMOTE_ADDR="192.0.2.10")
        web_report_sent(
            web, anonymity={"anonymity": "anonymous"}, documents={"action": "continue", "file": a_file("rota.txt")}
        )
        unsent = Client(REMOTE_ADDR="192.0.2.12")
        assert unsent.post("/report/begin").status_code == 302
        assert unsent.post("/report/documents", {"action": "add", "file": a_file("left.txt")}).status_code == 302
        # "Continue" in the timeout warning: more time for the answers and their file, rounded up the same way.
        assert unsent.post("/report/more-time", HTTP_ACCEPT="application/json").status_code == 200
        api = Client(REMOTE_ADDR="192.0.2.11")
        urgent = api_report(api)
        added = api.post(
            "/api/v1/reports/attachments",
            {"reference": urgent["reference"], "access_code": urgent["access_code"], "file": a_file("van.txt")},
        )
        assert added.status_code == 201, added.content
        opened = api.post(
            "/api/v1/reports/messages",
            {"reference": urgent["reference"], "access_code": urgent["access_code"], "body": "He drives a van."},
            content_type="application/json",
        )
        assert opened.status_code == 201
        # Control: the files are there, with their day, and the unsent one with the draft's expiry.
        assert Attachment.objects.filter(report__isnull=False).count() == 2
        assert Attachment.objects.get(report__isnull=True).expires_at is not None
        # Unrouted: the urgent clock is on the report itself.
        during = traces_in(pg_dump_text(column_names=True))
        assert {(table, column) for table, column, _ in during} <= URGENT_CLOCK, during
        assert ("reports_report", "urgent_triage_due_at") in {(t, c) for t, c, _ in during}, "control: the clock"

        run_outbox()
        # Control: both receipts were signed within the second, with the day only (and their audit events).
        assert sorted(Receipt.objects.values_list("issued_on", flat=True)) == [CANARY_MOMENT.date()] * 2
        assert AuditEvent.objects.filter(kind="receipt_signed").count() == 2
        # Control: the files were scanned and cleaned within the second.
        assert set(Attachment.objects.filter(report__isnull=False).values_list("status", flat=True)) == {"clean"}
        follow_up = Client(REMOTE_ADDR="192.0.2.11")
        checked = follow_up.post("/check", {"reference": urgent["reference"], "access_code": urgent["access_code"]})
        assert checked.status_code == 302
        assert follow_up.post("/check/concern/check-ins").status_code == 302
        assert follow_up.post("/check/concern/more-time", HTTP_ACCEPT="application/json").status_code == 200
        more = follow_up.post("/check/concern/message", {"kind": "more_information", "body": "The van is silver."})
        assert more.status_code == 302
        later = follow_up.post("/check/concern/files", {"file": a_file("photo-notes.txt"), "body": "Notes."})
        assert later.status_code == 302
        alone = follow_up.post("/check/concern/files", {"file": a_file("route-notes.txt"), "body": ""})
        assert alone.status_code == 302 and Attachment.objects.filter(report__isnull=False).count() == 4
        assert OutboxMessage.objects.filter(kind=REPORTER_ADDED_FILE).count() == 2  # the API's file too
        # The scanner is down: these two files wait to be tried again.
        scanner_socket = settings.CLAMD_SOCKET
        settings.CLAMD_SOCKET = str(Path(settings.ATTACHMENT_WORK_DIR) / "nobody-listens.sock")
        run_outbox()
        waiting = OutboxMessage.objects.filter(kind=PROCESS_ATTACHMENT, processed_at__isnull=True)
        assert waiting.count() == 2 and all(row.claimed_until for row in waiting), "control: they wait"

    # While they wait: still only the urgent clock.
    while_waiting = traces_in(pg_dump_text(column_names=True))
    assert {(table, column) for table, column, _ in while_waiting} <= URGENT_CLOCK, while_waiting
    settings.CLAMD_SOCKET = scanner_socket

    cases = {case.priority: case for case in Case.objects.select_related("report")}
    assert set(cases) == {Case.Priority.URGENT, Case.Priority.STANDARD}
    assert Report.objects.filter(urgent_triage_due_at__isnull=False).count() == 0, "the case runs the clock now"
    assert cases[Case.Priority.URGENT].triage_due_at == CANARY_MOMENT + timedelta(hours=1)
    with time_machine.travel(SWEEP_MOMENT, tick=False):
        assert deadlines_sweep(now=SWEEP_MOMENT) == 1
        # Unclaimed for more than 15 minutes in office hours: the primary on call is paged (triage.paging).
        assert paging_sweep(now=SWEEP_MOMENT) == 1
        run_outbox()  # the scanner is back: the waiting files are processed too
    assert not OutboxMessage.objects.filter(processed_at__isnull=True).exists()
    assert set(Attachment.objects.filter(report__isnull=False).values_list("status", flat=True)) == {"clean"}
    # The overdue alert's time would say when the report was sent: only the page's clock, while it runs, has it.
    page_times = traces_in(pg_dump_text(column_names=True), PAGE_TRACES)
    assert {(table, column) for table, column, _ in page_times} == PAGE_CLOCK, page_times
    assert Page.objects.get().notification.state == "sent", "control: the text went"
    while_running = traces_in(pg_dump_text(column_names=True))
    assert {(table, column) for table, column, _ in while_running} == {
        ("triage_case", "triage_due_at"),
        ("triage_escalation", "deadline"),
    }, while_running

    with time_machine.travel(STAFF_MOMENT, tick=False):
        handler = staff_user("handler", role=User.Role.CALL_HANDLER, email="handler@helpline.test")
        for case in cases.values():
            case_actions.case_claim(case=case, acting_user=handler)
        # Opening the case reads the reporter's messages, to the day.
        case_open(case=cases[Case.Priority.URGENT], acting_user=handler)
        case_actions.case_ask_reporter(
            case=Case.objects.get(pk=cases[Case.Priority.URGENT].pk), body="Which flat?", acting_user=handler
        )
        referral_services.case_refer(
            case=cases[Case.Priority.URGENT],
            summary="Child seen at a flat; manager did not act.",
            acting_user=supervisor,
        )
        case_actions.case_close(
            case=cases[Case.Priority.STANDARD],
            outcome="no_further_action",
            feedback="Thank you for telling us.",
            acting_user=supervisor,
        )
        run_outbox()

    after = traces_in(pg_dump_text(column_names=True))
    assert after == [], after
    # The urgent clock is met: the page and its text keep the day only.
    assert traces_in(pg_dump_text(column_names=True), PAGE_TRACES) == []
    assert Page.objects.get().day_only
    # Control: the staff moment is kept, so a dump that printed no times could not pass.
    assert "14:52:05" in pg_dump_text(column_names=True)
    urgent_messages = Message.objects.filter(report=cases[Case.Priority.URGENT].report)
    assert {m.read_by_helpline_on for m in urgent_messages.filter(direction="from_reporter")} == {STAFF_MOMENT.date()}

    with time_machine.travel(READ_MOMENT, tick=False):
        reader = Client(REMOTE_ADDR="192.0.2.11")
        pair = {"reference": urgent["reference"], "access_code": urgent["access_code"]}
        assert reader.post("/check", pair).status_code == 302
        assert "Which flat?" in reader.get("/check/concern").content.decode()
    assert urgent_messages.get(direction="from_helpline").read_by_reporter, "control: read"
    with time_machine.travel(NUDGE_MOMENT, tick=False):
        assert unread_nudges(now=NUDGE_MOMENT) == 1  # the standard report's feedback, unread
        run_outbox()
    assert Message.objects.get(report=cases[Case.Priority.STANDARD].report, direction="from_helpline").reporter_nudged
    dump = pg_dump_text(column_names=True)
    assert traces_in(dump, MAILBOX_TRACES) == [], "when the reporter read, or was nudged"
    assert UNREAD_NUDGE in dump, "control: the nudge is on the timeline"


# Issue 27: what a reporter does about their identity on /check keeps the day only.
IDENTITY_SENT_MOMENT = datetime(2026, 12, 2, 9, 0, 0, tzinfo=LONDON)
IDENTITY_STAFF_MOMENT = datetime(2026, 12, 3, 10, 5, 11, tzinfo=LONDON)
IDENTITY_MOMENT = datetime(2026, 12, 4, 13, 37, 42, 123456, tzinfo=LONDON)


@time_machine.travel(SETUP_MOMENT, tick=False)
def test_answering_withdrawing_and_giving_ones_name_on_check_keep_the_day_only() -> None:
    """A named reporter answers the helpline's questions (yes for Rotherham, yes then withdrawn for Sheffield);
    an anonymous reporter gives the helpline their name. Every row and audit event they cause holds the day."""
    from referrals import identity
    from tests.factories import SHEFFIELD, authority, valid_api_report

    with time_machine.travel(IDENTITY_SENT_MOMENT, tick=False):
        api = Client(REMOTE_ADDR="192.0.2.20")
        named = api.post(
            "/api/v1/reports",
            valid_api_report(anonymity="named", contact={"name": "Sam", "email": "", "phone": "07700 900982"}),
            content_type="application/json",
        ).json()
        anonymous = api_report(api)
        run_outbox()
    handler = staff_user("identity-handler", role=User.Role.CALL_HANDLER, email="handler@helpline.test")
    with time_machine.travel(IDENTITY_STAFF_MOMENT, tick=False):
        case = Case.objects.get(report__reference=named["reference"])
        rotherham = referral_services.case_refer(case=case, summary="For Rotherham.", acting_user=handler)
        sheffield = referral_services.case_refer(
            case=case, summary="For Sheffield.", recipient=authority(SHEFFIELD), acting_user=handler
        )
        asked = [
            identity.identity_ask_consent(case=case, referral_id=r.pk, covers=["name", "phone"], acting_user=handler)
            for r in (rotherham, sheffield)
        ]
        run_outbox()
    with time_machine.travel(IDENTITY_MOMENT, tick=False):
        reporter = Client(REMOTE_ADDR="192.0.2.21")
        assert (
            reporter.post("/check", {"reference": named["reference"], "access_code": named["access_code"]}).status_code
            == 302
        )
        for sharing in asked:
            answered = reporter.post("/check/concern/identity/answer", {"sharing": str(sharing.pk), "answer": "yes"})
            assert answered.status_code == 302
        assert reporter.post("/check/concern/identity/withdraw", {"sharing": str(asked[1].pk)}).status_code == 302
        other = Client(REMOTE_ADDR="192.0.2.22")
        assert (
            other.post(
                "/check", {"reference": anonymous["reference"], "access_code": anonymous["access_code"]}
            ).status_code
            == 302
        )
        gave = other.post("/check/concern/contact", {"name": "Alex", "email": "alex@private.example", "phone": ""})
        assert gave.status_code == 302
        run_outbox()
    # Control: they did it.
    statuses = sorted(case.referrals.values_list("identity_sharings__status", flat=True))
    assert statuses == ["agreed", "withdrawn"]
    assert Report.objects.filter(reference=anonymous["reference"], contact_given_on__isnull=False).exists()
    dump = pg_dump_text(column_names=True)
    assert traces_in(dump) == []
    # Control: the staff moment is kept, so a dump that printed no times could not pass.
    assert "10:05:11" in dump


# Issue 29: pattern detection run minutes after the report that tips a count (the workers run it after every
# refresh of the statistics). Whatever the alert keeps must not date that report.
DETECT_MOMENT = datetime(2026, 12, 2, 13, 41, 5, 654321, tzinfo=LONDON)
DETECT_TRACES = ("13:41", "41:05", ".654321")


@time_machine.travel(SETUP_MOMENT, tick=False)
def test_a_pattern_alert_found_minutes_after_the_reports_keeps_the_day_only(settings) -> None:  # type: ignore[no-untyped-def]
    from oversight.detection import detect
    from oversight.models import PatternAlert
    from tests.factories import submit_report

    settings.PATTERN_KNOWN_EVENTS = []
    with time_machine.travel(CANARY_MOMENT, tick=False):
        for _ in range(settings.PATTERN_ORGANISATION_MIN_REPORTS):
            submit_report()  # the same organisation each time
        run_outbox()
    with time_machine.travel(DETECT_MOMENT, tick=False):
        detect()
    alert = PatternAlert.objects.get(kind=PatternAlert.Kind.ORGANISATION)
    assert alert.created_on == DETECT_MOMENT.date(), "control: the alert the reports caused"

    found = traces_in(pg_dump_text(column_names=True), TRACES + DETECT_TRACES)

    assert {(table, column) for table, column, _ in found} <= URGENT_CLOCK, found

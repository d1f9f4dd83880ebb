"""triage.intake's reporter_added_file: a file the reporter adds to their sent report without a message reaches
the case as a message does (its timeline, to the day only; a case waiting for the reporter goes back to the
helpline), once."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from core.timetrail import is_day_only
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from reports.models import Attachment
from reports.outbox_kinds import REPORTER_ADDED_FILE
from tests.factories import reporter_opened, staff_user, submit_report
from triage.case_actions import case_ask_reporter
from triage.intake import REPORTER_FILE_ADDED, report_route, reporter_added_file
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

FILES = "/check/concern/files"


def a_file(name: str = "rota-before-the-change.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"The rota as it was.\n", content_type="text/plain")


def file_events(case: Case) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=REPORTER_FILE_ADDED, subject_id=case.pk))


def run_outbox(kind: str) -> None:
    for row in OutboxMessage.objects.filter(kind=kind, processed_at__isnull=True):
        outbox_process(outbox_id=row.pk)


def test_a_file_without_a_message_hands_a_waiting_case_back_and_is_on_its_timeline_to_the_day(
    handler_client: Client,
) -> None:
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    case_ask_reporter(case=case, body="Do you have the old rota?", acting_user=staff_user("h", role="call_handler"))
    assert Case.objects.get(pk=case.pk).status == Case.Status.AWAITING_REPORTER

    reporter = reporter_opened(submitted)
    assert reporter.post(FILES, {"file": a_file(), "body": ""}).status_code == 302
    attachment = Attachment.objects.get(report=submitted.report)
    run_outbox(REPORTER_ADDED_FILE)

    assert Case.objects.get(pk=case.pk).status == Case.Status.IN_TRIAGE
    (event,) = file_events(case)
    assert event.detail == {"attachment_id": attachment.pk}, "an id only: never the file's name"
    assert event.actor is None
    assert is_day_only(event.created_at), "a reporter's doing keeps the day only"
    page = handler_client.get(f"/staff/cases/{case.case_number}").content.decode()
    assert "The reporter added a file" in page


def test_it_is_counted_once_however_often_the_work_is_done() -> None:
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    reporter = reporter_opened(submitted)
    assert reporter.post(FILES, {"file": a_file(), "body": ""}).status_code == 302
    attachment = Attachment.objects.get(report=submitted.report)
    reporter_added_file(attachment.pk)
    reporter_added_file(attachment.pk)
    assert len(file_events(case)) == 1


def test_a_report_not_routed_yet_is_routed_first_so_the_file_is_never_left_off_its_case() -> None:
    submitted = submit_report()
    reporter = reporter_opened(submitted)
    assert reporter.post(FILES, {"file": a_file(), "body": ""}).status_code == 302
    run_outbox(REPORTER_ADDED_FILE)
    case = Case.objects.get(report=submitted.report)
    assert len(file_events(case)) == 1


def test_a_case_not_waiting_for_the_reporter_keeps_its_status(handler: User) -> None:
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    Case.objects.filter(pk=case.pk).update(status=Case.Status.REFERRED)
    reporter = reporter_opened(submitted)
    assert reporter.post(FILES, {"file": a_file(), "body": ""}).status_code == 302
    run_outbox(REPORTER_ADDED_FILE)
    assert Case.objects.get(pk=case.pk).status == Case.Status.REFERRED
    assert len(file_events(case)) == 1


def test_a_file_sent_with_a_message_is_heard_of_through_the_message_only() -> None:
    submitted = submit_report()
    report_route(report_id=submitted.report.pk)
    reporter = reporter_opened(submitted)
    assert reporter.post(FILES, {"file": a_file(), "body": "The old rota."}).status_code == 302
    assert not OutboxMessage.objects.filter(kind=REPORTER_ADDED_FILE).exists()
    assert OutboxMessage.objects.filter(kind="reporter_replied").count() == 1

"""Files the helpline adds: one attached to a message to the reporter (the case page's message form), and one a
caller emailed in (the phone report page). Each is sealed as it arrives, kept with the report's data key,
marked as the helpline's, and sent to the workers to be scanned and cleaned like the reporter's own."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from accounts.models import User
from audit.models import AuditEvent, Subject
from outbox.models import OutboxMessage
from reports.attachments import (
    attachment_blob_delete,
    attachment_meta,
    attachment_open,
    files_left,
    helpline_files_left,
)
from reports.models import Attachment, AttachmentChunk, Message, Report
from reports.outbox_kinds import PROCESS_ATTACHMENT
from tests.factories import attachment_make, phone_report_answers, routed_case
from tests.triage.page_text import error_summary, section, text
from triage.case_content import case_data_key, report_data_key
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

FORM_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(100)


def upload(name: str = "consent-form.pdf", data: bytes = FORM_PDF, content_type: str = "application/pdf") -> Any:
    return SimpleUploadedFile(name, data, content_type=content_type)


def ask(client: Client, case: Case, body: str = "Please fill in the form attached.", **files: Any) -> Any:
    data: dict[str, Any] = {"ask_reporter-body": body}
    data.update({f"ask_reporter-{name}": file for name, file in files.items()})
    return client.post(f"/staff/cases/{case.case_number}/ask_reporter", data, follow=True)


def nothing_kept() -> None:
    assert not Attachment.objects.exists(), "a refused file is dropped at once, not left to expire"
    assert not AttachmentChunk.objects.exists()
    assert not OutboxMessage.objects.filter(kind=PROCESS_ATTACHMENT).exists()


# --- a message to the reporter with a file ------------------------------------------------------------------


def test_a_message_to_the_reporter_can_carry_a_file_which_is_kept_sealed_and_sent_to_be_cleaned(
    handler: User, handler_client: Client
) -> None:
    case = routed_case()
    response = ask(handler_client, case, file=upload())
    assert "Message sent to the reporter with consent-form.pdf. They can download it once it has been checked" in (
        text(response)
    )
    message = Message.objects.get(report=case.report, direction=Message.Direction.FROM_HELPLINE)
    file = Attachment.objects.get()
    assert (file.report_id, file.message_id, file.added_by_id) == (case.report_id, message.pk, handler.pk)
    assert (file.source, file.status, file.stage) == (
        Attachment.Source.HELPLINE,
        Attachment.Status.PENDING,
        Attachment.Stage.RECEIVED,
    )
    assert file.expires_at is None
    key = case_data_key(case)
    assert b"".join(attachment_open(file, key)) == FORM_PDF
    meta = attachment_meta(file, key)
    assert (meta.name, meta.content_type, meta.size) == ("consent-form.pdf", "application/pdf", len(FORM_PDF))
    assert b"consent-form" not in bytes(file.meta)
    assert OutboxMessage.objects.filter(kind=PROCESS_ATTACHMENT, target_id=file.pk).count() == 1
    event = AuditEvent.objects.get(kind="ask_reporter")
    assert event.detail == {"status": "awaiting_reporter", "message_id": message.pk, "attachment_id": file.pk}
    # The case page lists it as the helpline's, and names it under the message it came with.
    body = text(handler_client.get(f"/staff/cases/{case.case_number}"))
    assert "by the helpline (handler)" in section(body, 'data-testid="case-files"', "</table>")
    assert "consent-form.pdf" in section(body, 'data-testid="message-file"', "</p>")


def test_the_message_form_is_a_multipart_form_with_a_gov_uk_file_upload(handler_client: Client) -> None:
    case = routed_case()
    form = section(text(handler_client.get(f"/staff/cases/{case.case_number}")), 'id="action-ask_reporter"', "</form>")
    assert 'enctype="multipart/form-data"' in form
    assert 'class="govuk-file-upload"' in form and 'name="ask_reporter-file"' in form and 'type="file"' in form
    assert "accept=" in form


def test_a_message_without_a_file_keeps_none(handler_client: Client) -> None:
    case = routed_case()
    assert "Message sent to the reporter" in text(ask(handler_client, case))
    nothing_kept()


def test_a_file_that_is_not_what_its_name_says_is_refused_and_nothing_is_sent(handler_client: Client) -> None:
    case = routed_case()
    response = ask(handler_client, case, file=upload("form.pdf", EXE))
    assert response.status_code == 400
    assert "The selected file is not a PDF: its contents do not match its name" in error_summary(response)
    assert not Message.objects.filter(report=case.report).exists()
    nothing_kept()


@override_settings(ATTACHMENT_MAX_BYTES=1024)
def test_a_file_over_the_limit_is_refused_with_a_clear_message(handler_client: Client) -> None:
    case = routed_case()
    response = ask(handler_client, case, file=upload(data=FORM_PDF + bytes(4096)))
    assert response.status_code == 400
    assert "The selected file must be smaller than" in error_summary(response)
    assert not Message.objects.filter(report=case.report).exists()
    nothing_kept()


def test_a_file_sent_with_a_message_that_is_refused_must_be_chosen_again(handler_client: Client) -> None:
    case = routed_case()
    response = ask(handler_client, case, body="", file=upload())
    assert response.status_code == 400
    summary = error_summary(response)
    assert "Enter the message to the reporter" in summary
    assert "Choose the file again" in summary
    nothing_kept()


def test_a_file_sent_with_an_action_that_takes_none_is_dropped(handler_client: Client) -> None:
    case = routed_case()
    response = handler_client.post(
        f"/staff/cases/{case.case_number}/add_note", {"add_note-body": "Called.", "add_note-file": upload()}
    )
    assert response.status_code == 302
    nothing_kept()


def test_the_helplines_files_have_a_limit_of_their_own_and_never_take_the_reporters_places(
    handler_client: Client, settings: Any
) -> None:
    settings.ATTACHMENT_MAX_FILES = 1
    settings.ATTACHMENT_MAX_HELPLINE_FILES = 2
    case = routed_case()
    for name in ("first.pdf", "second.pdf"):
        assert "Message sent to the reporter" in text(ask(handler_client, case, file=upload(name)))
    # The reporter's one place is still theirs.
    assert files_left(case.report_id) == 1
    refused = ask(handler_client, case, file=upload("third.pdf"))
    assert refused.status_code == 409
    assert "The helpline has already added 2 files to this case, the most it can add" in html.unescape(
        refused.content.decode()
    )
    assert Attachment.objects.count() == 2


def test_the_reporters_files_do_not_take_the_helplines_places(handler_client: Client, settings: Any) -> None:
    settings.ATTACHMENT_MAX_FILES = 1
    settings.ATTACHMENT_MAX_HELPLINE_FILES = 1
    case = routed_case()
    attachment_make(case, name="reporters.txt")
    assert files_left(case.report_id) == 0 and helpline_files_left(case.report_id) == 1
    assert "Message sent to the reporter" in text(ask(handler_client, case, file=upload()))
    assert helpline_files_left(case.report_id) == 0
    # A removed file gives its place back.
    attachment_blob_delete(Attachment.objects.get(source=Attachment.Source.HELPLINE))
    assert helpline_files_left(case.report_id) == 1


# --- a phone report with the file a caller emailed in -------------------------------------------------------


def test_the_call_handler_can_keep_a_file_the_caller_emailed_in(handler: User, handler_client: Client) -> None:
    answers: dict[str, Any] = {**phone_report_answers(), "file-file": upload("rota.pdf")}
    response = handler_client.post("/staff/phone-report", answers, follow=True)
    assert response.status_code == 200, text(response)[:500]
    assert "The caller's file is kept with the report" in text(response)
    report = Report.objects.get(reference=response.context["reference"])
    file = Attachment.objects.get()
    assert (file.report_id, file.source, file.added_by_id, file.message_id) == (
        report.pk,
        Attachment.Source.HELPLINE,
        handler.pk,
        None,
    )
    assert file.status == Attachment.Status.PENDING
    assert b"".join(attachment_open(file, report_data_key(report))) == FORM_PDF
    assert attachment_meta(file, report_data_key(report)).name == "rota.pdf"
    assert OutboxMessage.objects.filter(kind=PROCESS_ATTACHMENT, target_id=file.pk).count() == 1
    event = AuditEvent.objects.get(kind="attachment_added")
    assert (event.subject_kind, event.subject_id, event.actor) == (Subject.REPORT, report.pk, handler)
    assert event.detail == {"report_id": report.pk, "attachment_id": file.pk, "source": "helpline"}


def test_the_phone_report_page_offers_a_file_upload(handler_client: Client) -> None:
    body = text(handler_client.get("/staff/phone-report"))
    assert 'enctype="multipart/form-data"' in body
    assert 'name="file-file"' in body and "A file the caller emailed in (optional)" in body


def test_a_phone_report_without_a_file_keeps_none(handler_client: Client) -> None:
    response = handler_client.post("/staff/phone-report", phone_report_answers(), follow=True)
    assert response.status_code == 200
    assert "The caller's file" not in text(response)
    nothing_kept()


def test_a_phone_report_with_a_refused_file_is_not_recorded(handler_client: Client) -> None:
    answers: dict[str, Any] = {**phone_report_answers(), "file-file": upload("rota.pdf", EXE)}
    response = handler_client.post("/staff/phone-report", answers, follow=True)
    assert response.status_code == 400
    assert "The selected file is not a PDF" in error_summary(response)
    assert not Report.objects.exists()
    nothing_kept()


def test_a_phone_report_with_other_problems_asks_for_the_file_again(handler_client: Client) -> None:
    answers: dict[str, Any] = {**phone_report_answers(), "file-file": upload()}
    answers.pop("what-happened-details")
    response = handler_client.post("/staff/phone-report", answers, follow=True)
    assert response.status_code == 400
    summary = error_summary(response)
    assert "Enter what happened" in summary and "Choose the file again" in summary
    assert not Report.objects.exists()
    nothing_kept()

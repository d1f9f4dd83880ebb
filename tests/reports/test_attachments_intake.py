"""Where a reporter's files come in (issue 25): the question page "Do you have documents, photos or
recordings?", check your answers, the follow-up page, and POST /api/v1/reports/attachments.

Every refusal is the GOV.UK error pattern on a page (post/redirect/get, then 400 with the error summary) or a
field error in the API, and leaves nothing stored: the sealed upload is discarded as soon as it is not kept.
"""

from __future__ import annotations

import base64
import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from core.secretstream import CHUNK
from outbox.models import OutboxMessage
from reports import attachments, services
from reports.drafts import drafts_purge
from reports.models import Attachment, AttachmentChunk, Draft, Message, Receipt, Report
from reports.outbox_kinds import (
    PROCESS_ATTACHMENT,
    REPORTER_ADDED_FILE,
    REPORTER_REPLIED,
    ROUTE_REPORT,
    SIGN_RECEIPT,
)
from tests.factories import reporter_opened, staff_user, submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]

DOCUMENTS = "/report/documents"
REMOVE = "/report/documents/remove"
CHECK = "/report/check-your-answers"
FOLLOW_UP = "/check/concern"
FILES = "/check/concern/files"
API = "/api/v1/reports/attachments"
ACCESS_API = "/api/v1/reports/access"

# An anonymous journey whose council is "I do not know": no authority data needed.
WEB_ANSWERS: list[tuple[str, dict[str, Any]]] = [
    ("anonymity", {"anonymity": "anonymous"}),
    ("about-you", {"reporter_sector": "education"}),
    ("concern", {"concern_types": ["concern_not_acted_on"]}),
    ("where", {"postcode": "", "council": "unknown"}),
    ("about-council", {"about_council": "no", "which_council": ""}),
    ("organisation", {"organisation_name": ""}),
    ("what-happened", {"summary": "Rota changed after a complaint", "details": "The rota was rewritten."}),
    ("raised-internally", {"raised_internally": "no", "internal_response": ""}),
    ("reported", {"already_reported": "no"}),
    ("immediate-risk", {"child_at_immediate_risk": "no"}),
]

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# A Windows program: "MZ", then the DOS stub.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode." * 4


def a_file(name: str = "minutes.txt", data: bytes = b"Minutes of the meeting of 3 March.\n") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def at_documents() -> Client:
    """A reporter who has answered every question and is on the documents page."""
    client = Client()
    assert client.post("/report/begin").status_code == 302
    for slug, data in WEB_ANSWERS:
        response = client.post(f"/report/{slug}", data)
        assert response.status_code == 302, (slug, response.content[:1000])
    assert response["Location"] == DOCUMENTS
    return client


def draft_of(client: Client) -> tuple[uuid.UUID, bytes]:
    draft_id, _, encoded = client.cookies["report_draft"].value.strip('"').partition(".")
    return uuid.UUID(hex=draft_id), base64.urlsafe_b64decode(encoded)


def add(client: Client, upload: SimpleUploadedFile, *, action: str = "add", path: str = DOCUMENTS) -> Any:
    return client.post(path, {"action": action, "file": upload})


def refusal_shown(client: Client, response: Any, path: str = DOCUMENTS) -> str:
    """Post/redirect/get: the page again, at its own address, with the error summary and a 400."""
    assert response.status_code == 302 and response["Location"].startswith(path), response
    page = client.get(response["Location"])
    assert page.status_code == 400
    text = page.content.decode()
    assert "There is a problem" in text and "govuk-error-summary" in text
    return text


def nothing_stored() -> bool:
    return not Attachment.objects.exists() and not AttachmentChunk.objects.exists()


# --- the question page ----------------------------------------------------------------------------------------


def test_the_page_comes_after_the_last_question_and_says_what_it_takes() -> None:
    client = at_documents()
    page = client.get(DOCUMENTS)
    assert page.status_code == 200
    text = page.content.decode()
    assert '<h1 class="govuk-heading-l">Do you have documents, photos or recordings?</h1>' in text
    assert 'enctype="multipart/form-data"' in text and 'type="file"' in text and 'class="govuk-file-upload"' in text
    assert 'accept=".pdf,.jpg,.jpeg,.jfif,.png,.heic,.heif,.docx,.xlsx,.pptx,.odt,.txt,.text,.mp3"' in text
    assert "smaller than 20 MB" in text and "up to 10 files" in text
    assert '<a href="/report/immediate-risk" class="govuk-back-link">Back</a>' in text
    # Nothing is required: Continue without a file goes to check your answers, and the page is not asked again.
    response = client.post(DOCUMENTS, {"action": "continue"})
    assert response["Location"] == CHECK
    assert client.post("/report/immediate-risk?change=1", {"child_at_immediate_risk": "no"})["Location"] == CHECK
    assert "You have not added any files." in client.get(CHECK).content.decode()


def test_files_are_added_one_at_a_time_listed_removed_and_become_the_reports_on_send() -> None:
    client = at_documents()
    added = add(client, a_file("minutes.txt"))
    assert added["Location"] == f"{DOCUMENTS}?done=added"
    page = client.get(added["Location"]).content.decode()
    # The banner names the file; the name is kept in the sealed draft, never in the address.
    assert "minutes.txt has been added." in page and "Your file has been added." not in page
    assert add(client, a_file("rota.pdf", PDF)).status_code == 302
    assert add(client, a_file("photo.png", PNG)).status_code == 302
    draft_id, draft_key = draft_of(client)
    files = services.draft_files_read(draft_id=draft_id, draft_key=draft_key)
    assert [file.name for file in files] == ["minutes.txt", "rota.pdf", "photo.png"]
    # Sealed with the draft's key, to expire with the draft; no report yet, so no processing.
    draft = Draft.objects.get(pk=draft_id)
    assert set(Attachment.objects.values_list("draft_id", "expires_at", "report")) == {
        (draft_id, draft.expires_at, None)
    }
    assert not OutboxMessage.objects.filter(kind=PROCESS_ATTACHMENT).exists()

    # Removed from the documents page ...
    removed = client.post(REMOVE, {"file": str(files[1].public_id)})
    assert removed["Location"] == f"{DOCUMENTS}?done=removed"
    assert "rota.pdf has been removed." in client.get(removed["Location"]).content.decode()
    # ... and a chosen file sent with Continue (without "Add file") is added all the same.
    assert add(client, a_file("email.txt", b"From: the manager\n"), action="continue")["Location"] == CHECK

    # Check your answers lists them, each with a way to remove it.
    check = client.get(CHECK).content.decode()
    for name in ("minutes.txt", "photo.png", "email.txt"):
        assert f'<dd class="govuk-summary-list__value" data-testid="file-name">{name}</dd>' in check
        assert f'Remove<span class="govuk-visually-hidden"> {name}</span>' in check
    assert "rota.pdf" not in check
    photo = next(
        file for file in services.draft_files_read(draft_id=draft_id, draft_key=draft_key) if file.name == "photo.png"
    )
    assert client.post(REMOVE, {"file": str(photo.public_id), "next": "check"})["Location"] == CHECK
    assert "photo.png" not in client.get(CHECK).content.decode()

    sent = client.post(CHECK)
    assert sent["Location"] == "/report/confirmation"
    report = Report.objects.get()
    files_of_report = list(Attachment.objects.filter(report=report))
    assert len(files_of_report) == 2 and Attachment.objects.count() == 2
    assert all(a.draft_id is None and a.expires_at is None and a.status == "pending" for a in files_of_report)
    # The report, its routing row, its receipt's signing row and each file's processing row committed together.
    assert set(OutboxMessage.objects.values_list("kind", "target_id")) == {
        (ROUTE_REPORT, report.pk),
        (SIGN_RECEIPT, Receipt.objects.get(report=report).pk),
        *((PROCESS_ATTACHMENT, a.pk) for a in files_of_report),
    }
    # Re-wrapped with the report's data key: the reporter opens them with the access code.
    access_code = client.get("/report/confirmation").context["sent"].access_code
    _, data_key = services.report_unlock(reference=report.reference, access_code=access_code, client="test")
    opened = services.reporter_files_read(report=report, data_key=data_key)
    assert [file.name for file in opened] == ["minutes.txt", "email.txt"]
    assert (
        b"".join(attachments.attachment_open(files_of_report[0], data_key)) == b"Minutes of the meeting of 3 March.\n"
    )


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("payslip.pdf", EXE, "The selected file is not a PDF: its contents do not match its name"),
        ("setup.exe", EXE, "The selected file must be a PDF, JPG, PNG, HEIC, DOCX, XLSX, PPTX, ODT, TXT or MP3"),
        ("empty.txt", b"", "The selected file is empty"),
    ],
    ids=["exe-named-pdf", "exe", "empty"],
)
def test_a_refused_file_is_a_govuk_error_and_nothing_is_kept(name: str, data: bytes, message: str) -> None:
    client = at_documents()
    text = refusal_shown(client, add(client, a_file(name, data)))
    assert f'<a href="#id_file">{message}</a>' in text
    hidden = '<span class="govuk-visually-hidden">Error:</span>'
    assert f'<p id="id_file-error" class="govuk-error-message">{hidden} {message}</p>' in text
    assert "<title>Error: " in text and "govuk-file-upload--error" in text
    assert nothing_stored()


def test_add_file_without_a_file_asks_for_one() -> None:
    client = at_documents()
    text = refusal_shown(client, client.post(DOCUMENTS, {"action": "add"}))
    assert '<a href="#id_file">Select a file</a>' in text


@override_settings(ATTACHMENT_MAX_BYTES=2 * CHUNK)
def test_a_file_over_the_size_limit_is_refused_with_the_limit_in_words() -> None:
    client = at_documents()
    text = refusal_shown(client, add(client, a_file("recording.txt", b"a" * (2 * CHUNK + 1))))
    assert "The selected file must be smaller than 128 KB" in text
    assert nothing_stored()


def test_the_limit_in_words_comes_from_the_setting() -> None:
    from reports.forms import size_words

    assert [size_words(n) for n in (20 * 1024 * 1024, 1536 * 1024, 500 * 1024)] == ["20 MB", "1.5 MB", "500 KB"]
    client = at_documents()
    with override_settings(ATTACHMENT_MAX_BYTES=5 * 1024 * 1024, ATTACHMENT_MAX_FILES=3):
        text = client.get(DOCUMENTS).content.decode()
    assert "smaller than 5 MB" in text and "up to 3 files" in text


@override_settings(ATTACHMENT_MAX_FILES=2)
def test_no_more_files_than_the_limit() -> None:
    client = at_documents()
    for index in range(2):
        assert add(client, a_file(f"note-{index}.txt"))["Location"] == f"{DOCUMENTS}?done=added"
    page = client.get(DOCUMENTS).content.decode()
    assert 'data-testid="no-room"' in page and 'type="file"' not in page
    text = refusal_shown(client, add(client, a_file("third.txt")))
    assert "You can only add up to 2 files. Remove a file before you add another" in text
    assert Attachment.objects.count() == 2


def test_a_second_file_in_one_request_is_not_kept() -> None:
    client = at_documents()
    response = client.post(DOCUMENTS, {"action": "add", "file": a_file("one.txt"), "other": a_file("two.txt")})
    assert response.status_code == 302
    assert (
        Attachment.objects.count() == 1
        and AttachmentChunk.objects.filter(attachment__draft_id__isnull=True).count() == 0
    )


def test_a_file_sent_without_answers_in_progress_is_not_kept() -> None:
    response = Client().post(DOCUMENTS, {"action": "add", "file": a_file()})
    assert response.status_code == 302
    assert nothing_stored()


def test_another_drafts_file_cannot_be_removed() -> None:
    mine, theirs = at_documents(), at_documents()
    add(theirs, a_file("theirs.txt"))
    their_file = Attachment.objects.get()
    assert mine.post(REMOVE, {"file": str(their_file.public_id)})["Location"] == DOCUMENTS
    assert mine.post(REMOVE, {"file": "not-a-uuid"})["Location"] == DOCUMENTS
    assert Attachment.objects.filter(pk=their_file.pk).exists()


# --- the draft's files live as long as the draft --------------------------------------------------------------


def test_a_drafts_files_expire_with_it_and_the_purge_sweeps_them() -> None:
    client = at_documents()
    add(client, a_file())
    draft_id, _ = draft_of(client)
    # Each page saved moves the draft's expiry, and its files' with it.
    with time_machine.travel(timezone.now() + timedelta(minutes=20)):
        assert client.get(DOCUMENTS).status_code == 200
        assert client.post("/report/organisation", {"organisation_name": ""}).status_code == 302
        draft = Draft.objects.get(pk=draft_id)
        assert Attachment.objects.get().expires_at == draft.expires_at > timezone.now() + timedelta(minutes=29)
    with time_machine.travel(draft.expires_at + timedelta(seconds=1)):
        assert drafts_purge() == 2  # the draft and its file
    assert nothing_stored()


def test_starting_again_or_exiting_drops_the_files_at_once() -> None:
    client = at_documents()
    add(client, a_file())
    response = client.post("/report/in-progress", {"next": "restart"})
    assert response.status_code == 302
    assert nothing_stored()
    client = at_documents()
    add(client, a_file())
    assert client.post("/exit").status_code == 204
    assert nothing_stored()


# --- the follow-up page --------------------------------------------------------------------------------------


def test_the_reporter_adds_files_later_with_a_message_or_without() -> None:
    submitted = submit_report()
    client = reporter_opened(submitted)
    page = client.get(FOLLOW_UP).content.decode()
    assert "You have not sent any files." in page and 'action="/check/concern/files"' in page
    with_message = client.post(FILES, {"file": a_file("rota.pdf", PDF), "body": "This is the rota they changed."})
    assert with_message["Location"] == f"{FOLLOW_UP}?file=sent#files"
    assert client.post(FILES, {"file": a_file("notes.txt"), "body": ""}).status_code == 302
    report = submitted.report
    first, second = Attachment.objects.filter(report=report).order_by("pk")
    message = Message.objects.get(report=report)
    assert (first.message_id, second.message_id) == (message.pk, None)
    assert message.kind == Message.Kind.MORE_INFORMATION
    # The case hears of the first through its message, of the second (no message) on its own.
    assert set(
        OutboxMessage.objects.exclude(kind__in=[ROUTE_REPORT, SIGN_RECEIPT]).values_list("kind", "target_id")
    ) == {
        (PROCESS_ATTACHMENT, first.pk),
        (PROCESS_ATTACHMENT, second.pk),
        (REPORTER_REPLIED, message.pk),
        (REPORTER_ADDED_FILE, second.pk),
    }
    page = client.get(f"{FOLLOW_UP}?file=sent").content.decode()
    assert "Your file has been sent to the helpline." in page
    assert page.count('data-testid="file-status">Being checked</strong>') == 2
    assert "This is the rota they changed." in page
    # The message names the file it came with; the upload's hint counts what is left.
    sent_with = (
        '<p class="govuk-body-s" data-testid="message-file">File sent with it: <a class="govuk-link" href="#files">'
    )
    assert f"{sent_with}rota.pdf</a></p>" in page
    assert page.count('data-testid="message-file"') == 1
    assert "You can send 8 more files, one at a time." in page


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("pending", "Being checked"),
        ("clean", "Received"),
        ("blocked", "Could not be accepted"),
        ("not_cleaned", "Received, with hidden details"),
        ("removed", "Removed"),
    ],
)
def test_the_reporter_sees_each_files_status_in_words(status: str, words: str) -> None:
    submitted = submit_report()
    client = reporter_opened(submitted)
    client.post(FILES, {"file": a_file("rota.pdf", PDF), "body": ""})
    Attachment.objects.update(status=status)
    page = client.get(FOLLOW_UP).content.decode()
    assert f'data-testid="file-status">{words}</strong>' in page
    assert "rota.pdf" in page


def test_a_refused_file_on_the_follow_up_page_is_a_govuk_error_and_keeps_the_message() -> None:
    client = reporter_opened(submit_report())
    response = client.post(FILES, {"file": a_file("payslip.pdf", EXE), "body": "The payslip."})
    text = refusal_shown(client, response, FOLLOW_UP)
    assert '<a href="#id_upload_file">The selected file is not a PDF: its contents do not match its name</a>' in text
    assert "The payslip.</textarea>" in text
    assert nothing_stored() and not Message.objects.exists()
    text = refusal_shown(client, client.post(FILES, {"body": "No file"}), FOLLOW_UP)
    assert '<a href="#id_upload_file">Select a file</a>' in text


@override_settings(ATTACHMENT_MAX_FILES=1)
def test_a_report_takes_no_more_files_than_the_limit() -> None:
    client = reporter_opened(submit_report())
    assert client.post(FILES, {"file": a_file(), "body": ""}).status_code == 302
    page = client.get(FOLLOW_UP).content.decode()
    assert 'data-testid="no-room"' in page
    text = refusal_shown(client, client.post(FILES, {"file": a_file("more.txt"), "body": ""}), FOLLOW_UP)
    assert "You have already sent 1 files, the most a report can have." in text
    assert Attachment.objects.count() == 1


@override_settings(ATTACHMENT_MAX_FILES=1)
def test_files_the_helpline_sent_do_not_take_the_reporters_places() -> None:
    submitted = submit_report()
    _, data_key = services.report_unlock(
        reference=submitted.report.reference, access_code=submitted.access_code, client="t"
    )
    helpline_file(submitted.report, data_key)
    client = reporter_opened(submitted)
    assert 'data-testid="no-room"' not in client.get(FOLLOW_UP).content.decode()
    assert client.post(FILES, {"file": a_file(), "body": ""}).status_code == 302
    assert Attachment.objects.filter(source=Attachment.Source.REPORTER).count() == 1
    response = api_upload(Client(), submitted.report.reference, submitted.access_code, a_file("more.txt"))
    assert response.status_code == 400, "the reporter's own file filled their one place"


def test_nothing_is_added_to_a_closed_concern(monkeypatch: pytest.MonkeyPatch) -> None:
    client = reporter_opened(submit_report())
    monkeypatch.setattr(
        "reports.views.reporter_status", lambda report: type("S", (), {"code": "closed", "question_waiting": False})()
    )
    assert client.post(FILES, {"file": a_file(), "body": ""}).status_code == 409
    assert nothing_stored()


def helpline_file(report: Report, data_key: bytes, *, status: str = "clean", name: str = "form.pdf") -> Attachment:
    """A file the helpline sent the reporter with a message (as the staff side will), already processed."""
    from core import crypto

    message = Message.objects.create(
        report=report,
        direction=Message.Direction.FROM_HELPLINE,
        body=crypto.seal_text(data_key, "Please fill in this form."),
        sent_on=timezone.localdate(),
        author=staff_user("handler-files"),
    )
    incoming = attachments.Incoming(name=name)
    incoming.write(PDF)
    kept = attachments.incoming_keep(
        incoming,
        content_type="application/pdf",
        key=data_key,
        report_id=report.pk,
        source=Attachment.Source.HELPLINE,
        message_id=message.pk,
    )
    Attachment.objects.filter(pk=kept.pk).update(status=status)
    kept.refresh_from_db()
    return kept


def test_the_reporter_downloads_a_clean_file_the_helpline_sent_and_nothing_else() -> None:
    submitted = submit_report()
    report = submitted.report
    _, data_key = services.report_unlock(reference=report.reference, access_code=submitted.access_code, client="t")
    clean = helpline_file(report, data_key, name='form "A".pdf')
    pending = helpline_file(report, data_key, status="pending", name="draft.pdf")
    client = reporter_opened(submitted)
    page = client.get(FOLLOW_UP).content.decode()
    assert f'href="/check/concern/files/{clean.public_id}" download>Download form &quot;A&quot;.pdf</a>' in page
    assert "draft.pdf" not in page

    response = client.get(f"{FILES}/{clean.public_id}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="form \\"A\\".pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in [part.strip() for part in response["Content-Security-Policy"].split(";")]
    assert response["Cache-Control"] == "no-store"
    assert response["Content-Length"] == str(len(PDF))

    # Not clean, the reporter's own, another report's, or nobody's: not found.
    client.post(FILES, {"file": a_file(), "body": ""})
    own = Attachment.objects.get(source=Attachment.Source.REPORTER)
    other = submit_report()
    _, other_key = services.report_unlock(reference=other.report.reference, access_code=other.access_code, client="t")
    theirs = helpline_file(other.report, other_key)
    for file_id in (pending.public_id, own.public_id, theirs.public_id, uuid.uuid4()):
        assert client.get(f"{FILES}/{file_id}").status_code == 404
    # Without the concern unlocked in this browser: back to the reference and access code.
    assert Client().get(f"{FILES}/{clean.public_id}")["Location"] == "/check"


# --- the API ------------------------------------------------------------------------------------------------


def api_upload(client: Client, reference: str, access_code: str, upload: SimpleUploadedFile, **extra: Any) -> Any:
    return client.post(API, {"reference": reference, "access_code": access_code, "file": upload, **extra})


def test_the_api_adds_a_file_and_access_lists_it() -> None:
    submitted = submit_report()
    client = Client()
    response = api_upload(client, submitted.report.reference, submitted.access_code, a_file("rota.pdf", PDF))
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    assert response.json() == {"id": str(attachment.public_id), "name": "rota.pdf", "status": "pending"}
    assert attachment.report_id == submitted.report.pk and attachment.expires_at is None
    assert OutboxMessage.objects.filter(kind=PROCESS_ATTACHMENT, target_id=attachment.pk).exists()
    opened = client.post(
        ACCESS_API,
        {"reference": submitted.report.reference, "access_code": submitted.access_code},
        content_type="application/json",
    )
    assert opened.json()["attachments"] == [{"id": str(attachment.public_id), "name": "rota.pdf", "status": "pending"}]


def test_a_wrong_code_is_the_access_apis_404_and_is_throttled_the_same_way(settings: Any) -> None:
    submitted = submit_report()
    client = Client()
    reference = submitted.report.reference
    wrong = "wrong words that open nothing at all here"
    access_404 = client.post(
        ACCESS_API, {"reference": reference, "access_code": wrong}, content_type="application/json"
    )
    upload_404 = api_upload(client, reference, wrong, a_file())
    assert (upload_404.status_code, upload_404.json()) == (404, access_404.json())
    assert nothing_stored()
    for _ in range(settings.ACCESS_THROTTLE_LIMIT - 2):
        assert api_upload(client, reference, wrong, a_file()).status_code == 404
    throttled = api_upload(client, reference, submitted.access_code, a_file())
    assert throttled.status_code == 429 and throttled["Retry-After"]
    assert nothing_stored()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("payslip.pdf", EXE, "The selected file is not a PDF: its contents do not match its name."),
        ("setup.exe", EXE, "The selected file must be a PDF, JPG, PNG, HEIC, DOCX, XLSX, PPTX, ODT, TXT or MP3."),
        ("empty.txt", b"", "The selected file is empty."),
    ],
    ids=["exe-named-pdf", "exe", "empty"],
)
def test_the_api_refuses_a_file_with_a_field_error(name: str, data: bytes, message: str) -> None:
    submitted = submit_report()
    response = api_upload(Client(), submitted.report.reference, submitted.access_code, a_file(name, data))
    assert (response.status_code, response.json()) == (400, {"file": [message]})
    assert nothing_stored()


def test_the_api_refuses_a_request_without_a_file_or_code() -> None:
    response = Client().post(API, {"reference": "HX7K-29QM", "file": a_file()})
    assert response.status_code == 400 and set(response.json()) == {"access_code"}
    response = Client().post(API, {"reference": "HX7K-29QM", "access_code": "a b c d e f g"})
    assert (response.status_code, response.json()) == (400, {"file": ["Select a file."]})
    assert Client().post(API, {"reference": "x"}, content_type="application/json").status_code == 415
    assert nothing_stored()


@override_settings(ATTACHMENT_MAX_BYTES=CHUNK)
def test_the_api_refuses_a_file_over_the_size_limit() -> None:
    submitted = submit_report()
    response = api_upload(
        Client(), submitted.report.reference, submitted.access_code, a_file("big.txt", b"a" * (CHUNK + 1))
    )
    assert (response.status_code, response.json()) == (400, {"file": ["The selected file must be smaller than 64 KB."]})
    assert nothing_stored()


@override_settings(ATTACHMENT_MAX_FILES=2)
def test_the_api_refuses_more_files_than_a_report_may_have() -> None:
    submitted = submit_report()
    client = Client()
    for index in range(2):
        assert (
            api_upload(client, submitted.report.reference, submitted.access_code, a_file(f"{index}.txt")).status_code
            == 201
        )
    response = api_upload(client, submitted.report.reference, submitted.access_code, a_file("third.txt"))
    assert response.status_code == 400
    assert response.json() == {
        "file": [
            "You have already sent 2 files, the most a report can have. Call the helpline if you need to send more."
        ]
    }
    assert (
        Attachment.objects.count() == 2 and AttachmentChunk.objects.filter(attachment__report__isnull=True).count() == 0
    )


def test_the_api_keeps_one_file_per_request() -> None:
    submitted = submit_report()
    response = api_upload(
        Client(), submitted.report.reference, submitted.access_code, a_file("one.txt"), other=a_file("two.txt")
    )
    assert response.status_code == 201
    assert Attachment.objects.count() == 1 and Attachment.objects.get().report_id == submitted.report.pk


# --- bodies that cannot be read ------------------------------------------------------------------------------

BROKEN_BODIES = {
    "no boundary": ("multipart/form-data", b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nab\r\n--x--'),
    "garbage": ("multipart/form-data; boundary=x", bytes(range(256)) * 4),
    "cut short in a file": (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\n' + b"a" * 70_000,
    ),
    "no blank line after the part's head": (
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"' + b"b" * 1000 + b"\r\n--x--\r\n",
    ),
    "a boundary that never comes": ("multipart/form-data; boundary=never", b"--x\r\n\r\nabc\r\n--x--\r\n"),
}


@pytest.mark.parametrize("name", list(BROKEN_BODIES))
@pytest.mark.parametrize("path", [API, DOCUMENTS, FILES])
def test_a_body_that_cannot_be_read_is_never_a_500_and_leaves_no_file_without_an_owner(path: str, name: str) -> None:
    """The API refuses it (400, 415). A page reads what Django's parser makes of it: a 400 page, or nothing
    chosen (Continue), or, for a body whose last part is not closed, the file as sent."""
    client = at_documents() if path == DOCUMENTS else reporter_opened(submit_report()) if path == FILES else Client()
    content_type, body = BROKEN_BODIES[name]
    response = client.generic("POST", path, body, content_type=content_type)
    if response.status_code == 302:
        response = client.get(response["Location"])
    if path == API:
        assert response.status_code in {400, 415}, (response.status_code, response.content[:300])
    else:
        assert response.status_code in {200, 400}, (response.status_code, response.content[:300])
    # A file nobody kept has no key anywhere and expires; a kept one belongs to the draft or the report.
    assert not Attachment.objects.filter(key_wrap=b"", expires_at__isnull=True).exists()
    assert not Attachment.objects.filter(report__isnull=True, draft_id__isnull=True, expires_at__isnull=True).exists()

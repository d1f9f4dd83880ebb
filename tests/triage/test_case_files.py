"""A case's files on the helpline's case page: listed with their sealed names opened, streamed decrypted with
headers that keep a browser from running them, each download an audit event that supervisors see; never a
file that is being checked, was blocked or removed; an inline preview only for a cleaned image."""

from __future__ import annotations

import html
import os
from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from audit.models import AuditEvent
from core.secretstream import CHUNK
from reports import attachments
from reports.filetypes import DOCX
from reports.models import Attachment, AttachmentChunk
from tests.factories import attachment_make, routed_case, signed_in, staff_with_mfa
from tests.triage.page_text import section, text
from triage.case_content import case_data_key
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
DOWNLOADED = "attachment_downloaded"


@pytest.fixture
def supervisor() -> User:
    return staff_with_mfa("files-supervisor", role=User.Role.SUPERVISOR)[0]


def page(case: Case) -> str:
    return f"/staff/cases/{case.case_number}"


def file_url(case: Case, attachment: Attachment, *, preview: bool = False) -> str:
    return f"/staff/cases/{case.case_number}/files/{attachment.public_id}" + ("/preview" if preview else "")


def rows(body: str) -> dict[str, str]:
    """Each file's row of the case page's table, by the file's name."""
    table = section(body, 'data-testid="case-files"', "</table>")
    found = {}
    for row in table.split('data-testid="case-file"')[1:]:
        name = row.split('data-testid="file-name">', 1)[1].split("<", 1)[0]
        found[name] = row.split("</tr>", 1)[0]
    return found


def downloads() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(kind=DOWNLOADED).order_by("id"))


def streamed(response: Any) -> bytes:
    return b"".join(response.streaming_content)


# --- the list -----------------------------------------------------------------------------------------------


def test_the_case_page_lists_each_file_with_its_name_type_size_status_and_whether_it_was_cleaned(
    handler_client: Client,
) -> None:
    case = routed_case()
    attachment_make(case, b"x" * 1536, name="rota.txt")
    attachment_make(case, PNG, name="photo.png", content_type="image/png", status="pending")
    blocked = attachment_make(case, b"%PDF-1.4", name="invoice.pdf", content_type="application/pdf", status="blocked")
    attachment_make(case, b"PK\x03\x04", name="notes.docx", content_type=DOCX.content_type, status="not_cleaned")
    attachment_make(case, name="old.txt", status="removed")
    body = text(handler_client.get(page(case)))
    listed = rows(body)
    assert list(listed) == ["rota.txt", "photo.png", "invoice.pdf", "notes.docx", "old.txt"]
    clean = listed["rota.txt"]
    # Whether it was cleaned is its status: "Checked and cleaned", "Being checked", "Could not be cleaned".
    assert "Text file, 1.5\xa0KB" in clean and 'data-testid="file-status">Checked and cleaned<' in clean
    assert 'data-testid="file-download"' in clean
    pending = listed["photo.png"]
    assert "PNG image" in pending and 'data-testid="file-status">Being checked<' in pending
    assert 'data-testid="file-download"' not in pending and 'data-testid="file-preview"' not in pending
    assert "Blocked by the malware scan (Eicar-Test-Signature)" in listed["invoice.pdf"]
    assert 'data-testid="file-download"' not in listed["invoice.pdf"]
    assert blocked.scan_signature == "Eicar-Test-Signature"
    not_cleaned = listed["notes.docx"]
    assert "Word document" in not_cleaned
    assert 'data-testid="file-status">Could not be cleaned: may contain identifying metadata<' in not_cleaned
    assert "Could not be cleaned: it may contain identifying metadata" in not_cleaned
    assert 'data-testid="file-download"' in not_cleaned, "the helpline may open it, with the warning"
    assert "Removed" in listed["old.txt"] and 'data-testid="file-download"' not in listed["old.txt"]


def test_a_case_without_files_says_so(handler_client: Client) -> None:
    assert "No files." in section(text(handler_client.get(page(routed_case()))), 'id="files"', 'id="facts"')


def test_the_names_are_opened_under_the_pages_own_audit_event(handler: User, handler_client: Client) -> None:
    case = routed_case()
    attachment_make(case, name="rota.txt")
    handler_client.get(page(case))
    assert AuditEvent.objects.filter(kind="content_viewed", actor=handler, detail={"view": "case"}).count() == 1
    assert not downloads()


# --- downloads ----------------------------------------------------------------------------------------------


def test_a_download_streams_the_plaintext_with_safe_headers_and_is_an_audit_event(
    handler: User, handler_client: Client
) -> None:
    case = routed_case()
    data = os.urandom(3 * CHUNK + 17)
    file = attachment_make(case, data, name='Minutes "March"\u202etxt.exe.txt')
    response = handler_client.get(file_url(case, file))
    assert response.status_code == 200
    assert response.streaming
    assert streamed(response) == data
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Length"] == str(len(data))
    # No quotes, no direction-changing character that would disguise the extension; always a download.
    assert response["Content-Disposition"] == 'attachment; filename="Minutes Marchtxt.exe.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "default-src 'none'" in response["Content-Security-Policy"]
    assert response["Cache-Control"] == "no-store"
    [event] = downloads()
    assert event.actor == handler
    assert event.detail == {"attachment_id": file.pk, "inline": False}
    assert event.subject_id == case.pk


def test_the_download_is_the_cleaned_file_once_the_workers_have_replaced_the_original(handler_client: Client) -> None:
    case = routed_case()
    file = attachment_make(case, b"original with metadata", name="report.txt")
    key = case_data_key(case)
    resealer = attachments.Resealer(file)
    resealer.write(b"cleaned")
    meta = attachments.attachment_meta(file, key)
    resealer.replace(key, attachments.FileMeta(**{**meta.__dict__, "cleaned_size": len(b"cleaned")}))
    response = handler_client.get(file_url(case, file))
    assert streamed(response) == b"cleaned"
    assert response["Content-Length"] == "7"


def test_a_name_without_the_types_extension_gets_it(handler_client: Client) -> None:
    case = routed_case()
    file = attachment_make(case, b"%PDF-1.4", name="statement", content_type="application/pdf")
    response = handler_client.get(file_url(case, file))
    assert response["Content-Disposition"] == 'attachment; filename="statement.pdf"'
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize(
    ("status", "answer", "reason"),
    [
        ("pending", 404, "This file is still being checked"),
        ("blocked", 410, "This file was blocked by the malware scan"),
        ("removed", 410, "This file has been removed"),
    ],
)
@pytest.mark.parametrize("preview", [False, True])
def test_a_file_being_checked_blocked_or_removed_is_never_served(
    handler_client: Client, status: str, answer: int, reason: str, preview: bool
) -> None:
    case = routed_case()
    file = attachment_make(case, PNG, name="photo.png", content_type="image/png", status=status)
    response = handler_client.get(file_url(case, file, preview=preview))
    assert response.status_code == answer
    assert not response.streaming
    body = html.unescape(response.content.decode())
    assert "This file cannot be opened" in body and reason in body
    assert "photo.png" not in body and "govuk-template" in body
    assert not downloads()


def test_a_file_of_another_case_or_an_unknown_file_is_not_found(handler_client: Client) -> None:
    case, other = routed_case(), routed_case()
    theirs = attachment_make(other, name="theirs.txt")
    assert handler_client.get(file_url(case, theirs)).status_code == 404
    unknown = f"/staff/cases/{case.case_number}/files/00000000-0000-4000-8000-000000000000"
    assert handler_client.get(unknown).status_code == 404
    assert not downloads()


def test_a_file_whose_content_is_gone_from_the_store_is_not_streamed_as_if_whole(handler_client: Client) -> None:
    """The chunks are checked as they are opened: a damaged store ends the stream with an error."""
    case = routed_case()
    file = attachment_make(case, os.urandom(2 * CHUNK))
    AttachmentChunk.objects.filter(attachment=file, index=1).delete()
    response = handler_client.get(file_url(case, file))
    with pytest.raises(Exception, match="missing"):
        streamed(response)


# --- previews -----------------------------------------------------------------------------------------------


def test_a_cleaned_image_is_previewed_inline_with_the_same_headers(handler: User, handler_client: Client) -> None:
    case = routed_case()
    image = attachment_make(case, PNG, name="rota.png", content_type="image/png")
    body = text(handler_client.get(page(case)))
    assert 'data-testid="file-preview"' in rows(body)["rota.png"]
    response = handler_client.get(file_url(case, image, preview=True))
    assert response.status_code == 200
    assert streamed(response) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == 'inline; filename="rota.png"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert "img-src 'self'" in response["Content-Security-Policy"]
    [event] = downloads()
    assert (event.actor, event.detail) == (handler, {"attachment_id": image.pk, "inline": True})


def test_the_preview_link_leads_to_a_page_in_the_workspace_that_shows_the_image_and_the_way_back(
    handler_client: Client,
) -> None:
    case = routed_case()
    image = attachment_make(case, PNG, name="rota.png", content_type="image/png")
    view = f"/staff/cases/{case.case_number}/files/{image.public_id}/view"
    assert f'href="{view}" data-testid="file-preview"' in rows(text(handler_client.get(page(case))))["rota.png"]
    body = text(handler_client.get(view))
    assert "<h1" in body and "rota.png</h1>" in body
    assert f'<img src="{file_url(case, image, preview=True)}" alt="rota.png">' in body
    assert f'href="{file_url(case, image)}" data-testid="file-download">Download rota.png</a>' in body
    assert f'href="{page(case)}#files" class="govuk-back-link">Back to the case</a>' in body
    # The page names the file; the image it shows is what is recorded, when the browser loads it.
    assert not downloads()


def test_only_a_cleaned_jpeg_or_png_gets_a_preview(handler_client: Client) -> None:
    case = routed_case()
    text_file = attachment_make(case, name="rota.txt")
    raw = attachment_make(case, PNG, name="raw.png", content_type="image/png", status="not_cleaned")
    body = text(handler_client.get(page(case)))
    assert 'data-testid="file-preview"' not in rows(body)["rota.txt"]
    assert 'data-testid="file-preview"' not in rows(body)["raw.png"]
    for file in (text_file, raw):
        for address in (file_url(case, file, preview=True), f"{file_url(case, file)}/view"):
            response = handler_client.get(address)
            assert response.status_code == 404
            assert "Only a cleaned JPEG or PNG image can be previewed" in html.unescape(response.content.decode())
    assert not downloads()


# --- who downloaded what ------------------------------------------------------------------------------------


def test_supervisors_see_who_downloaded_which_file_and_the_timeline_does_not_list_downloads(
    handler: User, handler_client: Client, supervisor: User
) -> None:
    case = routed_case()
    rota = attachment_make(case, name="rota.txt")
    image = attachment_make(case, PNG, name="rota.png", content_type="image/png")
    handler_client.get(file_url(case, rota))
    handler_client.get(file_url(case, image, preview=True))
    body = text(signed_in(supervisor).get(page(case)))
    table = section(body, 'data-testid="file-downloads"', "</table>")
    assert "handler" in table
    assert "Downloaded: rota.txt" in table and "Previewed: rota.png" in table
    timeline = section(body, 'id="timeline"', 'id="access-history"')
    assert "A file was downloaded" not in timeline
    own = text(handler_client.get(page(case)))
    assert 'data-testid="file-downloads"' not in own, "only supervisors see who opened what"

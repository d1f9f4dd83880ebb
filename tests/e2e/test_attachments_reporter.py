"""A reporter's files in a real browser (issue 25): the documents question page, check your answers and the
follow-up page, with axe on every page (and the Nu HTML Checker on every page loaded), and the whole journey
with a file with JavaScript off."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core import crypto
from reports import attachments, services
from reports.models import Attachment, Message, Report
from tests.e2e.pages import Visit
from tests.e2e.reporter import screenshot_at_both_widths
from tests.factories import staff_user

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode." * 4


def to_the_documents_page(visit: Visit, *, axe: bool = True) -> None:
    """An anonymous report, answered as briefly as the pages allow, up to "Do you have documents...?"."""
    page = visit.page
    visit.goto("/", axe=axe)
    visit.submit("Start now", axe=axe)
    for label in ("Anonymous", "Education", "Records were altered or suppressed"):
        page.get_by_label(label, exact=True).check()
        visit.submit(axe=axe)
    page.get_by_label("Or choose the council").select_option("unknown")
    visit.submit(axe=axe)
    page.get_by_label("No", exact=True).check()
    visit.submit(axe=axe)
    visit.submit(axe=axe)  # the organisation is optional
    page.get_by_label("Summarise your concern in a sentence").fill("The rota was changed after a complaint")
    page.get_by_label("What happened?").fill("The night rota was rewritten to hide who was on shift.")
    visit.submit(axe=axe)
    page.get_by_label("No", exact=True).check()  # raised internally
    visit.submit(axe=axe)
    visit.submit(axe=axe)  # "Has anyone reported this" is optional
    page.get_by_label("No", exact=True).check()  # immediate risk
    visit.submit(axe=axe)
    assert visit.path() == "/report/documents"


def files(tmp_path: Path) -> dict[str, Path]:
    made = {
        "minutes.txt": b"Minutes of the meeting of 3 March.\n",
        "rota.pdf": PDF,
        "payslip.pdf": EXE,
    }
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in made}


def test_a_reporter_adds_lists_and_removes_files_then_adds_more_later(
    visit: Visit, fast_kdf: None, tmp_path: Path
) -> None:
    page = visit.page
    chosen = files(tmp_path)
    to_the_documents_page(visit)
    expect(page.get_by_role("heading", level=1)).to_have_text("Do you have documents, photos or recordings?")
    upload = page.get_by_label("Upload a file")
    expect(upload).to_have_attribute("type", "file")
    assert ".pdf" in (upload.get_attribute("accept") or "")
    screenshot_at_both_widths(page, "documents-empty")

    # Not what its name says: the GOV.UK error pattern, the summary linking to the file upload.
    upload.set_input_files(str(chosen["payslip.pdf"]))
    visit.submit("Add file", status=400)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    message = "The selected file is not a PDF: its contents do not match its name"
    summary.get_by_role("link", name=message).click()
    expect(page.get_by_label("Upload a file")).to_be_focused()
    screenshot_at_both_widths(page, "documents-error")

    for name in ("minutes.txt", "rota.pdf"):
        page.get_by_label("Upload a file").set_input_files(str(chosen[name]))
        visit.submit("Add file")
        expect(page.get_by_test_id("documents-flash")).to_contain_text(f"{name} has been added.")
    expect(page.get_by_test_id("file-name")).to_have_text(["minutes.txt", "rota.pdf"])
    screenshot_at_both_widths(page, "documents-two-files")
    visit.submit("Remove minutes.txt")
    expect(page.get_by_test_id("file-name")).to_have_text(["rota.pdf"])
    visit.submit("Continue")

    assert visit.path() == "/report/check-your-answers"
    expect(page.get_by_test_id("check-files").get_by_test_id("file-name")).to_have_text(["rota.pdf"])
    screenshot_at_both_widths(page, "check-your-answers-with-a-file")
    visit.submit("Send report")
    reference = page.get_by_test_id("reference").inner_text().strip()
    access_code = page.get_by_test_id("access-code").inner_text().strip()
    report = Report.objects.get(reference=reference)
    assert list(Attachment.objects.filter(report=report).values_list("status", flat=True)) == ["pending"]

    # Later, on the follow-up page: another file with a message, then a file the helpline sent.
    _, data_key = services.report_unlock(reference=reference, access_code=access_code, client="e2e")
    helpline = Message.objects.create(
        report=report,
        direction=Message.Direction.FROM_HELPLINE,
        body=crypto.seal_text(data_key, "Please fill in this form."),
        sent_on=timezone.localdate(),
        author=staff_user("handler-e2e"),
    )
    incoming = attachments.Incoming(name="form.pdf")
    incoming.write(PDF)
    sent = attachments.incoming_keep(
        incoming,
        content_type="application/pdf",
        key=data_key,
        report_id=report.pk,
        source="helpline",
        message_id=helpline.pk,
    )
    Attachment.objects.filter(pk=sent.pk).update(status=Attachment.Status.CLEAN)

    visit.goto("/check")
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Access code").fill(access_code)
    visit.submit("Continue")
    expect(page.get_by_test_id("your-files").get_by_test_id("file-status")).to_have_text(["Being checked"])
    visit.submit("Send file", status=400)
    expect(page.locator(".govuk-error-summary").get_by_role("link", name="Select a file")).to_be_visible()
    page.get_by_label("Upload a file").set_input_files(str(chosen["minutes.txt"]))
    page.get_by_label("Tell the helpline about this file (optional)").fill("The minutes they did not send round.")
    visit.submit("Send file")
    expect(page.get_by_test_id("file-sent")).to_contain_text("Your file has been sent to the helpline.")
    expect(page.get_by_test_id("your-files").get_by_test_id("file-name")).to_have_text(["rota.pdf", "minutes.txt"])
    screenshot_at_both_widths(page, "follow-up-files")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download form.pdf").click()
    assert download.value.suggested_filename == "form.pdf"
    assert Path(download.value.path()).read_bytes() == PDF


def test_the_journey_with_a_file_works_with_javascript_off(  # type: ignore[no-untyped-def]
    new_context, live_server, fast_kdf: None, tmp_path: Path
) -> None:
    visit = Visit(new_context(java_script_enabled=False).new_page(), base_url=live_server.url, javascript=False)
    page = visit.page
    chosen = files(tmp_path)
    to_the_documents_page(visit, axe=False)
    page.get_by_label("Upload a file").set_input_files(str(chosen["minutes.txt"]))
    visit.submit("Add file", axe=False)
    expect(page.get_by_test_id("file-name")).to_have_text(["minutes.txt"])
    # A file chosen and Continue pressed straight away is added too.
    page.get_by_label("Upload a file").set_input_files(str(chosen["rota.pdf"]))
    visit.submit("Continue", axe=False)
    assert visit.path() == "/report/check-your-answers"
    expect(page.get_by_test_id("check-files").get_by_test_id("file-name")).to_have_text(["minutes.txt", "rota.pdf"])
    visit.submit("Remove minutes.txt", axe=False)
    assert visit.path() == "/report/check-your-answers"
    expect(page.get_by_test_id("check-files").get_by_test_id("file-name")).to_have_text(["rota.pdf"])
    visit.submit("Send report", axe=False)
    expect(page.locator(".govuk-panel__title")).to_have_text("Report sent")
    report = Report.objects.get(reference=page.get_by_test_id("reference").inner_text().strip())
    assert Attachment.objects.filter(report=report).count() == 1
    assert not Attachment.objects.filter(report__isnull=True).exists()

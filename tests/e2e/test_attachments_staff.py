"""Issue 25 in a real browser, the staff side: the case page lists a case's files (and passes axe), a supervisor
downloads one, attaches a file to a message to the reporter through GOV.UK's file upload, refers the case
sharing one cleaned file, and the authority's officer sees and downloads that file and no other."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from directory.lookup import authority_by_code
from reports.filetypes import DOCX
from reports.models import Attachment
from tests.e2e.staff import main, signed_in_tab
from tests.factories import attachment_make, referral_of, staff_with_mfa, submit_report
from triage.intake import report_route

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
ROTHERHAM = "E08000018"
ROTA = b"Rota for the week of 3 March: nights covered by agency staff only.\n"
FORM = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_the_helpline_lists_downloads_sends_and_shares_files_and_the_officer_gets_only_what_was_shared(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None, tmp_path: Path
) -> None:
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    supervisor, _ = staff_with_mfa("helpline", role=User.Role.SUPERVISOR)
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([rotherham])
    case = report_route(report_id=submit_report(local_authority=rotherham).report.pk)
    rota = attachment_make(case, ROTA, name="rota.txt")
    attachment_make(case, b"Diary\n", name="diary.txt")
    attachment_make(case, name="being-checked.txt", status="pending")
    attachment_make(case, name="virus.txt", status="blocked")
    attachment_make(case, b"PK\x03\x04", name="notes.docx", content_type=DOCX.content_type, status="not_cleaned")

    visit = signed_in_tab(new_context, live_server, supervisor)
    page = visit.page
    visit.goto(f"/staff/cases/{case.case_number}")
    files = main(page).get_by_test_id("case-files")
    expect(files).to_contain_text("rota.txt")
    expect(files).to_contain_text("Blocked by the malware scan (Eicar-Test-Signature)")
    expect(files).to_contain_text("Could not be cleaned: it may contain identifying metadata")

    # A download, streamed decrypted.
    with page.expect_download() as downloading:
        files.get_by_role("link", name="Download rota.txt").click()
    download = downloading.value
    assert download.suggested_filename == "rota.txt"
    assert Path(download.path()).read_bytes() == ROTA

    # A message to the reporter with a file, through GOV.UK's file upload.
    form_file = tmp_path / "consent-form.pdf"
    form_file.write_bytes(FORM)

    def message(details: Locator) -> None:
        details.get_by_label("Message to the reporter").fill("Please fill in the form attached.")
        details.get_by_label("Attach a file for the reporter (optional)").set_input_files(str(form_file))

    visit.act("Message the reporter", "ask_reporter", message)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Message sent to the reporter")
    expect(main(page).get_by_test_id("message-file")).to_contain_text("consent-form.pdf")
    sent = Attachment.objects.get(source=Attachment.Source.HELPLINE)
    assert (sent.added_by_id, sent.status) == (supervisor.pk, Attachment.Status.PENDING)

    # Refer, sharing the rota only: the files that cannot be shared are named with the reason.
    def refer(details: Locator) -> None:
        details.get_by_label("Summary for the authority").fill("Nights are covered by agency staff only.")
        expect(details.get_by_test_id("refer-files-not-shareable")).to_contain_text("it is still being checked")
        details.get_by_label("rota.txt", exact=False).check()

    visit.act("Refer to the local authority", "refer", refer)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Case referred to Rotherham")
    referral = referral_of(case)
    assert list(referral.attachments.all()) == [rota]

    officer_visit = signed_in_tab(new_context, live_server, officer)
    officer_page = officer_visit.page
    officer_visit.goto(f"/staff/referrals/{case.case_number}/{referral.pk}")
    shared = main(officer_page).get_by_test_id("referral-files")
    expect(shared).to_contain_text("rota.txt")
    expect(main(officer_page)).not_to_contain_text("diary.txt")
    expect(main(officer_page)).not_to_contain_text("consent-form.pdf")
    with officer_page.expect_download() as downloading:
        shared.get_by_role("link", name="Download rota.txt").click()
    assert Path(downloading.value.path()).read_bytes() == ROTA

    # The supervisor sees who downloaded what.
    visit.goto(f"/staff/cases/{case.case_number}")
    history = main(page).get_by_test_id("file-downloads")
    expect(history).to_contain_text("officer (Rotherham)")
    expect(history).to_contain_text("helpline")

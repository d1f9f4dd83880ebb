"""Every attachment journey in one browser walk (issue 25), each role as its user would go: the reporter adds
files on the question pages (an .exe named .pdf refused, one removed), sends, and later adds a file on /check
with a message and one without; the workers scan and clean them (a real clamd, Debian's mat2); a call handler
opens the case, downloads a file, previews a photo and replies with a file, which the reporter downloads; a
supervisor sees who opened which and deletes a file with a reason; the handler refers the case sharing one
cleaned file; the authority's officer sees and downloads only that one; a safeguarding partnership and
national oversight see no file anywhere, only a count in the statistics.

With SHOTS=1 every step is also a full-page screenshot in /tmp/shots-att (NN-name.png), for reading as a
first-time user of each role.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from directory.lookup import authority_by_code
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from oversight.selectors import stats_refresh
from reports.models import Attachment, Report
from tests.attachment_files import jpeg_with_exif, pdf_with_metadata
from tests.e2e.pages import Visit
from tests.e2e.staff import main, signed_in_tab, timeline_kinds
from tests.factories import partnership_make, referral_of, staff_with_mfa
from triage.models import Case

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("scanner")]

NewContext = Callable[..., BrowserContext]
ROTHERHAM = "E08000018"
SHOTS = Path("/tmp/shots-att")
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"This program cannot be run in DOS mode." * 4
NOTES = b"Notes of the handover on 3 March: the night rota was rewritten afterwards.\n"
FORM = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
SERIAL = "SN-WALK-CANARY-2231"


class Shots:
    """Full-page screenshots, numbered in the order taken, when SHOTS=1."""

    def __init__(self) -> None:
        self.enabled = os.environ.get("SHOTS") == "1"
        self.taken = 0
        if self.enabled:
            shutil.rmtree(SHOTS, ignore_errors=True)
            SHOTS.mkdir(parents=True)

    def __call__(self, page: Page, name: str) -> None:
        self.taken += 1
        if self.enabled:
            page.screenshot(path=str(SHOTS / f"{self.taken:02d}-{name}.png"), full_page=True)


@pytest.fixture
def work_dir(settings) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    folder = Path(tempfile.mkdtemp(prefix="walk-test-", dir="/dev/shm"))
    settings.ATTACHMENT_WORK_DIR = str(folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def work_done() -> None:
    """What the workers do meanwhile: route the report, scan and clean its files, hear the reporter's replies
    and files, send the emails."""
    for _ in range(10):
        waiting = list(OutboxMessage.objects.filter(processed_at__isnull=True).values_list("pk", flat=True))
        if not waiting:
            return
        for outbox_id in waiting:
            outbox_process(outbox_id=outbox_id)
    raise AssertionError("the outbox did not drain")


def to_the_documents_page(visit: Visit) -> None:
    page = visit.page
    visit.goto("/")
    visit.submit("Start now")
    for label in ("Anonymous", "Children's social care", "Records were altered or suppressed"):
        page.get_by_label(label, exact=True).check()
        visit.submit()
    page.get_by_label("Or choose the council").select_option(label="Rotherham")
    visit.submit()
    page.get_by_label("No", exact=True).check()  # not about the council itself
    visit.submit()
    visit.submit()  # the organisation is optional
    page.get_by_label("Summarise your concern in a sentence").fill("The night rota was rewritten after a complaint")
    page.get_by_label("What happened?").fill("After I raised a concern, the rota was changed to hide who was on.")
    visit.submit()
    page.get_by_label("No", exact=True).check()  # raised internally
    visit.submit()
    visit.submit()  # "Has anyone reported this" is optional
    page.get_by_label("No", exact=True).check()  # immediate risk
    visit.submit()
    assert visit.path() == "/report/documents"


def add_file(visit: Visit, path: Path, *, status: int = 200) -> None:
    visit.page.get_by_label("Upload a file").set_input_files(str(path))
    visit.submit("Add file", status=status)


def test_every_attachment_journey_from_the_reporters_upload_to_the_authoritys_download(
    visit: Visit,
    new_context: NewContext,
    live_server: LiveServer,
    authorities: None,
    fast_kdf: None,
    work_dir: Path,
    tmp_path: Path,
) -> None:
    shot = Shots()
    page = visit.page
    made = {
        "payslip.pdf": EXE,
        "photo-of-rota.jpg": jpeg_with_exif(serial=SERIAL, owner="OWNER-WALK-CANARY"),
        "shopping-list.txt": b"Milk, bread.\n",
        "rota-before.pdf": pdf_with_metadata(
            author="AUTHOR-WALK-CANARY", producer="PRODUCER-WALK-CANARY", text="Night rota, week of 3 March"
        ),
        "handover-notes.txt": NOTES,
        "consent-form.pdf": FORM,
    }
    files = {}
    for name, data in made.items():
        (tmp_path / name).write_bytes(data)
        files[name] = tmp_path / name

    # --- the reporter, on the question pages ------------------------------------------------------------------
    to_the_documents_page(visit)
    shot(page, "reporter-documents-empty")
    add_file(visit, files["payslip.pdf"], status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("The selected file is not a PDF")
    shot(page, "reporter-documents-exe-refused")
    add_file(visit, files["photo-of-rota.jpg"])
    add_file(visit, files["shopping-list.txt"])
    expect(page.get_by_test_id("file-name")).to_have_text(["photo-of-rota.jpg", "shopping-list.txt"])
    shot(page, "reporter-documents-two-files")
    visit.submit("Remove shopping-list.txt")
    expect(page.get_by_test_id("file-name")).to_have_text(["photo-of-rota.jpg"])
    shot(page, "reporter-documents-one-removed")
    visit.submit("Continue")
    assert visit.path() == "/report/check-your-answers"
    expect(page.get_by_test_id("check-files").get_by_test_id("file-name")).to_have_text(["photo-of-rota.jpg"])
    shot(page, "reporter-check-your-answers")
    visit.submit("Send report")
    shot(page, "reporter-confirmation")
    reference = page.get_by_test_id("reference").inner_text().strip()
    access_code = page.get_by_test_id("access-code").inner_text().strip()
    report = Report.objects.get(reference=reference)

    # --- the workers: routed, the photo scanned and cleaned ----------------------------------------------------
    work_done()
    case = Case.objects.get(report=report)
    photo = Attachment.objects.get(report=report)
    assert (photo.status, photo.generation) == (Attachment.Status.CLEAN, 1)

    # --- the reporter comes back to /check: a file with a message, then one without -----------------------------
    visit.goto("/check")
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Access code").fill(access_code)
    visit.submit("Continue")
    expect(page.get_by_test_id("your-files").get_by_test_id("file-status")).to_have_text(["Received"])
    shot(page, "reporter-follow-up")
    page.get_by_label("Upload a file").set_input_files(str(files["rota-before.pdf"]))
    page.get_by_label("Tell the helpline about this file (optional)").fill("The rota before they changed it.")
    visit.submit("Send file")
    expect(page.get_by_test_id("file-sent")).to_be_visible()
    shot(page, "reporter-follow-up-file-with-a-message")
    page.get_by_label("Upload a file").set_input_files(str(files["handover-notes.txt"]))
    visit.submit("Send file")
    expect(page.get_by_test_id("your-files").get_by_test_id("file-name")).to_have_text(
        ["photo-of-rota.jpg", "rota-before.pdf", "handover-notes.txt"]
    )
    shot(page, "reporter-follow-up-file-without-a-message")
    work_done()
    assert set(Attachment.objects.filter(report=report).values_list("status", flat=True)) == {"clean"}

    # --- a call handler opens the case ------------------------------------------------------------------------
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    handler, _ = staff_with_mfa("handler", role=User.Role.CALL_HANDLER)
    supervisor, _ = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([rotherham])
    partnership = partnership_make("Rotherham Safeguarding Children Partnership", ROTHERHAM)
    reviewer, _ = staff_with_mfa("partnership", role=User.Role.PARTNERSHIP, partnership=partnership)
    analyst, _ = staff_with_mfa("oversight", role=User.Role.OVERSIGHT_ANALYST)

    handling = signed_in_tab(new_context, live_server, handler)
    staff_page = handling.page
    handling.goto("/staff/")
    shot(staff_page, "handler-home")
    handling.goto(f"/staff/cases/{case.case_number}")
    assert "The reporter added a file" in timeline_kinds(staff_page)
    case_files = main(staff_page).get_by_test_id("case-files")
    expect(case_files.get_by_test_id("file-name")).to_have_text(
        ["photo-of-rota.jpg", "rota-before.pdf", "handover-notes.txt"]
    )
    shot(staff_page, "handler-case-page")
    with staff_page.expect_download() as downloading:
        case_files.get_by_role("link", name="Download handover-notes.txt").click()
    assert Path(downloading.value.path()).read_bytes() == NOTES
    with staff_page.expect_download() as downloading:
        case_files.get_by_role("link", name="Download photo-of-rota.jpg").click()
    assert SERIAL.encode() not in Path(downloading.value.path()).read_bytes(), "the camera's serial is gone"
    handling.press(case_files.get_by_role("link", name="Preview photo-of-rota.jpg"))
    expect(staff_page.get_by_role("heading", level=1)).to_have_text("photo-of-rota.jpg")
    image = main(staff_page).get_by_role("img", name="photo-of-rota.jpg")
    expect(image).to_be_visible()
    assert image.evaluate("(img) => img.complete && img.naturalWidth") > 0, "the cleaned image is shown"
    shot(staff_page, "handler-photo-preview")
    handling.press(main(staff_page).get_by_role("link", name="Back to the case").last)
    assert handling.path() == f"/staff/cases/{case.case_number}"

    def reply(details: Locator) -> None:
        details.get_by_label("Message to the reporter").fill("Thank you. Please fill in the form attached.")
        details.get_by_label("Attach a file for the reporter (optional)").set_input_files(
            str(files["consent-form.pdf"])
        )

    handling.act("Message the reporter", "ask_reporter", reply)
    expect(staff_page.locator(".govuk-notification-banner")).to_contain_text("Message sent to the reporter")
    shot(staff_page, "handler-replied-with-a-file")
    work_done()

    # --- the reporter downloads the helpline's file ---------------------------------------------------------
    visit.goto("/check/concern")
    shot(page, "reporter-follow-up-helpline-file")
    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download consent-form.pdf").click()
    assert downloading.value.suggested_filename == "consent-form.pdf"

    # --- a supervisor: who opened which, and a file deleted with a reason --------------------------------------
    supervising = signed_in_tab(new_context, live_server, supervisor)
    supervisor_page = supervising.page
    supervising.goto(f"/staff/cases/{case.case_number}")
    history = main(supervisor_page).get_by_test_id("file-downloads")
    expect(history).to_contain_text("handover-notes.txt")
    expect(history).to_contain_text("photo-of-rota.jpg")
    shot(supervisor_page, "supervisor-case-page")

    def delete(details: Locator) -> None:
        choice = details.locator("option", has_text="handover-notes.txt").get_attribute("value")
        details.get_by_label("Which file").select_option(value=choice)
        details.get_by_label("Why is the file being deleted?").fill("It names a colleague who is not involved.")

    supervising.act("Delete a file", "delete_attachment", delete)
    expect(supervisor_page.locator(".govuk-notification-banner")).to_be_visible()
    shot(supervisor_page, "supervisor-file-deleted")
    notes = Attachment.objects.get(report=report, status=Attachment.Status.REMOVED)

    # --- the handler refers the case, sharing the photo only ------------------------------------------------------
    handling.goto(f"/staff/cases/{case.case_number}")

    def refer(details: Locator) -> None:
        details.get_by_label("Summary for the authority").fill("The night rota was rewritten after a complaint.")
        details.get_by_label("photo-of-rota.jpg", exact=False).check()
        shot(staff_page, "handler-refer-form")

    handling.act("Refer to the local authority", "refer", refer)
    expect(staff_page.locator(".govuk-notification-banner")).to_contain_text("Case referred to Rotherham")
    shot(staff_page, "handler-referred")
    referral = referral_of(case)
    assert list(referral.attachments.all()) == [photo]

    # --- the authority's officer: that one file, and no other ----------------------------------------------------
    officering = signed_in_tab(new_context, live_server, officer)
    officer_page = officering.page
    officering.goto("/staff/referrals")
    shot(officer_page, "officer-referrals")
    officering.goto(f"/staff/referrals/{case.case_number}/{referral.pk}")
    shared = main(officer_page).get_by_test_id("referral-files")
    expect(shared.get_by_test_id("file-name")).to_have_text(["photo-of-rota.jpg"])
    for other in ("rota-before.pdf", "handover-notes.txt", "consent-form.pdf"):
        expect(main(officer_page)).not_to_contain_text(other)
    shot(officer_page, "officer-referral")
    with officer_page.expect_download() as downloading:
        shared.get_by_role("link", name="Download photo-of-rota.jpg").click()
    assert downloading.value.suggested_filename == "photo-of-rota.jpg"
    other_file = Attachment.objects.get(report=report, source=Attachment.Source.HELPLINE)
    for attachment in (notes, other_file):
        refused = officer_page.request.get(
            f"{live_server.url}/staff/referrals/{case.case_number}/{referral.pk}/files/{attachment.public_id}"
        )
        assert refused.status == 404

    # --- the supervisor sees the officer's download --------------------------------------------------------------
    supervising.goto(f"/staff/cases/{case.case_number}")
    expect(main(supervisor_page).get_by_test_id("file-downloads")).to_contain_text("officer (Rotherham)")
    shot(supervisor_page, "supervisor-who-opened-the-files")

    # --- a safeguarding partnership and national oversight: no file anywhere, a count in the statistics -------
    stats_refresh()
    for user, name in ((reviewer, "partnership"), (analyst, "oversight")):
        tab = signed_in_tab(new_context, live_server, user)
        tab.goto("/staff/statistics")
        body = main(tab.page)
        received = body.get_by_role("table", name="Files received with the reports")
        expect(received).to_contain_text("Sent by reporters")
        for file_name in made:
            expect(body).not_to_contain_text(file_name)
        shot(tab.page, f"{name}-statistics")
        for path in (
            f"/staff/cases/{case.case_number}",
            f"/staff/cases/{case.case_number}/files/{photo.public_id}",
            f"/staff/referrals/{case.case_number}/{referral.pk}/files/{photo.public_id}",
            f"/api/v1/cases/{case.case_number}/attachments",
        ):
            answer = tab.page.request.get(f"{live_server.url}{path}")
            assert answer.status in (403, 404), (name, path, answer.status)
            assert b"photo-of-rota" not in answer.body()
        csv = tab.page.request.get(f"{live_server.url}/staff/statistics.csv").text()
        assert "Files received" in csv
        assert not any(file_name in csv for file_name in made)

"""The timeout warning in Chromium (issue 27, point 4), with the answers' idle period shortened to seconds: the
dialog appears before the answers end, takes focus and keeps it, passes axe; "Continue" (and Escape) keep the
answers past the time they would have ended; left alone, the page goes to the one that says what was lost.

Conditions, not durations, are waited for: the dialog to show, the server's first expiry to pass, the page
to change."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from reports.models import Draft
from tests.e2e.pages import Visit
from tests.e2e.reporter import answer_radio, start_a_report

pytestmark = pytest.mark.e2e

# Long enough for a page's checks (axe) before the dialog shows, and for the dialog's checks before it runs out.
IDLE_SECONDS = 12
WARNING_SECONDS = 9
WAIT_MS = 30_000
DIALOG = "Your answers will be deleted soon"


def focus_is_in_the_dialog(page: Page) -> bool:
    return bool(page.evaluate("() => document.getElementById('timeout-dialog').contains(document.activeElement)"))


def the_draft() -> Draft:
    return Draft.objects.get(purpose=Draft.Purpose.DRAFT)


def wait_until_past(moment) -> None:  # type: ignore[no-untyped-def]
    while timezone.now() <= moment:
        time.sleep(0.2)


def test_the_warning_keeps_the_answers_and_running_out_says_what_was_lost(visit: Visit, settings) -> None:  # type: ignore[no-untyped-def]
    page = visit.page
    start_a_report(visit)
    answer_radio(visit, "Anonymous")
    # The pages so far had the usual half hour; from here the answers last seconds (rounded to the second).
    settings.DRAFT_IDLE_SECONDS = IDLE_SECONDS
    settings.DRAFT_WARNING_SECONDS = WARNING_SECONDS
    settings.TIME_TRAIL_BUCKET_SECONDS = 1
    page.get_by_label("Education", exact=True).check()
    visit.submit(axe=False)  # axe runs on this page once its dialog is open
    assert visit.path() == "/report/concern"
    concern = page.get_by_label("A concern was raised but not acted on", exact=True)
    concern.focus()
    first_expiry = the_draft().expires_at

    # Without a word from the reporter, the dialog: named, modal, holding focus.
    dialog = page.get_by_role("alertdialog", name=DIALOG)
    expect(dialog).to_be_visible(timeout=WAIT_MS)
    expect(dialog).to_have_attribute("aria-modal", "true")
    expect(dialog).to_contain_text("Your report has not been sent yet")
    expect(dialog.get_by_text("We could not reach the service")).to_be_hidden()
    continue_button = dialog.get_by_role("button", name="Continue with your report")
    expect(continue_button).to_be_focused()
    for key in ("Tab", "Tab", "Tab", "Shift+Tab", "Shift+Tab"):
        page.keyboard.press(key)
        assert focus_is_in_the_dialog(page), f"focus left the dialog after {key}"
    expect(dialog.get_by_role("link", name="Delete your answers and leave")).to_have_attribute("href", "/exit")
    visit.check()  # axe, with the dialog open

    # Continue: the dialog goes, focus comes back where it was, the answers last longer.
    continue_button.focus()
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(concern).to_be_focused()
    assert visit.path() == "/report/concern", "Continue stays on the page"
    kept_until = the_draft().expires_at
    assert kept_until > first_expiry

    # Past the time the answers would have ended: the dialog is back, and Escape keeps them too.
    wait_until_past(first_expiry)
    expect(dialog).to_be_visible(timeout=WAIT_MS)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert the_draft().expires_at > kept_until
    page.get_by_role("link", name="Back", exact=True).click()
    expect(page).to_have_url(f"{visit.base_url}/report/about-you")
    expect(page.get_by_label("Education", exact=True)).to_be_checked()

    # Left alone, the answers end and the page says so.
    expect(dialog).to_be_visible(timeout=WAIT_MS)
    expect(page).to_have_url(f"{visit.base_url}/report/session-ended", timeout=WAIT_MS)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers have been deleted")
    expect(page.get_by_test_id("what-was-lost")).to_contain_text("Your report has not been sent")
    expect(page.get_by_role("button", name="Start again")).to_be_visible()
    visit.check()
    assert not Draft.objects.filter(purpose=Draft.Purpose.DRAFT).exists(), "the answers are gone from the server"

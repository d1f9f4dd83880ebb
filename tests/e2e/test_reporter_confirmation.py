"""The confirmation page in a real browser (issue 22, point 3): copy and print the access code, confirm it was
saved before going on, and a refresh or Back that still shows the reference but never the code again."""

from __future__ import annotations

import pytest
from playwright.sync_api import Response, expect

from tests.e2e.pages import Visit
from tests.e2e.reporter import screenshot_at_both_widths, send_an_anonymous_report

pytestmark = pytest.mark.e2e


def by_get(response: Response | None, *, status: int) -> None:
    """A page (re)loaded by GET, as Back and refresh load it."""
    assert response is not None and response.request.method == "GET", response
    assert response.status == status, (response.url, response.status)


# Records window.print() instead of opening the print dialog.
RECORD_PRINT = "window.print = () => { window.__printed = (window.__printed || 0) + 1; };"


def test_the_code_can_be_copied_and_printed_and_a_refresh_keeps_the_reference(
    new_context, live_server, fast_kdf: None
) -> None:  # type: ignore[no-untyped-def]
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    context.add_init_script(RECORD_PRINT)
    visit = Visit(context.new_page(), base_url=live_server.url)
    page = visit.page
    send_an_anonymous_report(visit)
    reference = page.get_by_test_id("reference").inner_text().strip()
    code = page.get_by_test_id("access-code").inner_text().strip()
    expect(page.get_by_test_id("code-shown-once")).to_contain_text(
        "You will not see your access code again after you leave this page."
    )
    screenshot_at_both_widths(page, "confirmation-first-view")

    page.get_by_role("button", name="Copy access code").click()
    expect(page.locator("[data-copy-status]")).to_contain_text("Access code copied.")
    assert page.evaluate("() => navigator.clipboard.readText()") == code
    page.get_by_role("button", name="Print or save this page").click()
    assert page.evaluate("() => window.__printed") == 1
    # On paper: the reference and the code, without the buttons or the form.
    page.emulate_media(media="print")
    expect(page.get_by_test_id("access-code")).to_be_visible()
    expect(page.get_by_role("button", name="Copy access code")).to_be_hidden()
    expect(page.get_by_label("I have saved my access code")).to_be_hidden()
    page.emulate_media(media="screen")

    by_get(page.reload(), status=200)
    visit.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your report has been sent")
    expect(page.get_by_test_id("reference")).to_have_text(reference)
    expect(page.get_by_test_id("access-code")).to_have_count(0)
    expect(page.get_by_test_id("code-not-shown-again")).to_contain_text("it cannot be shown again")
    assert reference not in page.title()
    screenshot_at_both_widths(page, "confirmation-refreshed")

    # Back to check your answers: sent once, not again, with the reference.
    by_get(page.go_back(), status=200)
    visit.check()
    assert visit.path() == "/report/check-your-answers"
    expect(page.get_by_text("They have not been sent again.")).to_be_visible()
    expect(page.get_by_test_id("reference")).to_have_text(reference)


def test_continue_asks_to_confirm_the_code_was_saved(visit: Visit, fast_kdf: None) -> None:
    page = visit.page
    send_an_anonymous_report(visit)
    code = page.get_by_test_id("access-code").inner_text().strip()

    visit.submit("Continue", status=400)
    assert visit.path() == "/report/confirmation"
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link", name="Confirm that you have saved your access code")).to_have_attribute(
        "href", "#id_saved"
    )
    expect(page.get_by_test_id("access-code")).to_have_text(code)  # still there to save
    assert page.title().startswith("Error: ")
    screenshot_at_both_widths(page, "confirmation-not-confirmed")

    page.get_by_label("I have saved my access code").check()
    visit.submit("Continue")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your report has been sent")
    expect(page.get_by_test_id("access-code")).to_have_count(0)
    expect(page.get_by_text("the access code you saved")).to_be_visible()
    screenshot_at_both_widths(page, "confirmation-saved")


def test_without_javascript_there_are_no_buttons_that_do_nothing(new_context, live_server, fast_kdf: None) -> None:  # type: ignore[no-untyped-def]
    visit = Visit(new_context(java_script_enabled=False).new_page(), base_url=live_server.url, javascript=False)
    page = visit.page
    send_an_anonymous_report(visit)
    expect(page.get_by_test_id("access-code")).to_be_visible()
    expect(page.get_by_role("button", name="Copy access code")).to_be_hidden()
    expect(page.get_by_role("button", name="Print or save this page")).to_be_hidden()
    page.get_by_label("I have saved my access code").check()
    visit.submit("Continue", axe=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your report has been sent")

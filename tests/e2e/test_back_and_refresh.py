"""Post/redirect/get on the reporter's forms (issue 13, point 1): after a validation error, after sending a
report and after a message, Back and refresh load pages with GET, never "Confirm Form Resubmission", and a
refreshed confirmation keeps the reference and says plainly that the access code cannot be shown again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import Visit, by_get
from tests.e2e.reporter import answer_radio, no_documents, start_a_report
from tests.factories import submit_report

pytestmark = pytest.mark.e2e


def test_back_and_refresh_after_a_question_page_error(visit: Visit) -> None:
    page = visit.page
    start_a_report(visit)
    visit.submit(status=400)  # nothing chosen
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select how you want to report your concern")
    assert visit.path() == "/report/anonymity", "the errors are shown at the page's own address"

    by_get(page.reload(), status=400)
    expect(page.locator(".govuk-error-summary")).to_be_visible()

    answer_radio(visit, "Anonymous")
    assert visit.path() == "/report/about-you"
    by_get(page.go_back(), status=200)
    assert visit.path() == "/report/anonymity"
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    expect(page.get_by_label("Anonymous", exact=True)).to_be_checked()
    by_get(page.go_forward(), status=200)
    assert visit.path() == "/report/about-you"


def test_refreshing_the_confirmation_says_the_code_cannot_be_shown_again(visit: Visit, fast_kdf: None) -> None:
    page = visit.page
    start_a_report(visit)
    answer_radio(visit, "Anonymous")
    answer_radio(visit, "Education")
    page.get_by_label("A concern was raised but not acted on").check()
    visit.submit()
    page.get_by_label("Or choose the council").select_option("unknown")
    visit.submit()
    answer_radio(visit, "No")
    visit.submit()  # the organisation is optional
    page.get_by_label("Summarise your concern in a sentence").fill("Reports were not passed on")
    page.get_by_label("What happened?").fill("Two reports were filed and nothing was done.")
    visit.submit()
    answer_radio(visit, "No")
    visit.submit()  # "Has anyone reported this" is optional
    answer_radio(visit, "No")
    no_documents(visit)
    assert visit.path() == "/report/check-your-answers"
    visit.submit("Send report")
    assert visit.path() == "/report/confirmation"
    expect(page.get_by_test_id("access-code")).to_be_visible()
    reference = page.get_by_test_id("reference").inner_text().strip()

    by_get(page.reload(), status=200)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your report has been sent")
    expect(page.get_by_test_id("reference")).to_have_text(reference)
    expect(page.get_by_text("it cannot be shown again")).to_be_visible()
    expect(page.get_by_test_id("access-code")).to_have_count(0)

    by_get(page.go_back(), status=200)
    assert visit.path() == "/report/check-your-answers"
    expect(page.get_by_role("heading", level=1)).to_have_text("Your report has been sent")
    expect(page.get_by_text("They have not been sent again.")).to_be_visible()


def test_back_and_refresh_after_a_message_error_and_a_message(visit: Visit, fast_kdf: None) -> None:
    submitted = submit_report()
    page = visit.page
    visit.goto("/check")
    page.get_by_label("Reference").fill(submitted.report.reference)
    page.get_by_label("Access code").fill(submitted.access_code)
    visit.submit("Continue")
    assert visit.path() == "/check/concern"

    visit.submit("Send", status=400)  # an empty message
    assert visit.path() == "/check/concern"
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    by_get(page.reload(), status=200)  # the errors were shown once; the page is the follow-up page again
    expect(page.locator(".govuk-error-summary")).to_have_count(0)

    page.get_by_label("Your message").fill("The van was there again today.")
    visit.submit("Send")
    expect(page.get_by_text("Your message has been sent to the helpline.")).to_be_visible()
    by_get(page.reload(), status=200)
    assert submitted.report.messages.filter(direction="from_reporter").count() == 1, "refresh sent nothing again"
    by_get(page.go_back(), status=200)

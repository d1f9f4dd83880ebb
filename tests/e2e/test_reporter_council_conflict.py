"""A postcode in one council and another council chosen, in a real browser (issue 22, point 7)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import Visit
from tests.e2e.reporter import answer_radio, no_documents, row, screenshot_at_both_widths, start_a_report

pytestmark = pytest.mark.e2e


def test_a_postcode_in_another_council_asks_which_is_right(visit: Visit, authorities: None) -> None:
    page = visit.page
    start_a_report(visit)
    answer_radio(visit, "Anonymous")
    answer_radio(visit, "Education")
    page.get_by_label("A concern was raised but not acted on").check()
    visit.submit()

    assert visit.path() == "/report/where"
    page.get_by_label("Postcode", exact=True).fill("S60 2TH")
    page.get_by_label("Or choose the council").select_option(label="Sheffield")
    visit.submit()

    assert visit.path() == "/report/council"
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Your postcode S60 2TH is in Rotherham, but you chose Sheffield. Which is right?")
    expect(page.get_by_label("Rotherham", exact=True)).not_to_be_checked()
    expect(page.get_by_text("The council for S60 2TH")).to_be_visible()
    expect(page.get_by_text("The council you chose")).to_be_visible()
    screenshot_at_both_widths(page, "council-conflict")

    visit.submit(status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select which council is right")
    screenshot_at_both_widths(page, "council-conflict-error")
    page.get_by_label("Rotherham", exact=True).check()
    visit.submit()
    assert visit.path() == "/report/about-council"

    # Check your answers says the one chosen here.
    answer_radio(visit, "No")
    visit.submit()
    page.get_by_label("Summarise your concern in a sentence").fill("Reports were not passed on")
    page.get_by_label("What happened?").fill("Nothing was recorded.")
    visit.submit()
    answer_radio(visit, "No")
    visit.submit()  # "Has anyone reported this" is optional
    answer_radio(visit, "No")
    no_documents(visit)
    assert visit.path() == "/report/check-your-answers"
    expect(row(page, "Council area")).to_have_text("Rotherham")

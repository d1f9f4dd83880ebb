"""Starting again in a real browser (issue 22, points 5 and 6): "Start now" in a second tab, or after going
back to the start page, asks before it deletes anything; a question page opened directly starts a new visitor
at the start page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import Visit
from tests.e2e.reporter import answer_radio, screenshot_at_both_widths, start_a_report

pytestmark = pytest.mark.e2e

QUESTION = "You have already started a report. Do you want to continue it?"


def test_start_now_in_a_second_tab_asks_and_continuing_keeps_the_answers(visit: Visit) -> None:
    page = visit.page
    start_a_report(visit)
    answer_radio(visit, "Confidential")
    answer_radio(visit, "Education")
    assert visit.path() == "/report/concern"

    second = Visit(page.context.new_page(), base_url=visit.base_url)
    second.goto("/")
    second.submit("Start now")
    assert second.path() == "/report/in-progress"
    expect(second.page.get_by_role("heading", level=1)).to_have_text(QUESTION)
    screenshot_at_both_widths(second.page, "report-in-progress")

    second.submit("Continue", status=400)  # nothing chosen
    expect(second.page.locator(".govuk-error-summary")).to_contain_text(
        "Select whether you want to continue your report or start again"
    )
    screenshot_at_both_widths(second.page, "report-in-progress-error")
    second.page.get_by_label("Yes, continue my report").check()
    second.submit("Continue")
    assert second.path() == "/report/concern", "the first question not answered yet"

    # Nothing was lost: the first tab carries on, and going back shows its answers.
    page.get_by_label("A concern was raised but not acted on").check()
    visit.submit()
    assert visit.path() == "/report/where"
    page.go_back()
    page.go_back()
    expect(page.get_by_label("Education", exact=True)).to_be_checked()
    visit.check()


def test_start_now_after_going_back_to_the_start_page_can_start_again(visit: Visit) -> None:
    page = visit.page
    start_a_report(visit)
    answer_radio(visit, "Anonymous")
    page.go_back()
    page.go_back()
    assert visit.path() == "/"
    visit.check()
    visit.submit("Start now")
    assert visit.path() == "/report/in-progress"
    page.get_by_label("No, delete my answers and start again").check()
    visit.submit("Continue")
    assert visit.path() == "/report/anonymity"
    expect(page.get_by_label("Anonymous", exact=True)).not_to_be_checked()


def test_a_question_page_opened_directly_starts_at_the_start_page(visit: Visit) -> None:
    visit.goto("/report/what-happened")
    assert visit.path() == "/"
    expect(visit.page.get_by_role("heading", level=1)).to_have_text(
        "Report a concern about how child sexual exploitation is being handled"
    )
    expect(visit.page.get_by_text("Your answers have been deleted")).to_have_count(0)
    screenshot_at_both_widths(visit.page, "start-page")

"""Exit this page in a real browser (issue 22, point 2): the concern's session ends on the server before the
page goes (with JavaScript) or through the exit address (without), Back and a new tab show nothing of the
concern, and no title or history entry carries the reference."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from reports.models import Draft
from tests.e2e.pages import Visit
from tests.e2e.reporter import answer_radio, screenshot_at_both_widths, start_a_report
from tests.factories import submit_report

pytestmark = pytest.mark.e2e

PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@pytest.fixture
def neutral_page(live_server, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    """The tests reach no other site, and the browser follows the exit address's redirect without letting a
    test answer for the site it leads to: another origin of the live server (127.0.0.1, not localhost; no
    cookie of this one is sent there) stands in for the neutral page."""
    stand_in = live_server.url.replace("localhost", "127.0.0.1") + "/accessibility"
    assert stand_in != live_server.url + "/accessibility"
    monkeypatch.setattr("reports.views.NEUTRAL_PAGE", stand_in, raising=False)
    return stand_in


def left_the_site(visit: Visit) -> Callable[[str], bool]:
    return lambda url: not url.startswith(visit.base_url)


def answer_for_the_real_neutral_page(context: BrowserContext) -> None:
    """The neutral page, answered by the test (the tests reach no other site). JavaScript goes straight to it;
    the redirect of the exit address (without JavaScript) goes to the ``neutral_page`` stand-in instead."""
    context.route(
        "https://www.bbc.co.uk/**",
        lambda route: route.fulfill(
            status=200, headers=PRIVATE, content_type="text/html", body="<title>Weather</title>"
        ),
    )


def wait_until_ended(purpose: str) -> None:
    for _ in range(50):
        if not Draft.objects.filter(purpose=purpose).exists():
            return
        time.sleep(0.1)
    raise AssertionError(f"the {purpose} state is still on the server")


def open_the_concern(visit: Visit) -> tuple[str, str]:
    submitted = submit_report(summary="Missing episodes ignored at Northside")
    page = visit.page
    # axe cannot run where JavaScript is off (it would wait for ever): those pages are checked with it on.
    visit.goto("/check", axe=visit.javascript)
    page.get_by_label("Reference").fill(submitted.report.reference)
    page.get_by_label("Access code").fill(submitted.access_code)
    visit.submit("Continue", axe=visit.javascript)
    assert visit.path() == "/check/concern"
    expect(page.get_by_text("Missing episodes ignored at Northside")).to_be_visible()
    return submitted.report.reference, "Missing episodes ignored at Northside"


def assert_nothing_of_the_concern(page: Page, reference: str, summary: str) -> None:
    content = page.content()
    assert reference not in content and summary not in content, page.url


def test_exit_with_javascript_ends_the_concern_before_it_leaves_and_back_shows_nothing(
    visit: Visit, fast_kdf: None
) -> None:
    page = visit.page
    answer_for_the_real_neutral_page(page.context)
    reference, summary = open_the_concern(visit)
    assert reference not in page.title(), page.title()

    # Only the beacon reaches the server, and the page goes straight to the neutral page: the session can only
    # have ended before the page went.
    exit_requests: list[str] = []

    def exit_address(route: Route) -> None:
        exit_requests.append(route.request.method)
        route.continue_()

    page.route("**/exit", exit_address)
    with page.expect_navigation(url=left_the_site(visit)):
        page.locator("a.govuk-exit-this-page__button").click()
    assert page.url.startswith("https://www.bbc.co.uk/"), page.url
    wait_until_ended(Draft.Purpose.FOLLOW_UP)
    assert exit_requests == ["POST"], exit_requests

    # The concern's page was replaced in the history: Back goes to the page before it, which shows nothing.
    page.go_back()
    assert visit.path() == "/check"
    assert_nothing_of_the_concern(page, reference, summary)
    visit.check()
    # A new tab (the same browser, the same cookies) is sent to the reference page.
    tab = page.context.new_page()
    tab.goto(f"{visit.base_url}/check/concern")
    assert urlsplit(tab.url).path == "/check"
    assert_nothing_of_the_concern(tab, reference, summary)

    history = [response.url for response in visit.documents]
    assert not [url for url in history if reference in url], history
    assert not [entry for entry in visit.checked if reference in entry], visit.checked


def test_exit_without_javascript_goes_through_the_exit_address(  # type: ignore[no-untyped-def]
    new_context, live_server, fast_kdf: None, neutral_page: str
) -> None:
    context = new_context(java_script_enabled=False)
    answer_for_the_real_neutral_page(context)
    visit = Visit(context.new_page(), base_url=live_server.url, javascript=False)
    page = visit.page
    reference, summary = open_the_concern(visit)

    with page.expect_navigation(url=left_the_site(visit)):
        page.locator("a.govuk-exit-this-page__button").click()
    assert not Draft.objects.filter(purpose=Draft.Purpose.FOLLOW_UP).exists()

    page.go_back()  # the concern's address again: the server now sends it to the reference page
    assert visit.path() == "/check"
    assert_nothing_of_the_concern(page, reference, summary)
    visit.check(axe=False)


def test_shift_three_times_on_a_question_page_deletes_the_answers(visit: Visit) -> None:
    page = visit.page
    answer_for_the_real_neutral_page(page.context)
    start_a_report(visit)
    answer_radio(visit, "Anonymous")
    assert visit.path() == "/report/about-you"
    page.get_by_label("Education", exact=True).check()
    visit.submit()
    assert visit.path() == "/report/concern"
    screenshot_at_both_widths(page, "exit-question-page")

    with page.expect_navigation(url=left_the_site(visit)):
        for _ in range(3):
            page.keyboard.press("Shift")
    wait_until_ended(Draft.Purpose.DRAFT)

    # Back: the question before, which now starts again at the start page and shows no answer.
    page.go_back()
    assert visit.path() == "/"
    visit.check()

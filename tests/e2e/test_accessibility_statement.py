"""The accessibility statement (issue 13, point 7), reachable from every footer, and the keyboard-only
journey the statement says is tested."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import Visit

pytestmark = pytest.mark.e2e


def tab_to(page: Page, name: str, *, limit: int = 60) -> None:
    """Press Tab until the element called ``name`` has the focus (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return ((e.labels && e.labels.length ? e.labels[0].innerText : e.innerText || e.value) || '').trim(); }"
        )
        if focused == name:
            return
    raise AssertionError(f"Tab never reached {name!r}")


def test_the_statement_is_linked_from_the_footer_and_passes_axe(new_context, live_server) -> None:  # type: ignore[no-untyped-def]
    visit = Visit(new_context().new_page(), base_url=live_server.url)
    visit.goto("/")
    visit.follow("Accessibility statement")
    assert visit.path() == "/accessibility"
    page = visit.page
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accessibility statement for")
    for heading in (
        "How accessible this service is",
        "Feedback and contact information",
        "Reporting accessibility problems with this service",
        "Enforcement procedure",
        "How we tested this service",
    ):
        expect(page.get_by_role("heading", name=heading)).to_be_visible()
    expect(page.get_by_text(re.compile("Web Content Accessibility Guidelines version 2.2"))).to_be_visible()
    expect(page.get_by_test_id("known-issues")).to_be_visible()

    # The staff pages' footer links to it too (staff pages have no "Exit this page", so no Visit.goto).
    page.goto(f"{live_server.url}/staff/sign-in")
    page.get_by_role("contentinfo").get_by_role("link", name="Accessibility statement").click()
    expect(page).to_have_url(f"{live_server.url}/accessibility")


def test_a_keyboard_alone_starts_a_report_and_answers_a_question(new_context, live_server) -> None:  # type: ignore[no-untyped-def]
    visit = Visit(new_context().new_page(), base_url=live_server.url)
    page = visit.page
    visit.goto("/")
    tab_to(page, "Start now")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert visit.path() == "/report/anonymity"
    tab_to(page, "Anonymous")
    page.keyboard.press("Space")
    expect(page.get_by_label("Anonymous", exact=True)).to_be_checked()
    tab_to(page, "Continue")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert visit.path() == "/report/about-you"

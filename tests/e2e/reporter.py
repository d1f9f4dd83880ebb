"""A reporter's steps in a browser: starting a report, answering a question, sending a brief anonymous report,
and screenshots at a phone's and a desktop's width. Used by the reporter journey tests."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.axe import axe_check
from tests.e2e.pages import Visit


def answer_radio(visit: Visit, label: str) -> None:
    visit.page.get_by_label(label, exact=True).check()
    visit.submit()


def no_documents(visit: Visit, *, axe: bool = True) -> None:
    """ "Do you have documents, photos or recordings?", asked after the last question: none, so Continue."""
    assert visit.path() == "/report/documents"
    visit.submit(axe=axe)


def start_a_report(visit: Visit) -> None:
    visit.goto("/")
    visit.submit("Start now")
    assert visit.path() == "/report/anonymity"


def send_an_anonymous_report(
    visit: Visit, *, summary: str = "Reports were not passed on", urgent: bool = False
) -> None:
    """From the start page to the confirmation page, answering as briefly as the pages allow (no council, so
    no authority data is needed). axe runs on each page when JavaScript is on (it cannot run without)."""
    page = visit.page
    axe = visit.javascript
    visit.goto("/", axe=axe)
    visit.submit("Start now", axe=axe)
    for label in ("Anonymous", "Education", "A concern was raised but not acted on"):
        page.get_by_label(label, exact=True).check()
        visit.submit(axe=axe)
    page.get_by_label("Or choose the council").select_option("unknown")
    visit.submit(axe=axe)
    page.get_by_label("No", exact=True).check()
    visit.submit(axe=axe)
    visit.submit(axe=axe)  # the organisation is optional
    page.get_by_label("Summarise your concern in a sentence").fill(summary)
    page.get_by_label("What happened?").fill("Two reports were filed and nothing was done.")
    visit.submit(axe=axe)
    page.get_by_label("No", exact=True).check()  # raised internally
    visit.submit(axe=axe)
    visit.submit(axe=axe)  # "Has anyone reported this" is optional
    page.get_by_label("Yes" if urgent else "No", exact=True).check()  # immediate risk
    visit.submit(axe=axe)
    no_documents(visit, axe=axe)
    assert visit.path() == "/report/check-your-answers"
    visit.submit("Send report", axe=axe)
    assert visit.path() == "/report/confirmation"


SHOTS = Path("/tmp/shots")


def screenshot_at_both_widths(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page as a phone (375 px) and a desktop (1280 px) show it, into /tmp/shots, checked by axe at each."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    for width in (375, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        axe_check(page)
    if viewport:
        page.set_viewport_size(viewport)


def row(page, key: str):  # type: ignore[no-untyped-def]
    """The value cell of a check-your-answers row."""
    return (
        page.locator(".govuk-summary-list__row")
        .filter(has=page.locator(".govuk-summary-list__key", has_text=re.compile(f"^{re.escape(key)}$")))
        .locator(".govuk-summary-list__value")
    )

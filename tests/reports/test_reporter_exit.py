"""Exit this page ends the reporter's session on the server (issue 22, point 2): what they were reading, the
answers they were writing and the confirmation they were shown are gone, so Back and a new tab show nothing;
and no page title carries a reference."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from reports import views
from reports.models import Draft
from reports.services import SubmittedReport
from tests.factories import submit_report, web_report_sent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

NEUTRAL_PAGE = "https://www.bbc.co.uk/weather"


def deleted(response: object, name: str) -> bool:
    cookie = response.cookies.get(name)  # type: ignore[attr-defined]
    return cookie is not None and cookie.value == "" and str(cookie["expires"]).startswith("Thu, 01 Jan 1970")


def test_the_exit_address_ends_the_concern_and_goes_to_the_neutral_page(
    open_concern: Callable[[SubmittedReport], Client],
) -> None:
    submitted = submit_report()
    reporter = open_concern(submitted)
    assert reporter.get("/check/concern").status_code == 200
    kept = dict(reporter.cookies.items())

    left = reporter.get("/exit")
    assert (left.status_code, left["Location"]) == (302, NEUTRAL_PAGE)
    assert deleted(left, "report_follow_up")
    assert not Draft.objects.filter(purpose=Draft.Purpose.FOLLOW_UP).exists(), "ended on the server"

    # Back, or a new tab, finds nothing: even a browser that kept the old cookie.
    assert reporter.get("/check/concern")["Location"] == "/check"
    stale = Client()
    for name, morsel in kept.items():
        stale.cookies[name] = morsel.value
    assert stale.get("/check/concern")["Location"] == "/check"


def test_a_beacon_to_the_exit_address_ends_the_session_without_a_form_token(
    open_concern: Callable[[SubmittedReport], Client],
) -> None:
    reporter = open_concern(submit_report())
    reporter.handler.enforce_csrf_checks = True  # type: ignore[attr-defined]
    beacon = reporter.post("/exit")
    assert beacon.status_code == 204
    assert deleted(beacon, "report_follow_up")
    assert reporter.get("/check/concern")["Location"] == "/check"


def test_exit_deletes_the_answers_in_progress() -> None:
    reporter = Client()
    reporter.post("/report/begin")
    reporter.post("/report/anonymity", {"anonymity": "anonymous"})
    assert Draft.objects.filter(purpose=Draft.Purpose.DRAFT).count() == 1

    left = reporter.get("/exit")
    assert left.status_code == 302 and deleted(left, "report_draft")
    assert not Draft.objects.filter(purpose=Draft.Purpose.DRAFT).exists()
    # Back to a question page: the start page, not the answers and not "your answers have been deleted".
    assert reporter.get("/report/about-you")["Location"] == "/"


def test_exit_after_sending_forgets_the_confirmation_but_not_that_it_was_sent() -> None:
    reporter = Client()
    sent = web_report_sent(reporter)
    reference = sent.context["sent"].reference
    kept = reporter.cookies["report_draft"].value

    reporter.get("/exit")
    assert reporter.get("/report/confirmation")["Location"] == "/"

    # A browser that did not apply the deleted cookie is still told the report was sent, with no reference.
    reporter.cookies["report_draft"] = kept
    page = reporter.get("/report/check-your-answers").content.decode()
    assert "Your report has been sent" in page and reference not in page
    assert reporter.post("/report/check-your-answers")["Location"] == "/report/confirmation"


def test_no_page_title_carries_the_reference(open_concern: Callable[[SubmittedReport], Client]) -> None:
    submitted = submit_report()
    reporter = open_concern(submitted)
    page = reporter.get("/check/concern").content.decode()
    title = page.split("<title>", 1)[1].split("</title>", 1)[0]
    assert submitted.report.reference not in title, title
    assert submitted.report.reference in page  # the page itself still says it

    writer = Client()
    for view in (web_report_sent(writer), writer.get("/report/confirmation"), writer.get("/report/check-your-answers")):
        text = view.content.decode()
        reference = view.context["sent"].reference
        assert reference in text and reference not in text.split("</title>", 1)[0]


def test_the_exit_button_is_the_exit_address_on_every_public_page() -> None:
    for path in ("/", "/check", "/privacy"):
        page = Client().get(path).content.decode()
        button = page.split('aria-label="Exit this page">', 1)[1].split("</aside>", 1)[0]
        assert '<a href="/exit" class="govuk-button govuk-button--warning govuk-exit-this-page__button' in button
        assert f'data-neutral-page="{views.NEUTRAL_PAGE}" data-session-end="/exit"' in button
        assert '<script type="module" src="/static/js/exit.mjs">' in page


def test_an_error_page_exits_straight_to_the_neutral_page_and_still_ends_the_session_with_javascript() -> None:
    """Error pages are rendered without a request, and ahead of time for nginx while the service may be down:
    the way out must not depend on the service answering."""
    page = Client().get("/no-such-page").content.decode()
    assert f'<a href="{views.NEUTRAL_PAGE}" class="govuk-button govuk-button--warning' in page
    assert 'data-session-end="/exit"' in page

"""The confirmation page survives a refresh (issue 22, point 3): the reference stays, the access code is shown
once with a way to copy or print it, the page says once that it cannot be recovered, and asks the reporter to
confirm they saved it before they go on."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from reports import services
from tests.factories import web_report_sent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

CANNOT_RECOVER = re.compile(r"cannot (be )?show(n)? (it )?again", re.IGNORECASE)


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def access_code(response: Any) -> str | None:
    found = re.search(r'data-testid="access-code">([^<]+)<', response.content.decode())
    return found.group(1).strip() if found else None


def test_a_refresh_keeps_the_reference_and_never_shows_the_code_again() -> None:
    reporter = Client()
    first = web_report_sent(reporter)
    reference = first.context["sent"].reference
    assert access_code(first)

    refreshed = reporter.get("/report/confirmation")
    page = text(refreshed)
    assert refreshed.status_code == 200
    assert reference in page, "the reference is not secret: a refresh still shows it"
    assert access_code(refreshed) is None
    assert len(CANNOT_RECOVER.findall(page)) == 1, "said once, plainly"
    assert "What happens next" in page and "Check your concern" in page


def test_the_first_view_offers_copy_and_print_and_says_once_that_the_code_cannot_be_recovered() -> None:
    page = text(web_report_sent(Client()))
    assert len(CANNOT_RECOVER.findall(page)) == 1, CANNOT_RECOVER.findall(page)
    # The buttons work only with JavaScript, so they are hidden until it shows them.
    actions = page.split("data-code-actions hidden>", 1)[1].split("</div>\n    </div>", 1)[0]
    assert "Copy access code" in actions and "Print or save this page" in actions
    assert '<script type="module" src="/static/js/confirmation.mjs">' in page
    assert "I have saved my access code" in page
    # The paragraphs that said the same thing several times are gone.
    assert page.count("We do not keep a copy") == 1
    assert "This report has already been sent" not in page


def test_continue_without_confirming_shows_the_code_again_with_an_error() -> None:
    reporter = Client()
    code = access_code(web_report_sent(reporter))

    response = reporter.post("/report/confirmation", {})
    assert (response.status_code, response["Location"]) == (302, "/report/confirmation")
    again = reporter.get("/report/confirmation")
    assert again.status_code == 400
    page = text(again)
    assert page.count("Confirm that you have saved your access code") == 2  # the summary and the field
    assert '<a href="#id_saved">' in page
    assert access_code(again) == code, "the code is still there to save"
    assert "<title>Error: " in page

    assert access_code(reporter.get("/report/confirmation")) is None, "and not on any later view"


def test_continue_once_saved_forgets_the_code_and_says_what_happens_next() -> None:
    reporter = Client()
    first = web_report_sent(reporter)
    reference = first.context["sent"].reference
    code = access_code(first)
    assert code

    done = reporter.post("/report/confirmation", {"saved": "on"}, follow=True)
    page = text(done)
    assert done.status_code == 200 and done.redirect_chain == [("/report/confirmation", 302)]
    assert reference in page and access_code(done) is None
    assert "the access code you saved" in page and CANNOT_RECOVER.search(page) is None
    assert "What happens next" in page
    # The report itself still opens with the code the reporter saved.
    report, _ = services.report_unlock(reference=reference, access_code=code, client="x")
    assert report.reference == reference


def test_a_second_tab_sees_the_reference_and_never_the_code() -> None:
    reporter = Client()
    first = web_report_sent(reporter)
    tab = Client()
    for name, morsel in reporter.cookies.items():
        tab.cookies[name] = morsel.value
    second = tab.get("/report/confirmation")
    assert second.status_code == 200 and access_code(second) is None
    assert first.context["sent"].reference in text(second)


def test_nothing_sent_from_this_browser_is_the_start_page() -> None:
    assert Client().get("/report/confirmation")["Location"] == "/"

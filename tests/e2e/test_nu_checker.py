"""The Nu HTML Checker that the browser tests run on every page they load (tests/e2e/nu_checker.py) finds
mistakes: in a document sent to it, and in a page a browser test loads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Route
from pytest_django.live_server_helper import LiveServer

from tests.e2e.nu_checker import NuChecker, Problem, ServedMarkup, problems_in

VALID = b"""<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>Report a concern</title></head>
<body><main><h1>Report a concern</h1><p>Tell us what happened.</p></main></body>
</html>"""
# A <div> inside a <p> closes the paragraph, so its </p> has no paragraph to close; and a label for nothing.
INVALID = VALID.replace(
    b"<p>Tell us what happened.</p>", b'<p><div>Tell us what happened.</div></p><label for="nowhere">Name</label>'
)


# slow: the first check waits for the checker's JVM to start (seconds; `make test` starts it at collection).
@pytest.mark.slow
def test_a_valid_document_has_no_problems(nu_checker: NuChecker) -> None:
    assert nu_checker.check(VALID) == []


@pytest.mark.slow
def test_an_invalid_document_has_its_errors_reported(nu_checker: NuChecker) -> None:
    problems = nu_checker.check(INVALID)

    assert [(problem.kind, problem.line) for problem in problems] == [("error", 4), ("error", 4)]
    assert "No “p” element in scope but a “p” end tag seen." in problems[0].message
    assert "“for” attribute of the “label” element must be the ID of a non-hidden form control" in problems[1].message


def test_warnings_fail_a_page_and_remarks_do_not() -> None:
    messages: list[dict[str, Any]] = [
        {"type": "info", "subType": "warning", "lastLine": 3, "message": "The “main” role is unnecessary."},
        {"type": "info", "lastLine": 5, "message": "Trailing slash on void elements has no effect."},
        {"type": "non-document-error", "subType": "io", "message": "HTTP resource not retrievable."},
    ]

    assert problems_in(messages) == [
        Problem(kind="warning", message="The “main” role is unnecessary.", line=3),
        Problem(kind="non-document-error", message="HTTP resource not retrievable."),
    ]


@pytest.mark.e2e
def test_a_page_the_browser_loads_is_checked(
    new_context: Callable[..., BrowserContext],
    served_markup: ServedMarkup,
    nu_checker: NuChecker,
    live_server: LiveServer,
) -> None:
    """The wiring of conftest.py: the markup of a live server page reaches the checker, whose report names
    the page. The page is an invalid one, answered by the test."""
    context = new_context()
    page = context.new_page()
    page.route(f"{live_server.url}/invalid", lambda route: fulfil(route, INVALID))
    page.goto(f"{live_server.url}/invalid")
    served_markup.settle(context)

    report = served_markup.problems(nu_checker)
    # Only this test's own page is wrong: the check that runs when the test ends should pass.
    served_markup.documents.clear()

    assert f"GET {live_server.url}/invalid (200):" in report
    assert "No “p” element in scope but a “p” end tag seen." in report


def fulfil(route: Route, body: bytes) -> None:
    route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)

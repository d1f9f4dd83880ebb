"""The reporter's tier keeps no per-request log (issue 22, point 18): a log collector stamps every line it
receives, so one access line per request would record when somebody was here. Staff requests keep theirs."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from helpline.gunicorn_hooks import is_staff_path
from tests.live import Process


def fetch(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own loopback server
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def lines_after(server: Process, before: int) -> list[str]:
    time.sleep(0.3)  # gunicorn writes the line after the answer
    return server.log().splitlines()[before:]


@pytest.mark.worker
def test_public_requests_leave_no_access_line_and_staff_requests_do(gunicorn_server: tuple[str, Process]) -> None:
    base_url, server = gunicorn_server
    before = len(server.log().splitlines())
    for path in ("/", "/report/begin", "/check", "/privacy", "/healthz", "/no-such-page"):
        assert fetch(base_url + path) < 500, path
    assert lines_after(server, before) == [], "a public request was logged"

    before = len(server.log().splitlines())
    assert fetch(base_url + "/staff/sign-in") == 200
    (line,) = lines_after(server, before)
    assert line.startswith("GET /staff/sign-in 200 ")


def test_which_paths_are_the_staff_tier() -> None:
    assert is_staff_path("/staff/cases") and is_staff_path("/api/v1/auth/sign-in") and is_staff_path("/api/v1/cases/X")
    for public in ("/", "/report/details", "/check/concern", "/api/v1/reports", "/api/v1/reports/access", "/staffing"):
        assert not is_staff_path(public), public


def test_the_privacy_page_says_exactly_what_is_logged(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/privacy").content.decode()
    assert "We do not keep a log of the pages you visit or when." in page
    assert "a line only when something goes wrong on our side" in page

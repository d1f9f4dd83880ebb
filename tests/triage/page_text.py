"""Reading a staff page's text in the Django test client: the page must have answered 200 (its error summary,
whatever it answered)."""

from __future__ import annotations

import html
from typing import Any


def text(response: Any) -> str:
    assert response.status_code == 200, response.content[:300]
    return html.unescape(response.content.decode())


def section(body: str, start: str, end: str) -> str:
    """The part of ``body`` from ``start`` up to (not including) ``end``."""
    part = body[body.index(start) :]
    return part[: part.index(end)]


def error_summary(response: Any) -> str:
    """The page's text, which must show the GOV.UK error summary."""
    body = html.unescape(response.content.decode())
    assert 'class="govuk-error-summary"' in body
    assert "There is a problem" in body
    return body

"""Reading a staff page's text in the Django test client: the page must have answered 200."""

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

"""The pages' Content-Security-Policy (helpline/headers.py: style-src 'self') refuses inline styles, and a
refused style is a console error in the browser tests only for the pages and data they happen to show (a pattern
alert's chart was one). Every page template is read here instead. Emails are not pages: mail clients need their
styles inline, and no policy of ours governs them."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
INLINE_STYLE = re.compile(r"""<[a-zA-Z][^>]*\sstyle\s*=""")


def test_the_check_finds_a_style_attribute() -> None:
    assert INLINE_STYLE.search('<svg width="10" style="max-width: 100%">')
    assert INLINE_STYLE.search('<p\n  style="color: red">')
    assert not INLINE_STYLE.search('<p class="app-style">style="not an attribute"</p>')


def test_no_page_template_has_an_inline_style() -> None:
    pages = [path for path in TEMPLATES.rglob("*.html") if "emails" not in path.relative_to(TEMPLATES).parts]
    assert len(pages) > 50, "control: the page templates were found"
    styled = [str(path.relative_to(TEMPLATES)) for path in pages if INLINE_STYLE.search(path.read_text("utf-8"))]
    assert not styled, f"inline styles the Content-Security-Policy refuses: {styled}"

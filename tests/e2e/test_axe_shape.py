"""axe is left out for a page of the same shape as one that passed (tests/e2e/axe.py): the shape must see what
axe's rules read from the markup, and nothing else."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.e2e.axe import page_shape

pytestmark = pytest.mark.e2e

PAGE = """<!DOCTYPE html><html lang="en"><head><title>{title}</title></head><body><main>
<h1>{heading}</h1><a href="/cases/{number}">{link}</a><label for="note">Note</label><input id="note" type="text">
<img src="/chart.png" alt="{alt}"></main></body></html>"""
SAME = {"title": "Case 1", "heading": "Case 2026-ABCD", "number": "1", "link": "Open", "alt": "A chart"}


def test_text_alone_keeps_the_shape_and_what_axe_reads_changes_it(browser: Browser) -> None:
    tab = browser.new_page()
    try:

        def shape(**changes: str) -> str:
            tab.set_content(PAGE.format(**(SAME | changes)))
            return page_shape(tab)

        first = shape()
        # Other words, another case: the same page for axe.
        assert shape(title="Case 2", heading="Case 2026-WXYZ", number="2", link="Open the case") == first
        # What axe's rules read: an empty accessible name, an empty heading, a role, a broken label.
        assert shape(alt="") != first, "an image without alternative text"
        assert shape(heading="") != first, "an empty heading"
        assert shape(link="") != first, "a link without a name"
        tab.set_content(PAGE.format(**SAME).replace('for="note"', 'for="other"'))
        assert page_shape(tab) != first, "a label for nothing"
        tab.set_content(PAGE.format(**SAME).replace("<main>", '<main role="presentation">'))
        assert page_shape(tab) != first, "a landmark's role"
    finally:
        tab.close()

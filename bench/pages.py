"""Reading the pages the benchmarks request: a table's rows, parsed as HTML rather than matched as text.

A regular expression over the markup silently counts nothing once the markup changes (the triage list
benchmark counted 0 rows for every variant after a class was added to a cell, issue 22.23). Parsing finds
the table by its ``data-testid`` and counts the body's rows that hold a link to the kind of page named,
whatever classes, attributes or cells around them change; a page without that table, or with no such row
where rows are expected, is an error that stops the benchmark, never a quiet zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


class PageError(Exception):
    """A page is not what the benchmark expects: the measurement would mean nothing."""


class NoTable(PageError):
    pass


class NoRows(PageError):
    pass


@dataclass
class Row:
    cells: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)


class _Tables(HTMLParser):
    """Collects the body rows of every table whose ``data-testid`` is ``testid``."""

    def __init__(self, testid: str) -> None:
        super().__init__(convert_charrefs=True)
        self.testid = testid
        self.depth = 0  # tables open inside the one wanted (0: not in it)
        self.found = 0
        self.in_body = False
        self.rows: list[Row] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            if self.depth:
                self.depth += 1
            elif dict(attrs).get("data-testid") == self.testid:
                self.depth, self.found = 1, self.found + 1
            return
        if self.depth != 1:
            return
        if tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body:
            self.rows.append(Row())
        elif tag in ("td", "th") and self.in_body and self.rows:
            self.cell = []
        elif tag == "a" and self.in_body and self.rows:
            href = dict(attrs).get("href")
            if href:
                self.rows[-1].links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
            self.in_body = self.in_body and self.depth > 0
        elif self.depth == 1 and tag == "tbody":
            self.in_body = False
        elif self.depth == 1 and tag in ("td", "th") and self.cell is not None and self.rows:
            self.rows[-1].cells.append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_rows(page: bytes | str, testid: str) -> list[Row]:
    """The body rows of the table marked ``data-testid=testid``; NoTable when the page has none."""
    parser = _Tables(testid)
    parser.feed(page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page)
    parser.close()
    if not parser.found:
        raise NoTable(f'the page has no table with data-testid="{testid}" (has its markup changed?)')
    return parser.rows


def linked_rows(page: bytes | str, testid: str, link_prefix: str, *, expected: bool = True) -> int:
    """How many body rows of that table link to a page under ``link_prefix`` (a case, a referral...).
    NoTable when the table is missing; NoRows when ``expected`` and there are none."""
    count = sum(any(href.startswith(link_prefix) for href in row.links) for row in table_rows(page, testid))
    if expected and not count:
        raise NoRows(f'the table data-testid="{testid}" has no row linking to {link_prefix}')
    return count

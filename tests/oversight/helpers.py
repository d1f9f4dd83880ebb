"""Shared builders for the oversight tests: cases made through the real services, users signed in for real."""

from __future__ import annotations

import csv
import html
import io
from html.parser import HTMLParser
from typing import Any

from accounts.models import User
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from referrals import services as referral_services
from tests.factories import staff_user, submit_report
from triage.intake import report_route
from triage.models import Case

YORKSHIRE = "Yorkshire and The Humber"
ROTHERHAM = "E08000018"
SHEFFIELD = "E08000039"
MANCHESTER = "E08000003"
CANARY = "CANARY-Jv8m"
ORGANISATION = "Brightwater Residential Care Ltd"


def authority(code: str) -> LocalAuthority:
    found = authority_by_code(code)
    assert found is not None, code
    return found


def helpline_supervisor() -> User:
    return staff_user("stats-supervisor", role=User.Role.SUPERVISOR, email="stats-sup@helpline.test")


def new_case(code: str = ROTHERHAM, **overrides: Any) -> Case:
    values: dict[str, Any] = {
        "local_authority": authority(code),
        "summary": f"{CANARY} summary",
        "details": f"{CANARY} details",
        "organisation_name": ORGANISATION,
        "internal_response": f"{CANARY} internal response",
    }
    values.update(overrides)
    return report_route(report_id=submit_report(**values).report.pk)


def referred_case(code: str = ROTHERHAM, **overrides: Any) -> Case:
    case = new_case(code, **overrides)
    referral_services.case_refer(case=case, summary=f"{CANARY} referral summary", acting_user=helpline_supervisor())
    case.refresh_from_db()
    return case


def text(response: Any) -> str:
    return html.unescape(response.content.decode())


def csv_rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- reading the page and the CSV -----------------------------------------------------------------------


class _Tables(HTMLParser):
    """Every <table id=…> on a page: its rows as lists of cell texts, the heading row first."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = self.tables.setdefault(dict(attrs).get("id") or "", [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._table is not None and self._cell is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data.replace("\xa0", " "))


def page_tables(response: Any) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(response.content.decode())
    return parser.tables


def csv_sections(lines: list[list[str]]) -> dict[str, list[list[str]]]:
    """The CSV's sections (after the heading line), by their title: the rows under each, up to a blank."""
    sections: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in lines[1:]:
        if not line:
            current = None
        elif current is None:
            current = sections.setdefault(line[0], [])
        else:
            current.append(line)
    return sections

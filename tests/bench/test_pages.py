"""The triage list benchmark counts the cases on each page by parsing the case table (bench/pages.py), on
the portal's real pages: its regular expression had stopped matching the template, and every variant
reported 0 rows without complaint (issue 22.23). A page without rows where rows are expected stops it."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from bench import pages
from bench.list_page import Variant, case_rows
from tests.factories import signed_in_as
from tests.oversight.helpers import ROTHERHAM, new_case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


@pytest.fixture
def supervisor() -> Client:
    client, _ = signed_in_as(User.Role.SUPERVISOR)
    return client


def test_every_case_on_the_list_page_is_counted(supervisor: Client) -> None:
    cases = [new_case(ROTHERHAM) for _ in range(3)]
    page = supervisor.get("/staff/cases")
    assert page.status_code == 200

    assert case_rows(Variant("default", "/staff/cases"), page.content) == 3
    numbers = {
        href.removeprefix("/staff/cases/").split("#")[0]  # a possible duplicate also links to that part
        for row in pages.table_rows(page.content, "case-table")
        for href in row.links
    }
    assert numbers == {case.case_number for case in cases}


def test_a_list_that_should_show_cases_but_shows_none_stops_the_benchmark(supervisor: Client) -> None:
    new_case(ROTHERHAM)
    page = supervisor.get("/staff/cases", {"status": "closed"})
    assert page.status_code == 200
    assert "No cases match." in page.content.decode()

    with pytest.raises(pages.NoRows, match="closed"):
        case_rows(Variant("status=closed", "/staff/cases", {"status": "closed"}), page.content)
    assert case_rows(Variant("may be empty", "/staff/cases", rows_expected=False), page.content) == 0


def test_a_page_without_the_case_table_stops_the_benchmark(supervisor: Client) -> None:
    page = supervisor.get("/staff/")
    assert page.status_code == 200

    with pytest.raises(pages.NoTable, match="case-table"):
        case_rows(Variant("the wrong page", "/staff/cases"), page.content)


def test_rows_are_found_whatever_the_classes_and_cells_around_them() -> None:
    page = """
    <table data-testid="other"><tbody><tr><td><a href="/staff/cases/X">X</a></td></tr></tbody></table>
    <table class="new-class" data-testid="case-table">
      <thead><tr><th>Case</th></tr></thead>
      <tbody class="b">
        <tr data-x="1"><th scope="row"><span><a class="l" href="/staff/cases/2025-AAAAAA">2025-AAAAAA</a></span></th>
            <td>Urgent</td></tr>
        <tr><td><table data-testid="inner"><tbody><tr><td>nested</td></tr></tbody></table>
            <a href="/staff/cases/2025-BBBBBB">B</a></td></tr>
        <tr><td colspan="8">No cases match.</td></tr>
      </tbody>
    </table>"""

    assert pages.linked_rows(page, "case-table", "/staff/cases/") == 2
    first = pages.table_rows(page, "case-table")[0]
    assert first.cells == ["2025-AAAAAA", "Urgent"]

"""The national picture in the statistics (issue 24, point 2): totals of what the helpline recorded,
suppressed with the other tables, and the completeness of the record (the share of cases where each field
is known) per authority and for the whole scope, on the page, in the CSV and in the annual report. Nobody
outside the helpline sees a case's own values."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from oversight import selectors
from oversight.annual import annual_report
from oversight.periods import Measure, Period, publish_year
from oversight.selectors import NATIONAL, Scope
from tests.factories import facts_record, partnership_of_region, signed_in_as
from tests.oversight.helpers import ROTHERHAM, YORKSHIRE, authority, csv_rows, helpline_supervisor, new_case, text
from triage.models import Case

pytestmark = pytest.mark.django_db


def _cases_with_facts() -> list[Case]:
    """12 cases in Rotherham: 6 recorded (systemic failure, group-based, in taxis, 3 suspects each, 2 of
    them Pakistani and 1 whose ethnicity the organisation did not record), 6 with nothing recorded."""
    supervisor = helpline_supervisor()
    cases = [new_case(ROTHERHAM) for _ in range(12)]
    for case in cases[:6]:
        facts_record(
            case,
            supervisor,
            ofsted_class="systemic_failure",
            group_based="yes",
            settings=("taxis",),
            suspects=3,
            suspect_ethnicity={"asian_pakistani": 2, "not_recorded": 1},
        )
    selectors.stats_refresh()
    return cases


def _tables(scope: Scope) -> dict[str, Any]:
    year = Period(timezone.localdate().year)
    return {slug: table for slug, _, table in selectors.statistics_tables(scope, period=year)}


def _column(table: Any) -> dict[str, str]:
    return {label: cells[0] for label, cells, _ in table.rows()}


def test_the_tables_count_what_was_recorded_with_not_known_for_the_rest(local_authorities: None) -> None:
    _cases_with_facts()
    tables = _tables(NATIONAL)
    assert _column(tables["picture-ofsted"]) == {
        "A specific child at risk": "0",
        "A wider or systemic safeguarding failure": "6",
        "The quality of care or practice": "0",
        "A regulatory matter": "0",
        "Not known": "6",
    }
    assert _column(tables["picture-group-based"]) == {"Yes": "6", "No": "0", "Not known": "6"}
    assert _column(tables["picture-settings"])["Taxis and private hire"] == "6"
    circumstances = {label: cells for label, cells, _ in tables["picture-circumstances"].rows()}
    assert circumstances["Looked after"] == ["0", "0", "12"]
    ethnicity = _column(tables["picture-ethnicity"])
    assert ethnicity["Asian, Asian British or Asian Welsh: Pakistani"] == "12"
    assert ethnicity["Not recorded by the organisation"] == "6"
    assert ethnicity["Not known"] == "0"
    # No nationality was counted: all 18 suspects are of nationality not known.
    assert _column(tables["picture-nationality"])["Not known"] == "18"


def test_small_counts_are_suppressed_as_everywhere(local_authorities: None) -> None:
    supervisor = helpline_supervisor()
    cases = [new_case(ROTHERHAM) for _ in range(7)]
    facts_record(cases[0], supervisor, ofsted_class="regulatory", looked_after="yes")
    selectors.stats_refresh()
    tables = _tables(NATIONAL)
    ofsted = _column(tables["picture-ofsted"])
    assert ofsted["A regulatory matter"] == "fewer than 5"
    assert ofsted["Not known"] == "hidden"  # 6, hidden so that the 1 cannot be worked out from the 7
    assert "1" not in [cell for _, cells, _ in tables["picture-circumstances"].rows() for cell in cells]


def test_completeness_is_the_share_known_per_authority_and_for_the_scope(local_authorities: None) -> None:
    _cases_with_facts()
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    page = client.get("/staff/statistics")
    assert page.status_code == 200
    shown = page.context["shown"].table("completeness")
    assert shown.columns == [
        "Cases",
        "Ofsted's classification",
        "Group-based",
        "Settings",
        "Looked after",
        "Placed out of area",
        "Missing episodes",
        "Number of suspects",
        "Suspects' ethnicity",
        "Suspects' nationality",
    ]
    # Only Rotherham has cases: authorities with none are left out. Ethnicity is known for no case (each
    # has a suspect the organisation did not record), nationality for none.
    assert shown.rows == [("Rotherham", ["12", "50%", "50%", "50%", "0%", "0%", "0%", "50%", "0%", "0%"])]
    assert shown.total == ["12", "50%", "50%", "50%", "0%", "0%", "0%", "50%", "0%", "0%"]
    lines = csv_rows(client.get("/staff/statistics.csv"))
    start = lines.index([shown.title])
    assert lines[start + 2] == ["Rotherham", "12", "50%", "50%", "50%", "0%", "0%", "0%", "50%", "0%", "0%"]
    assert lines[start + 3][0] == "Total"


def test_a_partnership_sees_only_totals_and_no_case(local_authorities: None) -> None:
    cases = _cases_with_facts()
    client, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))
    page = client.get("/staff/statistics")
    assert page.status_code == 200
    body = text(page)
    assert "Cases by Ofsted's classification" in body
    assert page.context["shown"].table("completeness").total[1] == "50%"
    assert not any(case.case_number in body for case in cases)
    assert client.get(f"/staff/cases/{cases[0].case_number}").status_code == 403


def test_a_figure_two_tables_share_is_hidden_in_both() -> None:
    """Without the link between them, table B would print the 7 table A hides, and A's 2 would follow."""

    def measures() -> list[Measure]:
        empty = [[[0], [0], [0]]] * 3
        a = Measure("a", "A", ["x", "y", "z"], ["Cases"], [[[2], [7], [8]], *empty])
        b_empty = [[[0, 0], [0, 0]]] * 3
        b = Measure("b", "B", ["r1", "r2"], ["Known", "Not known"], [[[10, 7], [20, 0]], *b_empty])
        return [a, b]

    unlinked = publish_year(measures(), year=2025)
    assert unlinked[("a", Period(2025))].text(1, 0) == "hidden"
    assert unlinked[("b", Period(2025))].text(2, 1) == "7"  # what the test below must prevent
    linked = publish_year(measures(), year=2025, same_figures=((("a", 1, 0), ("b", -1, 1)),))
    assert linked[("a", Period(2025))].text(1, 0) == "hidden"
    assert linked[("b", Period(2025))].text(2, 1) != "7"
    assert (
        linked[
            (
                "b",
                Period(2025),
            )
        ].text(0, 1)
        != "7"
    )


def test_the_annual_report_gives_each_fields_completeness(local_authorities: None) -> None:
    _cases_with_facts()
    report = annual_report(timezone.localdate().year)
    section = dict(report.section_rows())["What is known about the cases (the share of cases where each is known)"]
    assert section == [
        ("Ofsted's classification", "50% (6 of 12 cases)"),
        ("Group-based", "50% (6 of 12 cases)"),
        ("Settings", "50% (6 of 12 cases)"),
        ("Looked after", "0% (0 of 12 cases)"),
        ("Placed out of area", "0% (0 of 12 cases)"),
        ("Missing episodes", "0% (0 of 12 cases)"),
        ("Number of suspects", "50% (6 of 12 cases)"),
        ("Suspects' ethnicity", "0% (0 of 12 cases)"),
        ("Suspects' nationality", "0% (0 of 12 cases)"),
    ]


def test_the_annual_report_hides_a_small_count_of_known_or_not_known(local_authorities: None) -> None:
    supervisor = helpline_supervisor()
    cases = [new_case(ROTHERHAM) for _ in range(8)]
    facts_record(cases[0], supervisor, suspects=2)
    report = annual_report(timezone.localdate().year)
    section = dict(report.section_rows())["What is known about the cases (the share of cases where each is known)"]
    assert dict(section)["Number of suspects"] == "known in fewer than 5 of 8 cases"
    assert authority(ROTHERHAM).name not in str(section)

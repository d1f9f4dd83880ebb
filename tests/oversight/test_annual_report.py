"""`manage.py annual_report --year YYYY`: the yearly report a prescribed person publishes, as CSV and HTML,
checked figure by figure on known data — national totals only, small counts as "fewer than 5", nothing
that names a worker, an employer, an authority or a case, and nothing from other years."""

from __future__ import annotations

import csv
import html
import io
import re
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from accounts.models import User
from directory.models import LocalAuthority
from oversight.published import SECTION
from referrals import services as authority_actions
from tests.factories import national_body, referral_of, reviewer
from tests.oversight.helpers import (
    CANARY,
    ORGANISATION,
)
from tests.oversight.known_year import EXPECTED, YEAR, at, figures
from triage import case_actions as actions
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def run(tmp_path: Path, year: int = YEAR) -> tuple[list[list[str]], str]:
    out = io.StringIO()
    call_command("annual_report", year=year, out=str(tmp_path), stdout=out)
    csv_path = tmp_path / f"annual-report-{year}.csv"
    html_path = tmp_path / f"annual-report-{year}.html"
    assert csv_path.exists() and html_path.exists()
    assert str(csv_path) in out.getvalue()
    rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8"))))
    return rows, html_path.read_text(encoding="utf-8")


def html_figures(page: str) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for section, body in re.findall(r"<h2>(.*?)</h2>(.*?)</table>", page, flags=re.S):
        for measure, count in re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', body):
            found[(html.unescape(section), html.unescape(measure))] = html.unescape(count)
    return found


def test_the_annual_report_gives_the_years_figures_in_csv_and_html(known_year: list[Case], tmp_path: Path) -> None:
    rows, page = run(tmp_path)

    in_csv, in_html = figures(rows), html_figures(page)
    for key, value in EXPECTED.items():
        assert in_csv.get(key) == value, key
        assert in_html.get(key) == value, key
    assert in_csv == in_html
    assert f"annual report {YEAR}" in page


def test_counts_of_5_or_more_are_given_exactly(known_year: list[Case], tmp_path: Path) -> None:
    """A section 47 enquiry on the still-open Sheffield referral makes five: shown exactly."""
    officer = User.objects.get(username="officer")
    with time_machine.travel(referral_of(known_year[5]).referred_at, tick=False) as traveller:
        traveller.shift(7200)
        authority_actions.referral_record_action(
            referral=referral_of(known_year[5]), kind="section_47", note="", acting_user=officer
        )

    in_csv = figures(run(tmp_path)[0])

    assert in_csv[("What local authorities did (cases)", "Section 47 enquiry")] == "5"


def test_the_annual_report_names_no_organisation_authority_reference_case_or_text(
    known_year: list[Case], tmp_path: Path
) -> None:
    rows, page = run(tmp_path)
    csv_text = "\n".join(",".join(r) for r in rows)
    forbidden = [CANARY, ORGANISATION, "Brightwater", *LocalAuthority.objects.values_list("name", flat=True)]
    for case in Case.objects.select_related("report"):
        forbidden += [case.case_number, case.report.reference]
    for body in (csv_text, html.unescape(page)):
        for value in forbidden:
            assert value not in body, value


def test_reports_from_other_years_are_not_counted(known_year: list[Case], tmp_path: Path) -> None:
    in_csv = figures(run(tmp_path, 2024)[0])
    assert in_csv[("Disclosures received", "Total")] == "fewer than 5"  # two in 2024
    assert in_csv[("Helpline outcomes", "Concern substantiated")] == "fewer than 5"
    empty = figures(run(tmp_path, 2023)[0])
    # Every count is 0; the published performance figures say there is none (a rate of nothing is no figure).
    assert {count for (section, _), count in empty.items() if section != SECTION} == {"0"}
    assert empty[(SECTION, "Anonymous share of reports")] == "No figure: no reports"
    assert empty[(SECTION, "Median days from report to closure")] == "No figure: no closed cases"


def test_a_hidden_count_cannot_be_worked_out_from_its_sections_total(known_year: list[Case], tmp_path: Path) -> None:
    """Closed and still open add up to the total received; the channels too. With 7 received, "Still
    open: fewer than 5" beside "Closed: 5" would give the open count away — so when exactly one of a set
    of counts adding up to a shown total is hidden, a second must be hidden too."""
    supervisor = User.objects.get(username="stats-supervisor")
    with time_machine.travel(at(12, 31), tick=False):
        actions.case_close(
            case=known_year[4], outcome="no_further_action", feedback="Thank you.", acting_user=supervisor
        )

    in_csv = figures(run(tmp_path)[0])

    done = "What was done"
    assert in_csv[("Disclosures received", "Total")] == "7"
    parts = [in_csv[(done, "Closed by the end of the year")], in_csv[(done, "Still open")]]
    assert parts[1] == "fewer than 5"
    assert parts[0] != "5", f"still open = 7 - 5 = 2, though shown as {parts[1]!r}"


def test_the_annual_report_counts_referrals_by_kind_of_recipient_and_body_referrals_as_no_authoritys(
    known_year: list[Case], tmp_path: Path
) -> None:
    """The concern about Manchester council sent for review (a reviewer acknowledges it) and a Sheffield case
    passed to the police: each counted by its kind of recipient, neither as referred to a local authority
    nor as what an authority did."""
    supervisor = User.objects.get(username="stats-supervisor")
    review = authority_actions.case_send_for_review(
        case=known_year[6], reason="About the council.", acting_user=supervisor
    )
    authority_actions.referral_acknowledge(referral=review, acting_user=reviewer())
    authority_actions.case_escalate_police(
        case=known_year[4], force=national_body("police-south-yorkshire"), how_sent="telephone", acting_user=supervisor
    )

    in_csv = figures(run(tmp_path)[0])

    by_recipient = "Referrals by kind of recipient (a case may be referred to several)"
    assert {measure: count for (section, measure), count in in_csv.items() if section == by_recipient} == {
        "Local authority": "6",
        "Independent national review": "fewer than 5",
        "Ofsted": "0",
        "Care Quality Commission": "0",
        "Police": "fewer than 5",
        "Child Safeguarding Practice Review Panel": "0",
    }
    assert in_csv[("What was done", "Referred to a local authority")] == "6"
    assert in_csv[("What local authorities did (cases)", "Acknowledged the referral")] == "6"
    assert ("What local authorities did (cases)", "Referred on") not in in_csv

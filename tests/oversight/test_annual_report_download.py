"""The annual report on disclosures, downloaded from the statistics page by national oversight: the very
files ``manage.py annual_report`` writes (the same code makes both), for the year of the period shown, and
to nobody else."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accounts.models import User
from oversight import selectors
from tests.factories import partnership_of_region, signed_in_as
from tests.oversight.helpers import ROTHERHAM, YORKSHIRE, csv_rows, referred_case, text
from tests.oversight.known_year import EXPECTED, YEAR, figures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]


def written_by_the_command(tmp_path: Path, year: int) -> dict[str, bytes]:
    call_command("annual_report", year=year, out=str(tmp_path), stdout=io.StringIO())
    return {ext: (tmp_path / f"annual-report-{year}.{ext}").read_bytes() for ext in ("csv", "html")}


@pytest.mark.parametrize("role", [User.Role.OVERSIGHT_ANALYST, User.Role.SUPERVISOR])
def test_national_oversight_downloads_the_files_the_command_writes(
    role: str,
    known_year: list[object],
    tmp_path: Path,
) -> None:
    selectors.stats_refresh()
    client, _ = signed_in_as(role)

    downloads = {ext: client.get(f"/staff/statistics/annual-report-{YEAR}.{ext}") for ext in ("csv", "html")}

    written = written_by_the_command(tmp_path, YEAR)
    for ext, response in downloads.items():
        assert response.status_code == 200, ext
        assert response["Content-Disposition"] == f'attachment; filename="annual-report-{YEAR}.{ext}"'
        assert response.content == written[ext], ext
    assert downloads["csv"]["Content-Type"] == "text/csv; charset=utf-8"
    assert downloads["html"]["Content-Type"] == "text/html; charset=utf-8"
    # The figures the command's own test checks, suppression included ("fewer than 5").
    in_csv = figures(csv_rows(downloads["csv"]))
    for key, value in EXPECTED.items():
        assert in_csv[key] == value, key


def test_the_statistics_page_offers_the_annual_report_for_the_year_of_the_period_shown(
    known_year: list[object],
) -> None:
    selectors.stats_refresh()
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    body = text(analyst.get("/staff/statistics", {"period": f"{YEAR}-Q3"}))

    assert f'href="/staff/statistics/annual-report-{YEAR}.csv" download>' in body
    assert f'href="/staff/statistics/annual-report-{YEAR}.html" download>' in body
    assert f"Download the annual report for {YEAR} (CSV)" in body
    assert "(the year so far)" not in body
    this_year = text(analyst.get("/staff/statistics"))
    assert f"annual-report-{timezone.localdate().year}.csv" in this_year
    assert "(the year so far)" in this_year


def test_the_report_for_this_year_says_it_is_the_year_so_far(tmp_path: Path) -> None:
    referred_case(ROTHERHAM)
    selectors.stats_refresh()
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    today = timezone.localdate()

    page = analyst.get(f"/staff/statistics/annual-report-{today.year}.html").content.decode()

    assert f"The year is not over: these are the figures up to {today.day} {today:%B %Y}." in page
    assert page.encode() == written_by_the_command(tmp_path, today.year)["html"]


def test_a_board_is_offered_no_annual_report_and_is_refused_one() -> None:
    referred_case(ROTHERHAM)
    selectors.stats_refresh()
    board, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))
    year = timezone.localdate().year

    assert "annual-report" not in board.get("/staff/statistics").content.decode()
    for ext in ("csv", "html"):
        assert board.get(f"/staff/statistics/annual-report-{year}.{ext}").status_code == 403


@pytest.mark.parametrize("role", [User.Role.CALL_HANDLER, User.Role.AUTHORITY_OFFICER, User.Role.ADMINISTRATOR])
def test_other_roles_are_refused_the_annual_report(role: str) -> None:
    client, _ = signed_in_as(role)
    year = timezone.localdate().year
    assert client.get(f"/staff/statistics/annual-report-{year}.csv").status_code == 403
    assert client.get("/staff/statistics/annual-report-1999.csv").status_code == 403  # before the year is looked at


def test_nobody_signed_in_is_sent_to_sign_in() -> None:
    response = Client().get(f"/staff/statistics/annual-report-{timezone.localdate().year}.csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/sign-in")


def test_only_get_is_allowed() -> None:
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    year = timezone.localdate().year
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(f"/staff/statistics/annual-report-{year}.csv").status_code == 405, method


@pytest.mark.parametrize(
    "path",
    [
        "annual-report-1999.csv",
        "annual-report-9999.html",
        "annual-report-{year}.pdf",
        "annual-report-{year}.CSV",
        "annual-report-{year}.csv.html",
        "annual-report-.csv",
    ],
)
def test_a_year_not_on_offer_or_another_format_is_not_found(path: str) -> None:
    referred_case(ROTHERHAM)
    selectors.stats_refresh()
    client, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)

    response = client.get("/staff/statistics/" + path.format(year=timezone.localdate().year))

    assert response.status_code == 404

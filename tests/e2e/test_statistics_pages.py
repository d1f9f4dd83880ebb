"""The board's and national oversight's statistics pages in Chromium at 1280 px, with axe: authorities with
no referrals named once instead of rows of zeros, one-column tables without a repeated "Total", the
national roll-up by region first, and the CSV and the annual report downloaded through their links.
Full-page screenshots go to /tmp/shots/ (statistics-board-1280.png, statistics-national-1280.png)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from oversight.selectors import stats_refresh
from referrals import services as referral_services
from referrals.models import Referral
from tests.e2e.axe import axe_check
from tests.e2e.staff import StaffVisit, signed_in_tab
from tests.factories import partnership_of_region, staff_user, staff_with_mfa, submit_report
from triage import case_actions as actions
from triage import intake
from triage.models import Case

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("authorities", "fast_kdf")]

NewContext = Callable[..., BrowserContext]
WIDTH = 1280
SHOTS = Path("/tmp/shots")
YORKSHIRE = "Yorkshire and The Humber"
NO_REFERRALS = "Authorities with no referrals in this period"


def referrals(code: str, count: int, *, late: bool = False) -> list[Case]:
    local_authority = authority_by_code(code)
    helper = staff_user(f"helper-{code}-{late}", role=User.Role.CALL_HANDLER)
    cases = []
    for _ in range(count):
        case = intake.report_route(report_id=submit_report(local_authority=local_authority).report.pk)
        referral_services.case_refer(case=case, summary="Summary.", acting_user=helper)
        cases.append(case)
    shift = F("ack_due_at") + timedelta(hours=1) if late else F("ack_due_at")
    Referral.objects.filter(case__in=[c.pk for c in cases]).update(acknowledged_at=shift)
    return cases


def figures() -> None:
    """Yorkshire: Rotherham 6 on time, Sheffield 6 on time and 1 late ("fewer than 5"); the North West:
    Manchester 7, Bolton 3. Five of Rotherham's closed as substantiated. The other 149 have none."""
    referrals("E08000018", 6)
    referrals("E08000039", 6)
    referrals("E08000039", 1, late=True)
    referrals("E08000003", 7)
    referrals("E08000001", 3)
    supervisor = staff_user("closer", role=User.Role.SUPERVISOR)
    for case in Case.objects.filter(authority__gss_code="E08000018")[:5]:
        actions.case_close(case=case, outcome="substantiated", feedback="Thank you.", acting_user=supervisor)
    stats_refresh()


def at_1280(visit: StaffVisit, path: str) -> Page:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = visit.page
    page.set_viewport_size({"width": WIDTH, "height": 900})
    visit.goto(path)  # axe, GOV.UK styling, no script errors, private headers
    page.evaluate("document.fonts.ready")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    for table in page.locator("main table").all():
        if table.get_attribute("id") == "completeness":
            # A share known for each of nine fields: wider than the page, it scrolls in its own focusable box.
            assert table.evaluate("t => t.parentElement.matches('.app-table-scroll[tabindex=\"0\"]')")
            continue
        assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth"), table.get_attribute("id")
    return page


def row_labels(page: Page, table: str) -> list[str]:
    return [label.strip() for label in page.locator(f"#{table} tbody th").all_inner_texts()]


def downloaded(page: Page, link: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    download = info.value
    path = download.path()
    assert path is not None
    return download.suggested_filename, Path(path).read_bytes()


def one_column_tables_say_their_figures_once(page: Page) -> None:
    for table in ("outcomes", "authority-outcomes"):
        headings = [h.strip() for h in page.locator(f"#{table} thead th").all_inner_texts()]
        assert headings == ["Closed cases" if table == "outcomes" else "Referrals"], (table, headings)
    substantiated = page.locator("#outcomes tbody tr", has_text="Concern substantiated").locator("td")
    expect(substantiated).to_have_count(1)
    expect(substantiated).to_have_text("5")


def test_the_boards_statistics_at_1280_px(
    new_context: NewContext, live_server: LiveServer, transactional_db: None
) -> None:
    figures()
    board, _ = staff_with_mfa("board", role=User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))
    visit = signed_in_tab(new_context, live_server, board)

    page = at_1280(visit, "/staff/statistics")

    for table in ("acknowledgements", "outcome-timeliness"):
        assert row_labels(page, table) == ["Rotherham", "Sheffield", "Total"], table
    none = sorted(
        LocalAuthority.objects.filter(region=YORKSHIRE)
        .exclude(name__in=["Rotherham", "Sheffield"])
        .values_list("name", flat=True)
    )
    listed = page.get_by_test_id("no-referrals")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"{NO_REFERRALS}: 13 authorities")
    listed.locator("summary").click()
    expect(listed).to_contain_text(", ".join(none))
    axe_check(page)  # with the details open
    main = page.get_by_role("main").inner_text()
    for name in none:  # "York" stands on its own, not inside "North Yorkshire"
        assert len(re.findall(rf"(?<![\w-]){re.escape(name)}(?![\w-])", main)) == 1, name
    one_column_tables_say_their_figures_once(page)
    assert page.locator("#acknowledgements-by-region").count() == 0
    assert page.get_by_test_id("annual-report").count() == 0
    page.screenshot(path=str(SHOTS / "statistics-board-1280.png"), full_page=True)

    name, content = downloaded(page, "Download these tables (CSV)")
    assert name == f"statistics-{timezone.localdate().year}.csv"
    lines = list(csv.reader(io.StringIO(content.decode())))
    for authority in none:
        assert sum(line.count(authority) for line in lines) == 1, authority
    assert ["Concern substantiated", "5"] in lines


def test_the_national_statistics_at_1280_px(
    new_context: NewContext, live_server: LiveServer, transactional_db: None, tmp_path: Path
) -> None:
    figures()
    analyst, _ = staff_with_mfa("analyst", role=User.Role.OVERSIGHT_ANALYST)
    visit = signed_in_tab(new_context, live_server, analyst)

    page = at_1280(visit, "/staff/statistics")

    regions = page.locator("#acknowledgements-by-region")
    expect(regions.locator("caption")).to_have_text("Acknowledgement of referrals, by region")
    assert len(row_labels(page, "acknowledgements-by-region")) == 10  # nine regions and the total
    yorkshire = regions.locator("tbody tr", has_text=YORKSHIRE).locator("td")
    expect(yorkshire).to_have_count(5)
    assert regions.bounding_box()["y"] < page.get_by_test_id("ack-chart").bounding_box()["y"]  # type: ignore[index]
    for table in ("acknowledgements", "outcome-timeliness"):
        assert row_labels(page, table) == ["Bolton", "Manchester", "Rotherham", "Sheffield", "Total"], table
    listed = page.get_by_test_id("no-referrals")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"{NO_REFERRALS}: 149 authorities")
    one_column_tables_say_their_figures_once(page)
    page.screenshot(path=str(SHOTS / "statistics-national-1280.png"), full_page=True)

    year = timezone.localdate().year
    call_command("annual_report", year=year, out=str(tmp_path), stdout=io.StringIO())
    for ext in ("CSV", "HTML"):
        name, content = downloaded(page, f"Download the annual report for {year} ({ext})")
        assert name == f"annual-report-{year}.{ext.lower()}"
        assert content == (tmp_path / name).read_bytes()

    page.set_viewport_size({"width": 375, "height": 800})
    axe_check(page)

    # The published performance figures, from the statistics page's link, at the same width.
    page.get_by_role("link", name=f"performance figures for {year}").click()
    expect(page.get_by_test_id("published-figures")).to_be_visible()
    expect(page.get_by_test_id("figure-substantiation").get_by_test_id("benchmark")).to_contain_text("46%")
    axe_check(page)

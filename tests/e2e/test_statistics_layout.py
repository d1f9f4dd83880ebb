"""The national statistics page at 1280 px: nothing overflows sideways, "fewer than 5" stays on one line,
and the chart is in GOV.UK's typeface with one row per authority that has a figure."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.db.models import F
from django.test import Client
from playwright.sync_api import BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from directory.lookup import authority_by_code
from oversight.selectors import stats_refresh
from referrals import services as referral_services
from referrals.models import Referral
from tests.factories import sign_in, staff_user, staff_with_mfa, submit_report
from triage import intake

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("authorities", "fast_kdf")]

NewContext = Callable[..., BrowserContext]
WIDTH = 1280


def referrals_acknowledged(code: str, count: int) -> None:
    local_authority = authority_by_code(code)
    helper = staff_user(f"helper-{code}", role=User.Role.CALL_HANDLER)
    for _ in range(count):
        case = intake.report_route(report_id=submit_report(local_authority=local_authority).report.pk)
        referral_services.case_refer(case=case, summary="Summary.", acting_user=helper)
    Referral.objects.filter(authority=local_authority).update(acknowledged_at=F("ack_due_at"))


def test_the_national_statistics_fit_1280_px_with_fewer_than_5_on_one_line(
    new_context: NewContext, live_server: LiveServer, transactional_db: None
) -> None:
    referrals_acknowledged("E08000003", 7)  # Manchester: shown
    referrals_acknowledged("E08000018", 6)  # Rotherham: hidden, so that Sheffield's cannot be worked out
    referrals_acknowledged("E08000039", 2)  # Sheffield: "fewer than 5"
    stats_refresh()
    analyst, _ = staff_with_mfa("analyst", role=User.Role.OVERSIGHT_ANALYST)
    client = Client()
    sign_in(client, analyst)
    context = new_context()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    page = context.new_page()
    page.set_viewport_size({"width": WIDTH, "height": 900})

    page.goto("/staff/statistics")
    page.evaluate("document.fonts.ready")

    expect(page.locator("#acknowledgements")).to_contain_text("Rotherham")
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    for table in page.locator("main table").all():
        # The last column is "Total", unless the table has one column (not repeated as a "Total") or is the
        # completeness table (a share known for each field: no total adds them up).
        headings = [heading.strip() for heading in table.locator("thead th").all_inner_texts()]
        completeness = table.get_attribute("id") == "completeness"
        assert headings[-1] == "Total" or len(headings) == 1 or completeness, (table.get_attribute("id"), headings)
        if completeness:
            # Nine fields and the cases: wider than the page, so it scrolls in its own focusable box.
            assert table.evaluate("t => t.parentElement.matches('.app-table-scroll[tabindex=\"0\"]')")
            continue
        total = table.locator("thead th").last
        box = total.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, (table.get_attribute("id"), box)
        assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth"), table.get_attribute("id")

    fewer = page.locator("#acknowledgements [data-suppressed=fewer]")
    assert fewer.count() >= 1
    for figure in fewer.all():
        assert figure.inner_text().replace("\xa0", " ") == "fewer than 5"
        lines = figure.evaluate(
            """span => {
                const style = getComputedStyle(span);
                return {rects: span.getClientRects().length, height: span.getBoundingClientRect().height,
                        line: parseFloat(style.lineHeight)};
            }"""
        )
        assert lines["rects"] == 1, lines
        assert lines["height"] <= lines["line"] + 1, lines

    chart = page.get_by_test_id("ack-chart")
    labels = chart.locator("css=g > text")
    assert labels.all_text_contents() == ["Manchester", "100%"]
    font = labels.first.evaluate("t => [getComputedStyle(t).fontFamily, getComputedStyle(t).fontSize]")
    assert font[0].startswith('"GDS Transport"'), font
    assert font[1] == "16px", font
    assert chart.bounding_box()["height"] < 100  # type: ignore[index]
    # Not drawn: Rotherham and Sheffield, whose figures are hidden, said once under the chart; the other
    # 150 have no referrals and are named once, for the chart and the tables by authority alike.
    no_figure = page.get_by_test_id("no-figure")
    assert no_figure.count() == 1
    expect(no_figure).to_contain_text(
        "figures are hidden so that small counts cannot be worked out: Rotherham, Sheffield."
    )
    no_referrals = page.get_by_test_id("no-referrals")
    assert no_referrals.count() == 1
    expect(no_referrals).to_contain_text("Authorities with no referrals in this period: 150 authorities")
    main = page.get_by_role("main").inner_text()
    assert main.count("Not drawn") == 1
    assert main.count("Authorities with no referrals in this period") == 1

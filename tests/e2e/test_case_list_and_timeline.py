"""The helpline's case list and case timeline in Chromium (issue 14, points 2 and 3): statuses in words, the
new columns, the total, "Assigned to me", search by organisation; views counted in "Who has opened this
case" and kept out of the timeline, and the timeline filtered by kind. axe runs on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from tests.e2e.staff import NewContext, main, signed_in_tab
from tests.factories import staff_with_mfa, submit_report
from triage import case_actions
from triage.intake import report_route

pytestmark = pytest.mark.e2e


def test_the_case_list_in_words_with_its_total_my_cases_and_organisation_search(
    new_context: NewContext, live_server: LiveServer, fast_kdf: None
) -> None:
    handler, _ = staff_with_mfa("handler", role=User.Role.CALL_HANDLER)
    oakwood = report_route(report_id=submit_report(organisation_name="Oakwood Academy").report.pk)
    mine = report_route(report_id=submit_report(organisation_name="Elm Park School").report.pk)
    report_route(report_id=submit_report(organisation_name="Elm Park School").report.pk)
    case_actions.case_claim(case=mine, acting_user=handler)

    visit = signed_in_tab(new_context, live_server, handler)
    page = visit.page
    visit.goto("/staff/cases")
    table = page.get_by_test_id("case-table")
    for header in ("Status", "Concern types", "Age", "Due"):
        expect(table.get_by_role("columnheader", name=header, exact=True)).to_be_visible()
    expect(page.get_by_test_id("case-total")).to_contain_text("3 cases")
    statuses = table.get_by_test_id("row-status").all_inner_texts()
    assert sorted(statuses) == ["In triage", "New", "New"], statuses

    with page.expect_navigation():
        page.get_by_test_id("assigned-to-me").click()
    visit.check()
    expect(page.get_by_test_id("case-total")).to_contain_text("1 case")
    expect(table.get_by_role("link", name=mine.case_number)).to_be_visible()

    visit.goto("/staff/cases")
    main(page).get_by_label("Reference, case number or organisation").fill("oakwood academy")
    visit.submit("Apply")
    expect(page.get_by_test_id("case-total")).to_contain_text("1 case")
    expect(table.get_by_role("link", name=oakwood.case_number)).to_be_visible()


def test_views_are_counted_apart_from_the_timeline_which_filters_by_kind(
    new_context: NewContext, live_server: LiveServer, fast_kdf: None
) -> None:
    supervisor, _ = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    case = report_route(report_id=submit_report().report.pk)
    case_actions.case_claim(case=case, acting_user=supervisor)
    case_actions.case_add_note(case=case, body="Called the school.", acting_user=supervisor)

    visit = signed_in_tab(new_context, live_server, supervisor)
    page = visit.page
    for _ in range(5):
        visit.goto(f"/staff/cases/{case.case_number}")
    timeline = page.locator("ol.app-timeline li strong")
    assert "Case opened" not in timeline.all_inner_texts()
    history = page.get_by_test_id("access-history")
    expect(history.get_by_role("row").filter(has_text="supervisor")).to_contain_text("5")

    page.get_by_test_id("timeline-filter").get_by_label("Show").select_option(label="Internal note added")
    visit.press(page.get_by_role("button", name="Filter the timeline"))
    assert timeline.all_inner_texts() == ["Internal note added"]


def test_wide_tables_scroll_in_their_own_box_on_a_phone(
    new_context: NewContext, live_server: LiveServer, fast_kdf: None
) -> None:
    """At 375 px the case list and the helpline home keep the page its own width: each wide table scrolls
    inside a focusable box (axe checks the box is reachable by keyboard)."""
    supervisor, _ = staff_with_mfa("narrow-supervisor", role=User.Role.SUPERVISOR)
    report_route(
        report_id=submit_report(organisation_name="Northside Children's Home and Residential School").report.pk
    )
    visit = signed_in_tab(new_context, live_server, supervisor)
    page = visit.page
    page.set_viewport_size({"width": 375, "height": 800})
    for path in ("/staff/", "/staff/cases"):
        visit.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
    box = page.get_by_role("region", name="Cases (scrolls sideways on a narrow screen)")
    expect(box).to_have_attribute("tabindex", "0")
    assert box.evaluate("element => element.scrollWidth > element.clientWidth")
    page.screenshot(path="/tmp/shots/case-list-375.png", full_page=True)

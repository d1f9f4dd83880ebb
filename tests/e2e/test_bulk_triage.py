"""Bulk triage in Chromium (issue 28): a supervisor ticks cases in the list with the keyboard, closes them with
an outcome and the feedback, checks the count on the confirmation page and sees the result; a case already
closed is left as it is and said so. axe runs on every page (StaffVisit.check); the list and the
confirmation page are screenshotted to /tmp/bulk-*.png for review."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from tests.e2e.staff import NewContext, main, signed_in_tab
from tests.factories import case_closed, routed_case, staff_with_mfa
from triage.models import Case

pytestmark = pytest.mark.e2e


def test_a_supervisor_closes_cases_in_bulk_with_the_keyboard(
    new_context: NewContext, live_server: LiveServer, fast_kdf: None, authorities: None
) -> None:
    supervisor, _ = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    cases = [routed_case() for _ in range(4)]
    closed = cases[2]

    visit = signed_in_tab(new_context, live_server, supervisor)
    page = visit.page
    visit.goto("/staff/cases")
    # Possible duplicates (the same organisation, authority and concern types this week) are marked in the list.
    expect(page.get_by_test_id("row-possible-duplicate").first).to_be_visible()
    page.screenshot(path="/tmp/bulk-list.png", full_page=True)
    # Ticked with the keyboard: each checkbox is a labelled control reached by Tab and ticked with Space.
    for case in cases[:2]:
        box = page.get_by_label(f"Select case {case.case_number}")
        box.focus()
        page.keyboard.press("Space")
        expect(box).to_be_checked()
    page.get_by_label(f"Select case {closed.case_number}").check()
    visit.press(page.get_by_test_id("bulk-close"))
    expect(page.get_by_test_id("bulk-count")).to_have_text("3 cases selected.")
    # Meanwhile someone closes one of them from its own page.
    case_closed(closed, supervisor)

    # Bad input first: the GOV.UK error summary, never a 500.
    visit.press(page.get_by_test_id("bulk-continue"), status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose an outcome")
    form = main(page)
    form.get_by_label("Outcome").select_option("duplicate")
    form.get_by_label("Feedback for the reporter").fill("We had several reports about this and acted on them.")
    form.get_by_label("Yes, close these cases. Each reporter will read the feedback.").check()
    visit.press(page.get_by_test_id("bulk-continue"))
    expect(page.get_by_test_id("bulk-will-change")).to_have_text("2")
    expect(page.get_by_test_id("bulk-left-alone")).to_contain_text(closed.case_number)
    expect(page.get_by_test_id("bulk-apply")).to_have_text("Close 2 cases")
    page.screenshot(path="/tmp/bulk-confirm.png", full_page=True)
    assert Case.objects.filter(status=Case.Status.CLOSED).count() == 1  # nothing changed before confirming

    page.get_by_test_id("bulk-apply").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    visit.check()
    expect(page.get_by_test_id("bulk-done")).to_contain_text("2 cases changed")
    expect(page.get_by_test_id("bulk-refused")).to_contain_text(closed.case_number)
    assert set(Case.objects.filter(status=Case.Status.CLOSED).values_list("pk", flat=True)) == {
        cases[0].pk,
        cases[1].pk,
        closed.pk,
    }
    page.screenshot(path="/tmp/bulk-done.png", full_page=True)

    # Select all matching the filter: confirmed with the count.
    visit.goto("/staff/cases")
    page.get_by_label("Select all 1 case matching this filter").check()
    visit.press(page.get_by_test_id("bulk-set_priority"))
    expect(page.get_by_test_id("bulk-count")).to_have_text("All 1 case matching the filter is selected.")

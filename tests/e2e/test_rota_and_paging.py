"""The on-call rota and an urgent page in the browser (issue 28): a supervisor adds a shift on /staff/rota (a
mistake first, shown by a GOV.UK error summary), and a call handler answers a page with "I'm dealing with it".
Each page passes the workspace's checks, axe included."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from rota.models import Shift
from tests.e2e.staff import NewContext, main, signed_in_tab
from tests.factories import page_waiting, routed_case, staff_user, staff_with_mfa
from triage.models import Page

pytestmark = pytest.mark.e2e


def test_a_supervisor_keeps_the_rota_and_a_handler_answers_a_page(
    new_context: NewContext, live_server: LiveServer, fast_kdf: None
) -> None:
    supervisor, _ = staff_with_mfa("rota-e2e-supervisor", role=User.Role.SUPERVISOR)
    staff_user("rota-e2e-handler", role=User.Role.CALL_HANDLER)
    visit = signed_in_tab(new_context, live_server, supervisor)
    page = visit.page
    visit.goto("/staff/rota")
    expect(main(page).get_by_test_id("gaps-table")).to_be_visible()
    visit.press(page.get_by_test_id("add-shift"))
    day = timezone.localdate() + timedelta(days=1)
    after = day + timedelta(days=1)
    page.get_by_label("Who is on call").select_option("rota-e2e-handler")
    page.get_by_label("Primary", exact=True).check()
    for prefix, when in (("starts_day", day), ("ends_day", after)):
        page.locator(f'[name="{prefix}-day"]').fill(str(when.day))
        page.locator(f'[name="{prefix}-month"]').fill(str(when.month))
        page.locator(f'[name="{prefix}-year"]').fill(str(when.year))
    page.get_by_label("Starts at").fill("20:00")
    page.get_by_label("Ends at").fill("08:00")
    page.get_by_label("Mobile number for pages").fill("0114 273 4855")  # a landline: refused
    visit.press(page.get_by_test_id("save-shift"), status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a UK mobile number")
    expect(page.get_by_label("Starts at")).to_have_value("20:00")
    page.get_by_label("Mobile number for pages").fill("07700 900123")
    visit.press(page.get_by_test_id("save-shift"))
    assert visit.path() == "/staff/rota"
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Shift added to the rota")
    expect(page.get_by_test_id("shift-row")).to_contain_text("rota-e2e-handler")
    assert Shift.objects.get().phone == "07700 900123"

    handler, _ = staff_with_mfa("page-e2e-handler", role=User.Role.CALL_HANDLER)
    case = routed_case(child_at_immediate_risk=True)
    page_waiting(case)
    tab = signed_in_tab(new_context, live_server, handler)
    tab.goto(f"/staff/cases/{case.case_number}")
    expect(tab.page.get_by_test_id("pages-waiting")).to_contain_text("Primary on call")
    tab.press(tab.page.get_by_test_id("acknowledge-page"))
    expect(tab.page.get_by_test_id("notification-banner")).to_contain_text("You are dealing with it")
    expect(tab.page.get_by_test_id("pages-waiting")).to_have_count(0)
    assert Page.objects.get(case=case).acknowledged_by == handler

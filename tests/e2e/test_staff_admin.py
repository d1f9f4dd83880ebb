"""Staff administration in a real browser: an administrator invites an authority officer (a refused form first),
changes a role and scope, asks for an MFA reset that a second administrator approves, and disables an account
after confirming. Every page, its error and notification states included, passes axe."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.test import Client
from playwright.sync_api import BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import SealedTOTPDevice, User
from tests.e2e.staff import main, signed_in_tab
from tests.factories import staff_user, staff_with_mfa

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
ROTHERHAM = "E08000018"


def test_administrators_invite_change_reset_mfa_with_approval_and_disable(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None
) -> None:
    first, _ = staff_with_mfa("admin-a", role=User.Role.ADMINISTRATOR)
    second, _ = staff_with_mfa("admin-b", role=User.Role.ADMINISTRATOR)
    supervisor, _ = staff_with_mfa("lost-phone", role=User.Role.SUPERVISOR)
    staff_user("handler", role=User.Role.CALL_HANDLER)
    visit = signed_in_tab(new_context, live_server, first)
    page = visit.page

    visit.goto("/staff/admin/staff")
    expect(page.get_by_role("link", name="Staff", exact=True)).to_have_attribute("aria-current", "page")
    expect(page.get_by_test_id("staff-lost-phone")).to_contain_text("All helpline cases")
    page.get_by_label("Role").select_option("call_handler")
    visit.submit("Show staff with this role")
    expect(page.get_by_test_id("staff").locator("tbody tr")).to_have_count(1)

    # --- invite: a refused form comes back by redirect with its errors, then the link is shown once --------
    visit.submit("Invite a member of staff")  # a link styled as a GOV.UK button
    form = main(page).locator("form")
    form.get_by_label("Username").fill("new-officer")
    form.get_by_role("radio", name="Local authority officer").check()
    visit.submit("Create invitation", status=400)
    assert visit.path() == "/staff/admin/staff/invite"
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter their work email address")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter at least one authority")
    expect(form.get_by_label("Username")).to_have_value("new-officer")
    form.get_by_label("Work email address").fill("officer@rotherham.gov.test")
    form.get_by_label("Authorities (local authority officers only)").fill("Rotherham")
    visit.submit("Create invitation")
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Invitation created for new-officer")
    expect(page.get_by_test_id("enrolment-code")).to_be_visible()
    link = page.get_by_test_id("invitation-link").text_content() or ""
    assert Client().get(urlsplit(link).path).status_code == 200
    visit.goto(visit.path())
    expect(page.get_by_test_id("invitation-gone")).to_be_visible()

    # --- a safeguarding partnership of two authorities ------------------------------------------------------
    visit.goto("/staff/admin/partnerships")
    visit.submit("Set up a safeguarding partnership")  # a link styled as a GOV.UK button
    page.get_by_label("Name").fill("Pan-Dorset Safeguarding Children Partnership")
    page.get_by_label("Authorities it covers").fill("Bournemouth, Christchurch and Poole\nAtlantis")
    visit.submit("Save safeguarding partnership", status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is no authority called Atlantis")
    page.get_by_label("Authorities it covers").fill("Bournemouth, Christchurch and Poole\nDorset Council")
    visit.submit("Save safeguarding partnership")
    expect(page.get_by_test_id("partnerships")).to_contain_text("Bournemouth, Christchurch and Poole; Dorset Council")

    # --- change a role and scope -------------------------------------------------------------------------
    handler = User.objects.get(username="handler")
    visit.goto(f"/staff/admin/staff/{handler.pk}")
    expect(page.get_by_role("link", name="Staff", exact=True)).to_have_attribute("aria-current", "true")
    visit.follow("Change role and scope")
    page.get_by_role("radio", name="Safeguarding partnership").check()
    visit.submit("Change role and scope", status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select the safeguarding partnership")
    page.get_by_label("Safeguarding partnership (partnership members only)").select_option(
        "Pan-Dorset Safeguarding Children Partnership"
    )
    visit.submit("Change role and scope")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the new role and scope")
    visit.submit("Confirm the new role and scope")
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Role and scope changed for handler")
    expect(main(page)).to_contain_text("Pan-Dorset Safeguarding Children Partnership")

    # --- an MFA reset: asked by one administrator, approved by another -----------------------------------
    visit.goto(f"/staff/admin/staff/{supervisor.pk}")
    visit.follow("Request an MFA reset")
    visit.submit("Request MFA reset", status=400)
    page.get_by_label("Why does their second factor need resetting?").fill("Phone lost on the train")
    visit.submit("Request MFA reset")
    expect(page.get_by_test_id("pending-reset")).to_contain_text("Phone lost on the train")
    expect(page.get_by_role("button", name="Approve MFA reset")).to_have_count(0)

    approver = signed_in_tab(new_context, live_server, second)
    approver.goto("/staff/admin/staff")
    expect(approver.page.get_by_test_id("pending-resets")).to_contain_text("lost-phone")
    approver.goto(f"/staff/admin/staff/{supervisor.pk}")
    approver.submit("Approve MFA reset")
    expect(approver.page.get_by_test_id("notification-banner")).to_contain_text("MFA reset for lost-phone approved")
    expect(approver.page.get_by_test_id("invitation-link")).to_contain_text("/staff/invitation/")
    assert not SealedTOTPDevice.objects.filter(user=supervisor).exists()

    # --- disable, after confirming -------------------------------------------------------------------------
    visit.goto(f"/staff/admin/staff/{second.pk}")
    visit.follow("Disable")
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to disable this account?")
    visit.submit("Disable admin-b")
    expect(page.get_by_test_id("notification-banner")).to_contain_text("admin-b is disabled")
    expect(page.get_by_test_id("status")).to_have_text("Disabled")
    approver.page.reload()
    assert approver.path() == "/staff/sign-in"  # their session ended

    # The administrator's own account offers no way to disable it.
    visit.goto(f"/staff/admin/staff/{first.pk}/disable")
    expect(page.get_by_role("button", name="Disable admin-a")).to_have_count(0)

    # --- the authority inbox, post/redirect/get with a banner -------------------------------------------
    visit.goto(f"/staff/admin/authorities/{ROTHERHAM}")
    page.get_by_label("Referral inbox").fill("not an address")
    visit.submit("Save contact details", status=400)
    assert visit.path() == f"/staff/admin/authorities/{ROTHERHAM}"
    page.get_by_label("Referral inbox").fill("referrals@rotherham.gov.test")
    visit.submit("Save contact details")
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Referral inbox for Rotherham set to")

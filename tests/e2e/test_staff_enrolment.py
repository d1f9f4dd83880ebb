"""Issue 22 in a real browser: a new member of staff enrols in two steps (the enrolment code and a password, then
the authenticator app from a key beside a QR code drawn on the server), a refused step keeping what is safe (a
link without its code enrols nobody: issue 23); administrators revoke and
re-issue invitations, confirm a scope change, ask for a disabled account to be enabled again and see what waits
for their approval on their landing page; signing out is confirmed. axe runs on every page, at 1280 and 375 px,
and each state is photographed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import BrowserContext, FloatRect, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts import administration, services
from accounts.models import SealedTOTPDevice, User
from directory.models import LocalAuthority
from tests.e2e.staff import StaffVisit, main, signed_in_tab
from tests.factories import staff_user, staff_with_mfa

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
WIDTHS = (1280, 375)
PASSWORD = "three random words here"


def shoot(visit: StaffVisit, screens: Path, name: str) -> None:
    """The page at each width, checked by axe at each (the layout changes under 641 px)."""
    for width in WIDTHS:
        visit.page.set_viewport_size({"width": width, "height": 900})
        visit.check()
        visit.screenshot(screens, f"enrolment-{name}-{width}")
    visit.page.set_viewport_size({"width": 1280, "height": 900})


def enrolment_code(user: User) -> str:
    device = SealedTOTPDevice.objects.get(user=user, confirmed=False)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def box(page: Page, test_id: str) -> FloatRect:
    found = page.get_by_test_id(test_id).bounding_box()
    assert found is not None, test_id
    return found


def test_a_new_member_of_staff_enrols_in_two_steps_with_a_qr_code_beside_the_key(
    new_context: NewContext, live_server: LiveServer, screens: Path
) -> None:
    issued = services.staff_invite(
        username="new-handler", email="n@helpline.test", role="call_handler", acting_user=None
    )
    user = issued.invitation.user
    link = urlsplit(issued.link).path
    visit = StaffVisit(new_context().new_page(), base_url=live_server.url)
    page = visit.page

    # --- step 1: the enrolment code and the password; a refused one comes back with its errors, never with what
    # was typed; the link alone (a mailbox) is not enough ---------------------------------------------------------
    visit.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your enrolment code and create a password")
    shoot(visit, screens, "1-password")
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Enter the password again").fill(PASSWORD)
    visit.submit("Continue", status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the enrolment code your administrator gave you")
    page.get_by_label("Enrolment code").fill("ACDE-FGHJ" if issued.enrolment_code != "ACDE-FGHJ" else "ACDE-FGHK")
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Enter the password again").fill(PASSWORD)
    visit.submit("Continue", status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("The enrolment code is wrong")
    expect(page.get_by_label("Enrolment code")).to_have_value("")
    shoot(visit, screens, "1-code-refused")
    page.get_by_label("Enrolment code").fill(issued.enrolment_code)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Enter the password again").fill("something else")
    visit.submit("Continue", status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("The passwords do not match")
    expect(page.get_by_label("Create a password")).to_have_value("")
    shoot(visit, screens, "1-password-refused")
    page.get_by_label("Enrolment code").fill(issued.enrolment_code)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_label("Enter the password again").fill(PASSWORD)
    visit.submit("Continue")
    assert visit.path() == f"{link}/authenticator"

    # --- step 2: the key beside its QR code (side by side on a wide screen, one above the other on a phone) ----
    expect(page.get_by_role("heading", level=1)).to_have_text("Add your authenticator app")
    qr = page.get_by_role("img", name="QR code of your authenticator app's key")
    expect(qr).to_be_visible()
    assert page.locator("[data-testid=totp-qr] svg").count() == 1
    key, code = box(page, "totp-secret"), box(page, "totp-qr")
    assert code["x"] > key["x"] + key["width"] and abs(code["y"] - key["y"]) < 80, (key, code)
    shoot(visit, screens, "2-authenticator")
    page.set_viewport_size({"width": 375, "height": 900})
    key, code = box(page, "totp-secret"), box(page, "totp-qr")
    assert code["y"] > key["y"] and code["x"] + code["width"] <= 375, (key, code)
    page.set_viewport_size({"width": 1280, "height": 900})

    # A wrong code comes back to step 2 alone: the password is kept, and nothing asks for it again.
    page.get_by_label("Security code from your authenticator app").fill("000000")
    visit.submit("Set up my account", status=400)
    assert visit.path() == f"{link}/authenticator"
    expect(page.locator(".govuk-error-summary")).to_contain_text("The security code is wrong")
    expect(page.locator("input[type=password]")).to_have_count(0)
    expect(page.get_by_test_id("password-kept")).to_be_visible()
    shoot(visit, screens, "2-authenticator-refused")
    time.sleep(1.2)  # django-otp refuses any code for a second after a wrong one
    page.get_by_label("Security code from your authenticator app").fill(enrolment_code(user))
    visit.submit("Set up my account")
    assert visit.path() == "/staff/recovery-codes"
    expect(page.get_by_test_id("recovery-code")).to_have_count(services.RECOVERY_CODES)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)

    # --- signing out is confirmed, once ------------------------------------------------------------------------
    visit.goto("/staff/")
    visit.submit("Sign out new-handler")
    assert visit.path() == "/staff/signed-out"
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed out")
    shoot(visit, screens, "3-signed-out")
    visit.goto("/staff/signed-out")
    assert visit.path() == "/staff/sign-in"


def test_administrators_revoke_re_issue_confirm_a_scope_enable_again_and_see_what_waits(
    new_context: NewContext, live_server: LiveServer, authorities: None, screens: Path
) -> None:
    first, _ = staff_with_mfa("admin-a", role=User.Role.ADMINISTRATOR)
    second, _ = staff_with_mfa("admin-b", role=User.Role.ADMINISTRATOR)
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set(LocalAuthority.objects.filter(gss_code="E08000018"))
    leaver = staff_user("leaver", role=User.Role.CALL_HANDLER, is_active=False)
    invited = services.staff_invite(username="invitee", email="i@helpline.test", role="supervisor", acting_user=first)
    visit = signed_in_tab(new_context, live_server, first)
    page = visit.page

    # --- revoke, after confirming; then re-issue, after confirming: the new link shown once -----------------
    invitee = invited.invitation.user
    visit.goto(f"/staff/admin/staff/{invitee.pk}")
    expect(page.get_by_test_id("invitation-state")).to_contain_text("Waiting to be used")
    shoot(visit, screens, "admin-1-invitation-waiting")
    visit.follow("Revoke the invitation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Are you sure you want to revoke this invitation?")
    shoot(visit, screens, "admin-2-revoke")
    visit.submit("Revoke the invitation")
    expect(page.get_by_test_id("notification-banner")).to_contain_text("invitation is revoked")
    expect(page.get_by_test_id("invitation-state")).to_contain_text("Revoked on")
    visit.follow("Re-issue the invitation")
    shoot(visit, screens, "admin-3-reissue")
    visit.submit("Re-issue the invitation")
    expect(page.get_by_test_id("enrolment-code")).to_have_text(re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$"))
    expect(page.get_by_test_id("invitation-link")).to_contain_text("/staff/invitation/")
    shoot(visit, screens, "admin-4-reissued")

    # --- a scope change is confirmed on a page of its own -------------------------------------------------------
    visit.goto(f"/staff/admin/staff/{officer.pk}")
    visit.follow("Change role and scope")
    main(page).get_by_label("Authorities (local authority officers only)").fill("Rotherham\nSheffield")
    visit.submit("Change role and scope")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm the new role and scope")
    expect(page.get_by_test_id("scope-after")).to_have_text("Rotherham, Sheffield")
    shoot(visit, screens, "admin-5-scope-confirm")
    visit.submit("Confirm the new role and scope")
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Role and scope changed for officer")

    # --- a disabled account: enabling it again is asked by one administrator ... -----------------------------
    visit.goto(f"/staff/admin/staff/{leaver.pk}")
    visit.follow("Enable again")
    shoot(visit, screens, "admin-6-enable")
    page.get_by_label("Why should this account be enabled again?").fill("Back from secondment")
    visit.submit("Ask to enable the account")
    expect(page.get_by_test_id("pending-reset")).to_contain_text("Back from secondment")
    administration.mfa_reset_request(user=officer, reason="Phone replaced", acting_user=first)

    # --- ... and waits for the other on their landing page, the staff page and the account page ---------------
    approver = signed_in_tab(new_context, live_server, second)
    approver.goto("/staff/")
    assert approver.path() == "/staff/admin/authorities"
    banner = approver.page.get_by_test_id("approvals-waiting")
    expect(banner).to_contain_text("2 requests from another administrator need your approval")
    shoot(approver, screens, "admin-7-landing-waiting")
    approver.goto("/staff/admin/staff")
    expect(approver.page.get_by_test_id("pending-resets")).to_contain_text("leaver")
    shoot(approver, screens, "admin-8-staff-waiting")
    approver.goto(f"/staff/admin/staff/{leaver.pk}")
    shoot(approver, screens, "admin-9-enable-approve")
    approver.submit("Approve and enable leaver")
    expect(approver.page.get_by_test_id("notification-banner")).to_contain_text("enabled again")
    expect(approver.page.get_by_test_id("invitation-link")).to_contain_text("/staff/invitation/")
    leaver.refresh_from_db()
    assert leaver.is_active
    # That invitation came from two administrators: the account page says how to replace it, and offers no
    # re-issue by one.
    approver.goto(f"/staff/admin/staff/{leaver.pk}")
    expect(approver.page.get_by_test_id("reissue-problem")).to_contain_text("two administrators")
    expect(approver.page.get_by_role("link", name="Re-issue the invitation")).to_have_count(0)
    shoot(approver, screens, "admin-10-two-person-invitation")

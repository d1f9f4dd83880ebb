"""Issue 22 in a real browser: referring a case to an authority no email reaches (Sheffield has no referral
inbox and no officer) says so before the referral, asks how the helpline will tell it, and the banner says
no email was sent; the officer's referral page has where, the risk, the organisation and the helpline's
phone. Screenshots at 1280 px: /tmp/shots/refer-form.png, refer-done.png, refer-authority-page.png."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from directory.lookup import authority_by_code
from reports.models import Anonymity
from reports.services import Contact
from tests.e2e.staff import main, signed_in_tab
from tests.factories import staff_with_mfa, submit_report
from triage.intake import report_route
from triage.notifications import case_emails

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
SHEFFIELD = "E08000039"
SHOTS = Path("/tmp/shots")


def test_a_referral_to_an_authority_nobody_is_emailed_at_says_so_and_the_officer_sees_what_they_need(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    sheffield = authority_by_code(SHEFFIELD)
    assert sheffield is not None
    helpline, _ = staff_with_mfa("helpline", role=User.Role.SUPERVISOR)
    case = report_route(
        report_id=submit_report(
            local_authority=sheffield,
            anonymity=Anonymity.NAMED,
            child_at_immediate_risk=True,
            contact=Contact(name="Sam Jones", email="sam@private.example", phone="07700 900982"),
        ).report.pk
    )

    visit = signed_in_tab(new_context, live_server, helpline)
    page = visit.page
    page.set_viewport_size({"width": 1280, "height": 900})
    visit.goto(f"/staff/cases/{case.case_number}")
    page.locator(".govuk-details__summary-text", has_text="Refer to the local authority").click()
    form = page.locator("#action-refer")
    expect(form.get_by_test_id("refer-no-inbox")).to_contain_text("No email will reach Sheffield")
    form.get_by_label("Summary for the authority").fill("A girl goes missing from a children's home; please visit.")
    form.get_by_label("Postcode district (optional)").fill("S1")
    form.get_by_label("Name the organisation the concern is about to the authority").check()
    form.get_by_label("phone the council's children's services").check()
    form.get_by_label("Note for the follow-up").fill("Phone the MASH on Monday at 9am and ask for the duty manager.")
    form.screenshot(path=str(SHOTS / "refer-form.png"))
    page.screenshot(path=str(SHOTS / "refer-form-page.png"), full_page=True)
    form.get_by_role("button", name="Refer the case").click()

    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text("No email was sent: Sheffield has no referral inbox")
    expect(banner).not_to_contain_text("told by email")
    expect(main(page)).to_contain_text("The helpline must confirm that Sheffield knows")
    visit.check()
    page.screenshot(path=str(SHOTS / "refer-done.png"))
    assert not case_emails(case).filter(template="authority_referral").exists()

    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([sheffield])
    officer_visit = signed_in_tab(new_context, live_server, officer)
    officer_page = officer_visit.page
    officer_page.set_viewport_size({"width": 1280, "height": 900})
    officer_visit.goto(f"/staff/referrals/{case.case_number}")
    content = main(officer_page)
    expect(content.get_by_test_id("referral-where")).to_contain_text("S1, Sheffield, Yorkshire and The Humber")
    expect(content.get_by_test_id("referral-immediate-risk")).to_contain_text("Yes")
    expect(content.get_by_test_id("referral-organisation")).to_contain_text("Northside Children's Home")
    # Named, but nobody asked the reporter yet: the referral carries no identity (tests/e2e/test_identity_consent.py).
    expect(content.get_by_test_id("referral-reporter")).to_have_text(
        "Not shared: the helpline protects the reporter's identity"
    )
    expect(content).not_to_contain_text("sam@private.example")
    expect(content.get_by_test_id("referral-helpline-phone")).to_contain_text("0808")
    officer_page.screenshot(path=str(SHOTS / "refer-authority-page.png"), full_page=True)

"""Issue 27 in a real browser: identity under the reporter's control. A named reporter's case is referred to
Rotherham and Sheffield; the handler's case page hides the reporter's contact details until shown with a
reason; the handler asks, through the mailbox, whether Rotherham may have the reporter's name and telephone
number; the reporter says yes on /check and sees it under "Who knows who you are"; Rotherham's officer then
sees the name and number on that referral, and Sheffield's officer sees nothing. axe runs on every page."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Locator, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from referrals import identity
from referrals import services as referral_services
from referrals.models import Referral
from reports.models import Anonymity
from reports.services import Contact
from tests.e2e.pages import Visit
from tests.e2e.staff import ROTHERHAM, main, reporter_opens_their_concern, signed_in_tab
from tests.factories import SHEFFIELD, authority, staff_with_mfa, submit_report
from triage import intake
from triage.models import Case

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
NAME, PHONE, EMAIL = "Robin Reporter", "07700 900123", "robin@private.example"


def test_the_handler_asks_the_reporter_agrees_and_only_rotherham_sees_name_and_phone(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None
) -> None:
    submitted = submit_report(
        anonymity=Anonymity.NAMED,
        summary="Pupils collected from school by an older man",
        contact=Contact(name=NAME, email=EMAIL, phone=PHONE),
    )
    case = intake.report_route(report_id=submitted.report.pk)
    handler, _ = staff_with_mfa("handler", role=User.Role.CALL_HANDLER)
    officers = {}
    for code, username in ((ROTHERHAM, "rotherham"), (SHEFFIELD, "sheffield")):
        officer, _ = staff_with_mfa(username, role=User.Role.AUTHORITY_OFFICER)
        officer.authorities.set([authority(code)])
        officers[code] = officer
    referral_services.case_refer(case=case, summary="For Rotherham.", acting_user=handler)
    referral_services.case_refer(
        case=case, summary="For Sheffield.", recipient=authority(SHEFFIELD), acting_user=handler
    )

    # --- the case page hides the contact details; showing them takes a reason -----------------------------
    helpline = signed_in_tab(new_context, live_server, handler)
    helpline.goto(f"/staff/cases/{case.case_number}")
    page = helpline.page
    expect(page.get_by_test_id("contact-hidden")).to_be_visible()
    expect(main(page)).not_to_contain_text(PHONE)
    helpline.act(
        "Show contact details",
        "reveal_contact",
        lambda form: form.get_by_label("To contact the reporter, who asked us to or expects it").check(),
    )
    expect(page.get_by_test_id("reporter-name")).to_have_text(NAME)
    expect(page.get_by_test_id("reporter-phone")).to_have_text(PHONE)

    # --- the handler asks the reporter about Rotherham: name and telephone number ---------------------------
    def ask(form: Locator) -> None:
        form.get_by_label("Which referral").select_option(label=f"Rotherham, referred {case_referred(case)}")
        form.get_by_label("Their name").check()
        form.get_by_label("Their telephone number").check()

    helpline.act("Ask the reporter whether their identity may be shared", "ask_identity_consent", ask)
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Nothing is shared unless they say yes")
    expect(page.get_by_test_id("identity-sharing-status")).to_have_text(["Waiting for the reporter's answer"])

    # --- the reporter reads the question and says yes on /check --------------------------------------------
    reporter = Visit(new_context().new_page(), base_url=live_server.url)
    reporter_opens_their_concern(reporter, submitted.report.reference, submitted.access_code)
    question = "May we give your name and telephone number to Rotherham so they can speak to you?"
    expect(reporter.page.get_by_test_id("message-body").last).to_contain_text(question)
    form = reporter.page.get_by_test_id("identity-question")
    expect(form).to_contain_text(question)
    form.get_by_label("Yes, they may have them").check()
    reporter.submit("Send your answer")
    who = reporter.page.get_by_test_id("who-knows")
    expect(who).to_contain_text("The helpline, since")
    expect(reporter.page.get_by_test_id("who-knows-sharing")).to_contain_text(
        "Rotherham: your name and telephone number, since"
    )
    expect(reporter.page.get_by_test_id("who-knows-sharing")).to_contain_text("because you agreed")
    expect(who).not_to_contain_text("Sheffield")

    # --- Rotherham's officer sees name and phone on that referral; Sheffield's sees nothing ----------------------
    rotherham = signed_in_tab(new_context, live_server, officers[ROTHERHAM])
    rotherham.goto(f"/staff/referrals/{case.case_number}")
    reporter_row = rotherham.page.get_by_test_id("referral-reporter")
    expect(reporter_row.get_by_test_id("referral-reporter-name")).to_have_text(NAME)
    expect(reporter_row.get_by_test_id("referral-reporter-phone")).to_have_text(PHONE)
    expect(reporter_row).not_to_contain_text(EMAIL)
    expect(reporter_row).to_contain_text("Shared with their consent, for this referral only")
    sheffield_tab = signed_in_tab(new_context, live_server, officers[SHEFFIELD])
    sheffield_tab.goto(f"/staff/referrals/{case.case_number}")
    expect(sheffield_tab.page.get_by_test_id("referral-reporter")).to_have_text(
        "Not shared: the helpline protects the reporter's identity"
    )
    expect(main(sheffield_tab.page)).not_to_contain_text(NAME)

    # --- now made, the reporter can no longer withdraw it --------------------------------------------------------
    reporter.goto("/check/concern")
    expect(reporter.page.get_by_test_id("withdraw-consent")).to_have_count(0)


def case_referred(case: Case) -> str:
    """How the form names Rotherham's referral ("Rotherham, referred 07/12/2026")."""
    referral = Referral.objects.filter(case=case, authority__gss_code=ROTHERHAM).get()
    return dict(identity.identity_referral_choices(case))[str(referral.pk)].removeprefix("Rotherham, referred ")

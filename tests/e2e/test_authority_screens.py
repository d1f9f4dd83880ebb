"""The local authority officer's screens in a real browser (issue 14 point 5, issue 13 point 1): the header and
titles name the officer's service, the referral list filters and searches with a GET form, a bad filter is a
400 with the error summary, and the referral page's actions use post/redirect/get, so Back and refresh after
a refused or a done action load pages with GET (never "Confirm Form Resubmission" or ERR_CACHE_MISS). axe
runs on every page shown (StaffVisit.check)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from directory.lookup import authority_by_code
from referrals import services as referral_services
from referrals.models import AuthorityAction, Referral
from tests.e2e.pages import by_get
from tests.e2e.staff import ROTHERHAM, main, signed_in_tab
from tests.factories import referral_of, staff_with_mfa, submit_report
from triage.intake import report_route

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]  # the new_context fixture
SERVICE = "Local authority referrals"


def rows(page: Page) -> list[str]:
    """The case numbers the referral table lists, in order."""
    return [link.strip() for link in page.get_by_test_id("referral-table").locator("tbody tr a").all_inner_texts()]


def details(page: Page, summary: str) -> None:
    page.locator(".govuk-details__summary-text", has_text=summary).click()


def test_an_officer_filters_searches_and_acts_on_a_referral_with_back_and_refresh(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None
) -> None:
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    helpline, _ = staff_with_mfa("helpline", role=User.Role.SUPERVISOR)
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([rotherham])
    waiting, acknowledged, late = (
        report_route(report_id=submit_report(local_authority=rotherham).report.pk) for _ in range(3)
    )
    for case in (waiting, acknowledged, late):
        referral_services.case_refer(case=case, summary="Please look into this.", acting_user=helpline)
    referral_services.referral_acknowledge(referral=referral_of(acknowledged), acting_user=officer)
    Referral.objects.filter(case_id=late.pk).update(ack_due_at=timezone.now() - timedelta(hours=2))

    # --- the list: the officer's own service name, and every open referral counted -----------------------
    visit = signed_in_tab(new_context, live_server, officer)
    page = visit.page
    visit.goto("/staff/referrals")
    expect(page.locator(".govuk-header__service-name")).to_have_text(SERVICE)
    assert page.title() == f"Referrals – {SERVICE} – GOV.UK"
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals to your authority")
    expect(page.get_by_test_id("referral-count")).to_have_text("3 referrals")
    assert sorted(rows(page)) == sorted(case.case_number for case in (waiting, acknowledged, late))

    # --- filter by status ---------------------------------------------------------------------------------
    page.get_by_label("Status").select_option("awaiting_outcome")
    visit.submit("Apply filters")
    assert rows(page) == [acknowledged.case_number]
    expect(page.get_by_test_id("referral-count")).to_have_text("1 referral")
    expect(page.get_by_test_id(f"ack-due-{acknowledged.case_number}")).to_contain_text("(done)")
    expect(page.get_by_label("Status")).to_have_value("awaiting_outcome")

    # --- overdue only -------------------------------------------------------------------------------------
    visit.follow("Clear filters")
    page.get_by_label("Overdue only").check()
    visit.submit("Apply filters")
    assert rows(page) == [late.case_number]
    expect(page.get_by_test_id(f"ack-due-{late.case_number}")).to_contain_text("(overdue)")

    # --- search by part of a case number, in lower case ---------------------------------------------------
    visit.follow("Clear filters")
    page.get_by_label("Case number").fill(waiting.case_number[-6:].lower())
    visit.submit("Apply filters")
    assert rows(page) == [waiting.case_number]

    # --- a bad filter value: a 400 with the error summary, and the form to correct it ---------------------
    visit.goto("/staff/referrals?status=everything", status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a status from the list")
    assert page.title() == f"Error: Referrals – {SERVICE} – GOV.UK"
    page.get_by_label("Status").select_option("")
    visit.submit("Apply filters")
    assert len(rows(page)) == 3

    # --- the referral page: acknowledge -------------------------------------------------------------------
    with page.expect_navigation():
        page.get_by_role("link", name=waiting.case_number).click()
    visit.check()
    referral = visit.path()  # the referral's own address: its case number and its id
    assert re.fullmatch(rf"/staff/referrals/{waiting.case_number}/\d+", referral)
    assert page.title() == f"Referral {waiting.case_number} – {SERVICE} – GOV.UK"
    expect(page.locator(".govuk-header__service-name")).to_have_text(SERVICE)
    visit.submit("Acknowledge referral")
    assert visit.path() == referral
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Referral acknowledged")

    # --- an action with its required answer missing: shown after a redirect, at the page's own address ----
    details(page, "Record what was done")
    page.get_by_label("Details (optional)").fill("Met the school.")
    refused = visit.submit("Record action", status=400)
    assert refused.request.method == "GET"
    assert visit.path() == referral
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose what was done")
    expect(page.get_by_label("Details (optional)")).to_have_value("Met the school.")

    # Back and refresh: GET pages with their heading, never a resubmission or a browser error.
    by_get(page.go_back(), status=200)
    visit.check()
    assert visit.path() == referral
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {waiting.case_number}")
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    by_get(page.reload(), status=200)
    visit.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {waiting.case_number}")
    by_get(page.go_forward(), status=200)  # the refused form was shown once: the page afresh
    visit.check()
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    by_get(page.reload(), status=200)
    visit.check()

    # --- a valid action: a banner saying what happened, and a refresh sends nothing again ------------------
    details(page, "Record what was done")
    page.get_by_label("Strategy discussion").check()
    page.get_by_label("Details (optional)").fill("Held with police and the school.")
    done = visit.submit("Record action")
    assert done.request.method == "GET"
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Action recorded")
    expect(main(page).locator(".app-timeline")).to_contain_text("Held with police and the school.")
    by_get(page.reload(), status=200)
    visit.check()
    expect(page.get_by_test_id("notification-banner")).to_have_count(0)
    by_get(page.go_back(), status=200)
    visit.check()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Referral {waiting.case_number}")
    recorded = AuthorityAction.objects.filter(case=waiting, kind=AuthorityAction.Kind.STRATEGY_DISCUSSION)
    assert recorded.count() == 1, "Back and refresh sent nothing again"

"""Legal hold and early destruction in a real browser (issue 26): a supervisor finds the cases due for
destruction from their home page, puts one on legal hold from the list (a missing reference is refused with
the error summary), finds it on the list of held cases and releases it after confirming; then asks for another
closed case to be destroyed early, is not offered its approval, and a second supervisor approves it, after
which nothing of its content is left. axe and the HTML checker run on every page (StaffVisit.check,
served_markup).

With SHOTS=1 every page of the journey is saved, full length, to /tmp/shots-hold/NN-name.png."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from lifecycle.models import EarlyDestruction
from reports.models import Message, Report
from tests.e2e.staff import NewContext, main, signed_in_tab
from tests.factories import closed_back_to, staff_user, staff_with_mfa, submit_report
from triage import intake
from triage.case_actions import case_close
from triage.models import Case, LegalHold, Outcome

pytestmark = pytest.mark.e2e

SHOTS_DIR = Path("/tmp/shots-hold")
DETAILS = "WORDS-Lc26: a photo of the girl's school report was attached to the email by mistake."
REFERENCE = "Court order 2027/0412"


class Shots:
    """Full-page screenshots of the journey, numbered in order, only when SHOTS=1 (CI writes none)."""

    def __init__(self) -> None:
        self.on = os.environ.get("SHOTS") == "1"
        self.taken = 0
        if self.on:
            SHOTS_DIR.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Page, name: str) -> None:
        if not self.on:
            return
        self.taken += 1
        page.screenshot(path=str(SHOTS_DIR / f"{self.taken:02d}-{name}.png"), full_page=True)


@pytest.fixture
def own_keys(settings: Any, tmp_path: Path) -> None:
    """Custody keys and the shred log of this test's own (the live server runs in this process)."""
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")


def closed(*, due_in_days: int | None = None, **report: Any) -> Case:
    closer = staff_user("closing-supervisor", role=User.Role.SUPERVISOR)
    case = intake.report_route(report_id=submit_report(**report).report.pk)
    case_close(case=case, outcome=Outcome.NO_FURTHER_ACTION, feedback="Thank you for telling us.", acting_user=closer)
    if due_in_days is not None:
        closed_back_to(case, due_on=timezone.localdate() + timedelta(days=due_in_days))
    return Case.objects.get(pk=case.pk)


def closed_with_code(**report: Any) -> tuple[Case, str]:
    """A closed case, and its reporter's access code."""
    closer = staff_user("closing-supervisor", role=User.Role.SUPERVISOR)
    submitted = submit_report(**report)
    case = intake.report_route(report_id=submitted.report.pk)
    case_close(case=case, outcome=Outcome.NO_FURTHER_ACTION, feedback="Thank you for telling us.", acting_user=closer)
    return Case.objects.get(pk=case.pk), submitted.access_code


def test_a_supervisor_holds_a_case_due_for_destruction_and_two_supervisors_destroy_another_early(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None, own_keys: None
) -> None:
    shot = Shots()
    due = closed(due_in_days=12)
    closed(due_in_days=45)  # not due yet: not listed
    filed_in_error, filed_code = closed_with_code(summary="School report sent by mistake", details=DETAILS)
    supervisor, _ = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    approver, _ = staff_with_mfa("second-supervisor", role=User.Role.SUPERVISOR)

    # --- a) from the home page to the cases due for destruction -----------------------------------------
    tab = signed_in_tab(new_context, live_server, supervisor)
    page = tab.page
    tab.goto("/staff/")
    work = page.get_by_test_id("retention-work")
    expect(work).to_contain_text("1 case due for destruction in the next 30 days")
    shot(page, "home-retention")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Menu").get_by_role("link", name="Retention").click()
    tab.check()
    assert tab.path() == "/staff/lifecycle/due"
    expect(page.get_by_role("heading", level=1)).to_have_text("Cases due for destruction")
    rows = page.get_by_test_id("due-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(due.case_number)
    expect(rows.first).to_contain_text("No further action possible")
    shot(page, "due-list")

    # --- b) put it on hold: the reference is required ----------------------------------------------------
    with page.expect_navigation():
        page.get_by_test_id(f"hold-{due.case_number}").click()
    tab.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Put the case on legal hold")
    page.get_by_label("A court order").check()
    shot(page, "hold-form")
    tab.submit("Put on legal hold", status=400)
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link", name="Enter the reference of the notice, order or request")).to_be_visible()
    expect(page.get_by_label("A court order")).to_be_checked()
    shot(page, "hold-form-no-reference")
    page.get_by_label("Reference of the notice, order or request").fill(REFERENCE)
    tab.submit("Put on legal hold")
    assert tab.path() == "/staff/lifecycle/due"
    expect(page.get_by_test_id("notification-banner")).to_contain_text(f"Case {due.case_number} is on legal hold.")
    expect(page.get_by_test_id("due-row")).to_have_count(0)
    shot(page, "due-list-after-hold")
    assert LegalHold.objects.filter(case=due, released_on__isnull=True, basis="court_order").count() == 1

    # The case page says so: the basis, the reference, who placed it and when it is to be reviewed.
    tab.goto(f"/staff/cases/{due.case_number}")
    card = page.get_by_test_id("legal-hold")
    expect(card.get_by_test_id("hold-basis")).to_have_text("A court order")
    expect(card.get_by_test_id("hold-reference")).to_have_text(REFERENCE)
    expect(page.get_by_test_id("case-destroy-on")).to_contain_text("but kept while it is on legal hold")
    shot(page, "case-page-held")

    # --- c) the held list, then the release after a confirmation -----------------------------------------
    tab.follow("Retention")
    tab.follow("Cases on legal hold")
    held = page.get_by_test_id("hold-row")
    expect(held).to_have_count(1)
    expect(held.first).to_contain_text(due.case_number)
    expect(held.first).to_contain_text("A court order")
    review_due = LegalHold.objects.get(case=due).review_due_on
    expect(held.first.get_by_test_id("hold-review-due")).to_have_text(f"{review_due.day} {review_due:%b %Y}")
    shot(page, "held-list")
    with page.expect_navigation():
        page.get_by_test_id(f"release-{due.case_number}").click()
    tab.check()
    assert due.destroy_on is not None
    expect(page.get_by_test_id("release-warning")).to_contain_text(
        f"the case's content is destroyed on {due.destroy_on.day} {due.destroy_on:%B %Y}"
    )
    shot(page, "release-confirm")
    tab.submit("Release the hold", status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Confirm that you want to release the hold")
    page.get_by_label("Yes, release the hold.").check()
    tab.submit("Release the hold")
    expect(page.get_by_test_id("notification-banner")).to_contain_text(f"Legal hold on case {due.case_number} released")
    expect(page.get_by_test_id("holds-count")).to_have_text("No case is on legal hold.")
    shot(page, "held-list-after-release")

    # --- d) early destruction: asked for by one supervisor ------------------------------------------------
    tab.goto(f"/staff/cases/{filed_in_error.case_number}")
    expect(main(page)).to_contain_text(DETAILS)
    shot(page, "case-page-closed")
    with page.expect_navigation():
        page.get_by_test_id("ask-destroy-early").click()
    tab.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask to destroy the case early")
    shot(page, "ask-form")
    tab.submit("Ask for approval", status=400)
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose why the case should be destroyed early")
    expect(summary).to_contain_text("Confirm that you have checked the case should be destroyed")
    shot(page, "ask-form-errors")
    page.get_by_label("It holds a child's details that should not be here").check()
    page.get_by_label("I have checked that this case's content should be destroyed now").check()
    tab.submit("Ask for approval")
    expect(page.get_by_test_id("request-mine")).to_have_text(
        "You asked for this, so another supervisor must approve or refuse it."
    )
    expect(page.get_by_test_id("submit-approve")).to_have_count(0)
    shot(page, "asked-waiting")
    asked = EarlyDestruction.objects.get(case=filed_in_error)
    assert asked.status == EarlyDestruction.Status.PENDING

    # --- e) ... and approved by a second ------------------------------------------------------------------
    second = signed_in_tab(new_context, live_server, approver)
    sp = second.page
    second.goto("/staff/")
    expect(sp.get_by_test_id("retention-requests")).to_have_text("1 request to destroy a case early waiting for you")
    second.follow("1 request to destroy a case early waiting for you")
    expect(sp.get_by_test_id("pending-row")).to_contain_text(filed_in_error.case_number)
    expect(sp.get_by_test_id("pending-row")).to_contain_text("supervisor")
    shot(sp, "pending-list")
    with sp.expect_navigation():
        sp.get_by_test_id(f"review-{filed_in_error.case_number}").click()
    second.check()
    expect(sp.get_by_test_id("request-reason")).to_have_text("It holds a child's details that should not be here")
    expect(sp.get_by_test_id("request-by")).to_contain_text("supervisor")
    shot(sp, "approve-form")
    sp.get_by_label("Yes, destroy this case's content now.").check()
    second.submit("Approve and destroy")
    expect(sp.get_by_test_id("notification-banner")).to_contain_text(
        f"Case {filed_in_error.case_number}'s content is destroyed."
    )
    expect(sp.get_by_test_id("request-status")).to_contain_text("Approved: content destroyed by second-supervisor")
    shot(sp, "approved")

    # Nothing of what people wrote is left: not the report, nor the message the reporter was sent.
    report = Report.objects.get(pk=filed_in_error.report_id)
    assert report.content_destroyed_on == timezone.localdate()
    assert bytes(report.content) == b"" and not report.custody_key_id and not report.helpline_key_id
    assert all(bytes(m.body) == b"" for m in Message.objects.filter(report=report))
    for shown in (page, sp):
        assert DETAILS not in shown.content()
    # The case page keeps its record and says what happened; the reporter's /check says so in plain words.
    second.goto(f"/staff/cases/{filed_in_error.case_number}")
    expect(sp.get_by_test_id("content-destroyed")).to_contain_text("early, with a second supervisor's approval")
    expect(sp.get_by_test_id("case-outcome")).to_contain_text("No further action possible")
    assert DETAILS not in sp.content()
    shot(sp, "case-page-destroyed")
    reporter = new_context().new_page()
    reporter.goto(f"{live_server.url}/check")
    reporter.get_by_label("Reference").fill(report.reference)
    reporter.get_by_label("Access code").fill(filed_code)
    with reporter.expect_navigation():
        reporter.get_by_role("button", name="Continue").click()
    expect(reporter.get_by_role("heading", level=1)).to_have_text("What you told us has been deleted")
    expect(reporter.get_by_test_id("report-destroyed")).to_contain_text("two of the helpline's supervisors agreed")
    shot(reporter, "check-destroyed")

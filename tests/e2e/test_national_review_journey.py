"""Independent national review in a real browser (issue 24, point 3, "Done when"): a supervisor sends a case
about a council for review, giving a reason (an empty one is refused with the error summary); a national
reviewer signs in, finds it in their workspace, acknowledges it, asks the helpline a question that the helpline
answers, records findings and an outcome and refers the case on to Ofsted; the reporter reads on /check what
happens and by when, and later where the review passed their concern and the helpline's feedback. The
reviewer never sees who the reporter is, nor their words or reference. Along the way: each escalation route's
questions are revealed under its radio, and independent review is not offered again; the helpline's case page
names the review team where it said "the authority"; the reporter reads the day the review was sent, then that
it recorded its findings, and still who else has the concern once the case is closed. axe and the HTML checker
run on every page (StaffVisit.check, Visit.check, served_markup).

With SHOTS=1 every page of the journey is saved, full length, to /tmp/shots-review/NN-name.png."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from core.templatetags.deadlines import deadline
from directory.lookup import authority_by_code
from referrals.models import Referral, ReviewOutcome
from reports.models import Anonymity, ConcernType
from reports.services import Contact
from tests.e2e.pages import Visit
from tests.e2e.staff import (
    ROTHERHAM,
    NewContext,
    StaffVisit,
    main,
    reporter_opens_their_concern,
    signed_in_tab,
    totp_code,
)
from tests.factories import PASSWORD, staff_with_mfa, submit_report
from triage import intake
from triage.models import Case, Outcome

pytestmark = pytest.mark.e2e

SHOTS_DIR = Path("/tmp/shots-review")

REPORTER_NAME = "Robin Quillfeather"
REPORTER_EMAIL = "robin.quillfeather@private.example"
REPORTER_PHONE = "07700 900461"
DETAILS = "WORDS-Rv24: the head of service told us to delete the strategy meeting notes about two girls."
REASON = (
    "The concern is that Rotherham's own children's services deleted records of two girls' strategy meetings. "
    "Please look at whether the council's handling of the reports was covered up."
)
QUESTION = "Did the helpline tell Rotherham's designated officer (LADO) about this concern?"
ANSWER = "No. The concern is about the council itself, so nothing has gone to Rotherham."
FINDINGS = "The strategy meeting records were deleted after the reports were made. We recommend an inspection."
OFSTED_REFERENCE = "OFS-2026-118"
FEEDBACK = (
    "The independent review found that records were deleted and has passed your concern to Ofsted, "
    "which may inspect the council. Thank you for telling us."
)


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

    def part(self, part: Locator, name: str) -> None:
        """One part of a page (an open form) at full size."""
        if not self.on:
            return
        self.taken += 1
        part.screenshot(path=str(SHOTS_DIR / f"{self.taken:02d}-{name}.png"))


@pytest.fixture
def national_bodies(transactional_db: None) -> None:
    """The national bodies directory as its data migration loads it (a browser test's database is flushed after
    each test, which empties it): the review team, Ofsted, the police forces and the panel."""
    loaded = importlib.import_module("directory.migrations.0006_national_bodies_loaded")
    loaded.load(apps, None)


def assert_no_reporter(page: Page, *private: str) -> None:
    """Nothing that would identify the reporter, nor their own words or reference, anywhere in the page."""
    markup = page.content()
    for text in private:
        assert text not in markup, f"{page.url} shows the reviewer {text!r}"


def referral_row(page: Page, case: Case) -> Locator:
    return page.get_by_test_id("referral-table").locator("tbody tr").filter(has_text=case.case_number)


def test_a_case_about_a_council_is_sent_for_review_worked_to_an_outcome_and_referred_on_to_ofsted(
    new_context: NewContext, live_server: LiveServer, authorities: None, national_bodies: None, fast_kdf: None
) -> None:
    shot = Shots()
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    # A named reporter's concern about Rotherham's own children's services, routed into a case.
    submitted = submit_report(
        anonymity=Anonymity.NAMED,
        concern_types=(ConcernType.RECORDS_ALTERED_OR_SUPPRESSED, ConcernType.COVER_UP_TO_PROTECT_REPUTATION),
        local_authority=rotherham,
        about_authority=rotherham,
        organisation_name="Rotherham children's services",
        summary="Strategy meeting records deleted",
        details=DETAILS,
        contact=Contact(name=REPORTER_NAME, email=REPORTER_EMAIL, phone=REPORTER_PHONE),
    )
    reference, access_code = submitted.report.reference, submitted.access_code
    case = intake.report_route(report_id=submitted.report.pk)
    assert case.independent_review and case.conflict_authority == rotherham
    supervisor, _ = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR, email="sup@helpline.example")
    reviewer, _ = staff_with_mfa("reviewer", role=User.Role.NATIONAL_REVIEWER, email="reviewer@review.example")
    private = (REPORTER_NAME, REPORTER_EMAIL, REPORTER_PHONE, reference, DETAILS, "WORDS-Rv24")

    # --- a) the supervisor opens the case and sends it for independent review ---------------------------
    helpline = signed_in_tab(new_context, live_server, supervisor)
    hp = helpline.page
    helpline.goto("/staff/")
    shot(hp, "helpline-home")
    helpline.goto(f"/staff/cases/{case.case_number}")
    expect(hp.get_by_test_id("about-council")).to_contain_text(
        "The concern is about Rotherham: never refer it to that council. Send it for independent review: under "
        "Escalate below, choose independent national review and say why."
    )
    expect(hp.get_by_test_id("case-authority")).to_have_text(
        "None: the concern is about Rotherham itself, so it goes to no council"
    )
    # The helpline, and only the helpline, knows who; even there the details wait behind "Show contact details".
    expect(hp.get_by_test_id("contact-hidden")).to_be_visible()
    expect(main(hp)).not_to_contain_text(REPORTER_NAME)
    shot(hp, "helpline-case-about-a-council")
    escalate = main(hp).locator("details#action-escalate")
    expect(escalate.locator(".govuk-details__summary-text")).to_have_text("Escalate")
    # "Refer to the local authority" is not offered: the case is about its council.
    expect(main(hp).locator("details#action-refer")).to_have_count(0)
    # The pointer leads to the Escalate form, which the supervisor opens.
    hp.get_by_test_id("send-for-review").click()
    escalate.locator("summary").click()
    expect(escalate).to_have_attribute("open", "")
    # Each route's questions are revealed under its radio: the police's only once the police are chosen.
    police_force = escalate.get_by_label("Which police force")
    reason = escalate.get_by_label("Why the case needs independent review")
    expect(police_force).to_be_hidden()
    expect(reason).to_be_hidden()
    escalate.get_by_label("The police", exact=True).check()
    expect(police_force).to_be_visible()
    expect(escalate.get_by_label("Crime reference (optional)")).to_be_visible()
    expect(reason).to_be_hidden()
    escalate.get_by_label("Independent national review", exact=True).check()
    expect(reason).to_be_visible()
    expect(police_force).to_be_hidden()
    shot.part(escalate, "helpline-escalate-form")

    # An empty reason: refused, with the error summary pointing at the reason field (StaffVisit.check).
    helpline.press(escalate.get_by_test_id("submit-escalate"), status=400)
    summary = hp.locator(".govuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    expect(summary.get_by_role("link", name="Write why the case needs independent review")).to_be_visible()
    expect(hp.get_by_test_id("case-status")).not_to_have_text("Independent national review")
    assert not Referral.objects.filter(case=case).exists()
    shot(hp, "helpline-escalate-no-reason")
    # The form is open again with the route kept; the reason now given.
    expect(escalate).to_have_attribute("open", "")
    expect(escalate.get_by_label("Independent national review", exact=True)).to_be_checked()
    expect(reason).to_be_visible()
    reason.fill(REASON)
    helpline.press(escalate.get_by_test_id("submit-escalate"))
    banner = hp.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("Case sent for independent national review.")
    expect(banner).to_contain_text("within 1 working day")
    expect(banner).to_contain_text("within 45 working days")
    expect(hp.get_by_test_id("case-status")).to_have_text("Independent national review")
    expect(hp.get_by_test_id("send-for-review")).to_have_count(0)
    # Escalate now offers the police only: the case is under review already.
    expect(escalate.get_by_label("Independent national review", exact=True)).to_have_count(0)
    expect(escalate.get_by_label("Why the case needs independent review")).to_have_count(0)
    escalate.locator("summary").click()
    expect(escalate.get_by_label("Which police force")).to_be_visible()
    shot(hp, "helpline-case-sent-for-review")
    review = Referral.objects.get(case=case)
    assert review.to_review and review.status == Referral.Status.AWAITING_ACKNOWLEDGEMENT
    findings_by = deadline(timezone.localdate(review.outcome_due_at))  # a day: no time for the reporter
    sent_on = deadline(timezone.localdate(review.referred_at))

    # --- c) the reporter reads what happens and by when -------------------------------------------------
    reporter = Visit(new_context().new_page(), base_url=live_server.url)
    rp = reporter.page
    reporter.goto("/check")
    shot(rp, "reporter-check-sign-in")
    reporter_opens_their_concern(reporter, reference, access_code)
    expect(rp.get_by_test_id("status")).to_have_text("Under independent national review")
    expect(main(rp)).to_contain_text("does not work for the council it is about")
    expect(main(rp)).to_contain_text("Nobody at the council sees your concern.")
    expect(rp.get_by_test_id("review-due")).to_have_text(
        f"The helpline sent your concern to the independent review team on {sent_on}. The team must acknowledge "
        f"it within 1 working day, and record its findings by {findings_by}. The helpline then tells you what it "
        "can here."
    )
    assert REASON not in rp.content()  # the helpline's reason is for the review team
    shot(rp, "reporter-under-review")

    # --- b) the national reviewer signs in and finds the case in their workspace -------------------------
    review_tab = StaffVisit(new_context().new_page(), base_url=live_server.url)
    rv = review_tab.page
    review_tab.goto("/staff/sign-in")
    # The same address for everyone: it names no one's workspace.
    expect(rv.get_by_role("heading", level=1)).to_have_text("Sign in to staff services")
    expect(rv.locator(".govuk-header__service-name")).to_have_text("Staff services")
    shot(rv, "reviewer-sign-in")
    rv.get_by_label("Username").fill(reviewer.username)
    rv.get_by_label("Password").fill(PASSWORD)
    review_tab.submit("Continue")
    assert review_tab.path() == "/staff/sign-in/code"
    shot(rv, "reviewer-sign-in-code")
    rv.get_by_label("Security code").fill(totp_code(reviewer))
    review_tab.submit("Sign in")
    assert review_tab.path() == "/staff/referrals"
    expect(rv.get_by_role("heading", level=1)).to_have_text("Cases sent for independent review")
    row = referral_row(rv, case)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Independent national review team")
    expect(rv.get_by_test_id("referral-count")).to_have_text("1 case")
    expect(rv.get_by_test_id("referral-table").locator("thead")).to_contain_text("Findings by")
    assert_no_reporter(rv, *private)
    shot(rv, "reviewer-workspace")
    with rv.expect_navigation():
        row.get_by_role("link", name=case.case_number).click()
    review_tab.check()
    assert review_tab.path() == f"/staff/referrals/{case.case_number}/{review.pk}"
    expect(rv.get_by_role("heading", level=1)).to_have_text("Case sent for independent review")
    expect(rv.locator(".govuk-caption-l")).to_have_text(f"Case {case.case_number}")
    expect(rv.get_by_test_id("back-to-list")).to_have_attribute("href", "/staff/referrals")
    expect(rv.get_by_test_id("referral-summary")).to_have_text(REASON)
    expect(rv.get_by_test_id("referral-about-council")).to_contain_text("Rotherham")
    expect(rv.get_by_test_id("referral-reporter")).to_have_text(
        "Not shared: the helpline protects the reporter's identity"
    )
    assert_no_reporter(rv, *private)
    shot(rv, "reviewer-referral")

    review_tab.press(rv.get_by_test_id("acknowledge"))
    expect(rv.locator(".govuk-notification-banner--success")).to_contain_text("Referral acknowledged")
    expect(rv.get_by_test_id("acknowledge")).to_have_count(0)
    assert_no_reporter(rv, *private)
    shot(rv, "reviewer-acknowledged")

    review_tab.act(
        "Ask the helpline a question",
        "ask_helpline",
        lambda form: form.get_by_label("Your question for the helpline").fill(QUESTION),
    )
    asked = rv.get_by_test_id("thread-question")
    expect(asked).to_contain_text(QUESTION)
    expect(asked).to_contain_text("waiting for an answer")
    assert_no_reporter(rv, *private)
    shot(rv, "reviewer-question-asked")

    # --- the helpline sees the question waiting and answers it ------------------------------------------
    helpline.goto("/staff/")
    waiting = main(hp).locator("table").filter(has_text="Answer by").locator("tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text(case.case_number)
    shot(hp, "helpline-home-question-waiting")
    with hp.expect_navigation():
        waiting.get_by_role("link", name=case.case_number).click()
    helpline.check()
    expect(hp.get_by_test_id("unanswered-questions")).to_contain_text(
        "The independent review team is waiting for an answer to 1 question."
    )
    expect(hp.get_by_test_id("thread-question")).to_contain_text(QUESTION)
    shot(hp, "helpline-case-question")
    helpline.act(
        "Reply to the independent review team",
        "reply_to_authority",
        lambda form: form.get_by_label("Your reply to the independent review team").fill(ANSWER),
    )
    expect(hp.locator(".govuk-notification-banner--success")).to_contain_text(
        "Reply added to the independent review team's referral page."
    )
    expect(main(hp)).not_to_contain_text("Authority acknowledgement")
    expect(main(hp)).to_contain_text("Review team acknowledgement")
    expect(main(hp)).to_contain_text("Replied to the independent review team")
    expect(hp.get_by_test_id("unanswered-questions")).to_have_count(0)
    expect(hp.get_by_test_id("thread-helpline_reply")).to_contain_text(ANSWER)
    shot(hp, "helpline-case-replied")

    # --- the reviewer reads the answer, records findings and an outcome, and refers on to Ofsted ---------
    review_tab.goto(f"/staff/referrals/{case.case_number}/{review.pk}")
    expect(rv.get_by_test_id("thread-helpline_reply")).to_contain_text(ANSWER)
    expect(rv.get_by_test_id("thread-question")).to_contain_text("answered")
    assert_no_reporter(rv, *private)
    shot(rv, "reviewer-answer-read")

    def findings(form: Locator) -> None:
        form.get_by_label("Outcome of the review").select_option(ReviewOutcome.UPHELD)
        form.get_by_label("Findings").fill(FINDINGS)
        shot.part(form, "reviewer-findings-form")

    review_tab.act("Record the findings and outcome", "record_findings", findings)
    expect(rv.locator(".govuk-notification-banner--success")).to_contain_text("Findings recorded")
    expect(main(rv)).to_contain_text(f"recorded: {ReviewOutcome.UPHELD.label}")
    expect(rv.get_by_test_id("thread-outcome")).to_contain_text("Findings recorded")
    expect(rv.get_by_test_id("thread-outcome")).to_contain_text(FINDINGS)
    expect(main(rv).locator("details#action-record_findings")).to_have_count(0)
    assert_no_reporter(rv, *private)
    shot(rv, "reviewer-findings-recorded")

    def refer_on(form: Locator) -> None:
        form.get_by_label("Refer on to").select_option(label="Ofsted")
        form.get_by_label("Through the body's own secure channel").check()
        form.get_by_label("Their reference (optional)").fill(OFSTED_REFERENCE)
        shot.part(form, "reviewer-refer-on-form")

    review_tab.act("Refer on to Ofsted, the police or the review panel", "refer_on", refer_on)
    expect(rv.locator(".govuk-notification-banner--success")).to_contain_text(
        "Referral to Ofsted recorded. The helpline has been told. No email with case details was sent."
    )
    expect(rv.get_by_test_id("referral-referred-on")).to_contain_text("Ofsted, through the body's own secure channel")
    expect(rv.get_by_test_id("referral-referred-on")).to_contain_text(f"(reference {OFSTED_REFERENCE})")
    assert_no_reporter(rv, *private)
    shot(rv, "reviewer-referred-on")
    review.refresh_from_db()
    assert review.status == Referral.Status.OUTCOME_RECORDED and review.outcome == ReviewOutcome.UPHELD
    to_ofsted = Referral.objects.get(case=case, referred_from=review)
    assert to_ofsted.recipient_name == "Ofsted" and to_ofsted.how_sent == "secure_channel"

    # --- the helpline's case page shows the findings and where the review referred the case --------------
    helpline.goto("/staff/")
    shot(hp, "helpline-home-after-findings")
    helpline.goto(f"/staff/cases/{case.case_number}")
    review_panel = hp.get_by_test_id("referral-review-team")
    expect(review_panel).to_contain_text(f"Outcome of the review: {ReviewOutcome.UPHELD.label}")
    expect(review_panel.get_by_test_id("thread-outcome")).to_contain_text("Findings recorded")
    expect(review_panel.get_by_test_id("thread-outcome")).to_contain_text(FINDINGS)
    ofsted_panel = hp.get_by_test_id("referral-ofsted")
    expect(ofsted_panel.get_by_test_id("referral-passed-on")).to_contain_text("Referred on by the independent review")
    expect(ofsted_panel.get_by_test_id("referral-reference")).to_have_text(OFSTED_REFERENCE)
    shot(hp, "helpline-case-findings")

    # --- the reporter reads where the review passed their concern, never its reference ------------------
    reporter.goto("/check/concern")
    expect(rp.get_by_test_id("status")).to_have_text("Under independent national review")
    expect(rp.get_by_test_id("passed-on")).to_have_text(
        "The independent review team has passed your concern to Ofsted."
    )
    review.refresh_from_db()
    assert review.outcome_at is not None
    expect(rp.get_by_test_id("review-due")).to_have_text(
        f"The independent review team recorded its findings on {deadline(timezone.localdate(review.outcome_at))}. "
        "The helpline will tell you what happens next."
    )
    expect(main(rp)).not_to_contain_text("records its findings")
    assert OFSTED_REFERENCE not in rp.content() and FINDINGS not in rp.content()
    shot(rp, "reporter-passed-on-to-ofsted")

    # --- the helpline closes the case with feedback: what the reporter is told of the findings ----------
    helpline.goto(f"/staff/cases/{case.case_number}")

    def close(form: Locator) -> None:
        form.get_by_label("Outcome").select_option(Outcome.SUBSTANTIATED)
        form.get_by_label("Feedback for the reporter").fill(FEEDBACK)
        form.get_by_label("Yes, close this case. The reporter will read the feedback.").check()

    helpline.act("Close with an outcome", "close", close)
    expect(hp.get_by_test_id("case-status")).to_have_text("Closed")
    shot(hp, "helpline-case-closed")

    reporter.goto("/check/concern")
    expect(rp.get_by_test_id("status")).to_have_text("Closed")
    expect(rp.get_by_test_id("message-body").last).to_have_text(FEEDBACK)
    # Who else has the concern stays said once the case is closed.
    expect(rp.get_by_role("heading", name="Who else has your concern")).to_be_visible()
    expect(rp.get_by_test_id("passed-on")).to_have_text(
        "The independent review team has passed your concern to Ofsted."
    )
    shot(rp, "reporter-closed-with-feedback")

    # --- the reviewer's page says the case is closed; still nothing of the reporter ----------------------
    review_tab.goto(f"/staff/referrals/{case.case_number}/{review.pk}")
    expect(rv.get_by_test_id("referral-closed")).to_contain_text("The helpline has closed this case")
    expect(main(rv).locator("details.govuk-details")).to_have_count(0)
    assert_no_reporter(rv, *private)
    shot(rv, "reviewer-case-closed")
    review_tab.goto("/staff/referrals")
    expect(referral_row(rv, case)).to_have_count(0)
    review_tab.follow("Include closed referrals")
    expect(referral_row(rv, case)).to_have_count(1)
    assert_no_reporter(rv, *private)
    shot(rv, "reviewer-closed-list")

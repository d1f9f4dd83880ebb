"""The referral thread in a real browser (issue 12, points 1, 2, 3 and 6): a local authority officer asks the
helpline a question about a referred case; the helpline sees it waiting on its home page and on the case,
asks the reporter in its own words, and passes the answer on; later it sends the authority an update with
what the reporter added. Then the helpline closes the case: the case page says how, its tag is grey, every
clock that was met says "done" (never "due soon"), and the officer reads the outcome. axe runs on every
staff and reporter page (StaffVisit.check and Visit.check)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.utils import timezone
from django.utils.dateformat import format as date_format
from playwright.sync_api import BrowserContext, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from core.templatetags.deadlines import deadline
from directory.lookup import authority_by_code
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from referrals import services as referral_services
from referrals.models import AuthorityAction, AuthorityOutcome
from reports.models import Anonymity
from reports.services import Contact
from tests.e2e.pages import Visit
from tests.e2e.staff import ROTHERHAM, StaffVisit, main, reporter_opens_their_concern, sign_in
from tests.factories import staff_with_mfa, submit_report
from triage import case_actions as actions
from triage import intake as services
from triage.models import Case, Outcome

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]  # the new_context fixture

QUESTION = "Can the reporter confirm which year group the children are in?"
RELAYED = "The council looking into your concern asks: which year group are the children in? Thank you."
ANSWER = "Year 9"
REPLY = "The reporter says Year 9"
ADDED = "The man drives a silver hatchback"
UPDATE = "The reporter has since added that the man drives a silver hatchback."
FEEDBACK = "Rotherham looked into your concern and acted on it. Thank you for telling us."
# Clocks that are met once the case is referred (triage) and acknowledged (the authority's acknowledgement).
MET_AFTER_ACKNOWLEDGEMENT = ("Triage", "Authority acknowledgement")


def deadlines(page: Page) -> dict[str, str]:
    """The case page's Deadlines list: label -> "done", or the text after the date, e.g. "on time"."""
    column = main(page).locator(".govuk-grid-column-one-third").locator(".govuk-summary-list").first
    rows = {}
    for row in column.locator(".govuk-summary-list__row").all():
        label = row.locator("dt").inner_text().strip()
        value = row.locator("dd").inner_text().strip()
        if value.startswith("Done"):  # "Done at <when> (due by <date>)"
            rows[label] = "done"
            continue
        state = re.search(r"\(([^()]*)\)$", value)
        rows[label] = state.group(1) if state else value
    return rows


def open_referral(visit: StaffVisit, case: Case) -> None:
    visit.goto("/staff/referrals")
    row = visit.page.get_by_test_id("referral-table").locator("tbody tr").filter(has_text=case.case_number)
    expect(row).to_have_count(1)
    with visit.page.expect_navigation():
        row.get_by_role("link", name=case.case_number).click()
    visit.check()
    assert re.fullmatch(rf"/staff/referrals/{case.case_number}/\d+", visit.path())


def process_reporter_message(body_count: int) -> None:
    """No worker runs here: the reporter's message reaches the case through its outbox row, processed in the
    test (as in test_staff_journeys)."""
    pending = OutboxMessage.objects.filter(kind="reporter_replied").order_by("id")
    assert pending.count() == body_count, list(pending.values_list("target_id", flat=True))
    outbox_process(outbox_id=pending.last().pk)  # type: ignore[union-attr]


def reporter_sends(reporter: Visit, kind_label: str, body: str) -> None:
    page = reporter.page
    page.get_by_label(kind_label).check()
    page.get_by_label("Your message").fill(body)
    reporter.submit("Send")
    assert reporter.path() == "/check/concern"
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Your message has been sent to the helpline."
    )


def test_an_authority_asks_the_helpline_asks_the_reporter_replies_and_updates_then_closes(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None
) -> None:
    # --- a report, routed to Rotherham, claimed and referred by the helpline -------------------------
    submitted = submit_report(
        anonymity=Anonymity.CONFIDENTIAL,
        summary="Pupils collected from school by an older man",
        details="Two pupils are collected most days by a man in his forties. The school says it is family.",
        organisation_name="Oakwood Academy",
        contact=Contact(name="Robin Reporter", email="robin@private.example"),
    )
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    handler, _ = staff_with_mfa("handler", role=User.Role.CALL_HANDLER)
    officer, _ = staff_with_mfa("officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([rotherham])
    case = services.report_route(report_id=submitted.report.pk)
    assert case.authority == rotherham
    actions.case_claim(case=case, acting_user=handler)
    summary = (
        "Two secondary pupils are collected from school by an unrelated adult man. "
        "Please consider a strategy discussion."
    )
    referral_services.case_refer(case=case, summary=summary, acting_user=handler)

    # --- the officer signs in, acknowledges, and asks the helpline a question --------------------------
    authority = StaffVisit(new_context().new_page(), base_url=live_server.url)
    sign_in(authority, officer)
    assert authority.path() == "/staff/referrals"
    expect(authority.page.get_by_test_id(f"open-questions-{case.case_number}")).to_have_text("0")
    open_referral(authority, case)
    officer_page = authority.page
    expect(officer_page.get_by_test_id("open-questions")).to_have_count(0)
    authority.press(officer_page.get_by_test_id("acknowledge"))
    authority.act(
        "Ask the helpline a question",
        "ask_helpline",
        lambda form: form.get_by_label("Your question for the helpline").fill(QUESTION),
    )
    asked = officer_page.get_by_test_id("thread-question")
    expect(asked).to_have_count(1)
    expect(asked).to_contain_text(QUESTION)
    expect(asked).to_contain_text("waiting for an answer")
    expect(officer_page.get_by_test_id("open-questions")).to_contain_text("1 of your questions is waiting")
    authority.goto("/staff/referrals")
    expect(officer_page.get_by_test_id(f"open-questions-{case.case_number}")).to_have_text("1")
    question = AuthorityAction.objects.get(case=case, kind=AuthorityAction.Kind.QUESTION)
    assert question.answer_due_at is not None and question.answered_at is None

    # --- the handler's home page lists the case under "Questions from authorities" ---------------------
    helpline = StaffVisit(new_context().new_page(), base_url=live_server.url)
    page = helpline.page
    sign_in(helpline, handler)
    assert helpline.path() == "/staff/"
    expect(page.get_by_role("heading", name="Questions from authorities")).to_be_visible()
    expect(page.get_by_test_id("questions-waiting")).to_contain_text("1 case with a question waiting")
    waiting = main(page).locator("table").filter(has_text="Answer by").locator("tbody tr")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text(case.case_number)
    expect(waiting).to_contain_text("Rotherham")
    expect(waiting.locator("td").nth(1)).to_have_text("1")
    expect(waiting).to_contain_text(deadline(question.answer_due_at, "timed"))  # "11:59pm on Monday 7 December 2026"
    expect(waiting).not_to_contain_text("overdue")
    with page.expect_navigation():
        waiting.get_by_role("link", name=case.case_number).click()
    helpline.check()
    assert helpline.path() == f"/staff/cases/{case.case_number}"

    # --- the case page: the question, the warning and the question's deadline --------------------------
    expect(page.get_by_test_id("case-status")).to_have_text("Referred to the local authority")
    expect(page.get_by_test_id("unanswered-questions")).to_contain_text(
        "Rotherham is waiting for an answer to 1 question."
    )
    thread_question = page.get_by_test_id("thread-question")
    expect(thread_question).to_contain_text(QUESTION)
    expect(thread_question).to_contain_text("Waiting for an answer")
    question_clock = "Answer to the authority's question 1"
    clocks = deadlines(page)
    assert clocks.get(question_clock) == "on time", clocks
    for label in MET_AFTER_ACKNOWLEDGEMENT:  # point 3: referred and acknowledged, so met
        assert clocks.get(label) == "done", f"{label}: {clocks}"
    assert "due soon" not in clocks.values(), clocks

    # --- the handler asks the reporter, in their own words ---------------------------------------------
    def relay(form: Locator) -> None:
        which = form.get_by_label("Which question")
        expect(which.locator("option")).to_have_count(1)
        expect(which).to_have_value(str(question.pk))
        form.get_by_label("Your message to the reporter").fill(RELAYED)

    helpline.act("Ask the reporter for Rotherham", "relay_to_reporter", relay)
    expect(page.get_by_test_id("case-message")).to_have_text([RELAYED])
    expect(page.get_by_test_id("thread-question")).to_contain_text("passed to the reporter")
    expect(page.get_by_test_id("unanswered-questions")).to_contain_text("1 question")  # the clock runs on

    # --- the reporter reads it on their follow-up page and answers -------------------------------------
    reporter = Visit(new_context().new_page(), base_url=live_server.url)
    reporter_opens_their_concern(reporter, submitted.report.reference, submitted.access_code)
    expect(reporter.page.get_by_test_id("message-body")).to_have_text([RELAYED])
    expect(reporter.page.locator(".app-message--helpline")).to_have_count(1)
    assert QUESTION not in reporter.page.content()  # the authority's own words never reach the reporter
    reporter_sends(reporter, "A reply or a question for the helpline", ANSWER)
    expect(reporter.page.get_by_test_id("message-body")).to_have_text([RELAYED, ANSWER])
    process_reporter_message(1)

    # --- the handler passes the answer on ---------------------------------------------------------------
    helpline.goto(f"/staff/cases/{case.case_number}")
    expect(page.get_by_test_id("case-message")).to_have_text([RELAYED, ANSWER])

    def reply(form: Locator) -> None:
        expect(form.get_by_label("Which question")).to_have_value(str(question.pk))
        form.get_by_label("Your reply to Rotherham").fill(REPLY)

    helpline.act("Reply to Rotherham", "reply_to_authority", reply)
    expect(page.get_by_test_id("unanswered-questions")).to_have_count(0)
    expect(page.get_by_test_id("thread-question")).to_contain_text("Answered")
    expect(page.get_by_test_id("thread-helpline_reply")).to_contain_text(REPLY)
    # No question waits now: neither question action is offered.
    summaries = main(page).locator("details .govuk-details__summary-text")
    expect(summaries.filter(has_text="Reply to Rotherham")).to_have_count(0)
    expect(summaries.filter(has_text="Ask the reporter for Rotherham")).to_have_count(0)
    assert deadlines(page).get(question_clock) == "done", deadlines(page)
    helpline.goto("/staff/")
    expect(page.get_by_test_id("questions-waiting")).to_have_text("No authority is waiting for an answer.")

    # --- the officer reads the reply; no question is open any more --------------------------------------
    authority.goto(f"/staff/referrals/{case.case_number}")
    replied = officer_page.get_by_test_id("thread-helpline_reply")
    expect(replied).to_have_count(1)
    expect(replied).to_contain_text("Reply from the helpline")
    expect(replied).to_contain_text("from the helpline")
    expect(replied).to_contain_text(REPLY)
    expect(officer_page.get_by_test_id("thread-question")).to_contain_text("answered")
    expect(officer_page.get_by_test_id("open-questions")).to_have_count(0)
    referral_text = main(officer_page).inner_text()
    for private in (RELAYED, "Robin Reporter", "robin@private.example", submitted.report.reference):
        assert private not in referral_text, f"the referral page shows {private!r}"
    authority.goto("/staff/referrals")
    expect(officer_page.get_by_test_id(f"open-questions-{case.case_number}")).to_have_text("0")

    # --- the reporter adds something; the helpline sends the authority an update --------------------------
    reporter.goto("/check/concern")
    reporter_sends(reporter, "More information about my concern", ADDED)
    process_reporter_message(2)
    helpline.goto(f"/staff/cases/{case.case_number}")
    added = main(page).locator(".app-message").filter(has_text=ADDED)
    expect(added).to_contain_text("(more information)")
    helpline.act(
        "Send an update to Rotherham",
        "update_authority",
        lambda form: form.get_by_label("Update for Rotherham").fill(UPDATE),
    )
    expect(page.get_by_test_id("thread-helpline_update")).to_contain_text(UPDATE)

    authority.goto(f"/staff/referrals/{case.case_number}")
    updated = officer_page.get_by_test_id("thread-helpline_update")
    expect(updated).to_have_count(1)
    expect(updated).to_contain_text("Update from the helpline")
    expect(updated).to_contain_text(UPDATE)
    assert ADDED not in main(officer_page).inner_text()  # only the helpline's summary reaches the authority

    # --- the officer records the outcome ---------------------------------------------------------------
    def record_outcome(form: Locator) -> None:
        form.get_by_label("Outcome").select_option(AuthorityOutcome.POLICE_INVESTIGATION)
        form.get_by_label("What happened (optional)").fill("Passed to the police, who spoke to the man.")

    authority.act("Record the outcome", "record_outcome", record_outcome)
    expect(main(officer_page)).to_contain_text(" – recorded: ")

    # --- the helpline closes the case ------------------------------------------------------------------
    helpline.goto(f"/staff/cases/{case.case_number}")
    clocks = deadlines(page)
    for label in (*MET_AFTER_ACKNOWLEDGEMENT, "Authority outcome", question_clock):
        assert clocks.get(label) == "done", f"{label}, after the outcome: {clocks}"
    assert "due soon" not in clocks.values(), clocks

    def close(form: Locator) -> None:
        form.get_by_label("Outcome").select_option(Outcome.REFERRED_AND_ACTED_ON)
        form.get_by_label("Feedback for the reporter").fill(FEEDBACK)
        form.get_by_label("Yes, close this case.").check()

    helpline.act("Close with an outcome", "close", close)
    status = page.get_by_test_id("case-status")
    expect(status).to_have_text("Closed")
    expect(status).to_have_class(re.compile(r"(^|\s)govuk-tag--grey(\s|$)"))
    closed_on = date_format(timezone.localdate(), "j F Y")
    expect(page.get_by_test_id("case-outcome")).to_have_text(
        f"Closed on {closed_on} with the outcome {Outcome.REFERRED_AND_ACTED_ON.label}."
    )
    clocks = deadlines(page)
    for label in (*MET_AFTER_ACKNOWLEDGEMENT, "Authority outcome", "Feedback to the reporter", question_clock):
        assert clocks.get(label) == "done", f"{label}, after closing: {clocks}"
    assert set(clocks.values()) == {"done"}, clocks
    expect(main(page).locator(".govuk-grid-column-one-third")).not_to_contain_text("(due soon)")
    expect(page.get_by_test_id("thread-helpline_update")).to_contain_text(UPDATE)  # the thread stays readable

    # --- the officer's referral page says the case is closed, and how -----------------------------------
    authority.goto(f"/staff/referrals/{case.case_number}")
    expect(officer_page.get_by_test_id("referral-closed")).to_have_text(
        f"The helpline has closed this case on {closed_on} with the outcome: "
        f"{Outcome.REFERRED_AND_ACTED_ON.label}. You cannot record anything more on it."
    )
    expect(officer_page.get_by_test_id("thread-helpline_reply")).to_contain_text(REPLY)
    expect(officer_page.get_by_test_id("thread-helpline_update")).to_contain_text(UPDATE)
    expect(main(officer_page).locator("details.govuk-details")).to_have_count(0)
    # The list of closed referrals derives the authority's clocks the same way: both met.
    authority.goto("/staff/referrals?closed=1")
    closed_row = officer_page.get_by_test_id("referral-table").locator("tbody tr").filter(has_text=case.case_number)
    expect(closed_row).to_have_count(1)
    expect(closed_row.locator("td").nth(3)).to_contain_text("(done)")
    expect(closed_row.locator("td").nth(4)).to_contain_text("(done)")
    expect(closed_row).not_to_contain_text("due soon")
    expect(officer_page.get_by_test_id(f"open-questions-{case.case_number}")).to_have_text("0")

    # --- and the reporter reads the feedback -------------------------------------------------------------
    reporter.goto("/check/concern")
    expect(reporter.page.get_by_test_id("status")).to_have_text("Closed")
    expect(reporter.page.get_by_test_id("message-body")).to_have_text([RELAYED, ANSWER, ADDED, FEEDBACK])

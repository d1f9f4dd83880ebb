"""Post/redirect/get on the helpline's forms (issue 13, point 1): a case action or a phone report with
errors, a refused action and a successful one all redirect, so Back and refresh load pages with GET, never
"Confirm Form Resubmission", and nothing is done twice. Also the conditional reveal of "Which council?"
(issue 13, GOV.UK details), with and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from reports.models import Report
from tests.e2e.pages import Visit, by_get
from tests.e2e.reporter import answer_radio, start_a_report
from tests.e2e.staff import NewContext, StaffVisit, main, signed_in_tab
from tests.factories import staff_with_mfa, submit_report
from triage import case_actions, intake
from triage.models import CaseNote

pytestmark = pytest.mark.e2e


def test_back_and_refresh_after_a_case_action_error_a_refusal_and_a_success(
    new_context: NewContext, live_server: LiveServer, fast_kdf: None
) -> None:
    handler, _ = staff_with_mfa("handler", role=User.Role.CALL_HANDLER)
    case = intake.report_route(report_id=submit_report().report.pk)
    visit = signed_in_tab(new_context, live_server, handler)
    page = visit.page
    case_page = f"/staff/cases/{case.case_number}"
    visit.goto(case_page)

    # An empty internal note: the errors are shown by the case page's own GET.
    details = page.locator("details#action-add_note")
    details.locator("summary").click()
    expect(details.get_by_label("Internal note")).to_be_visible()
    visit.press(details.get_by_role("button", name="Add internal note"), status=400)
    assert visit.path() == case_page, "the errors are shown at the case page's own address"
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the internal note")
    expect(page.locator("details#action-add_note")).to_have_attribute("open", "")

    # Refresh: a GET of the case page (the error was shown once), and nothing was recorded.
    by_get(page.reload(), status=200)
    expect(page.locator(".govuk-error-summary")).to_have_count(0)
    assert not CaseNote.objects.filter(case=case).exists()

    # A note that is written: done once, said by a banner, and neither refresh nor Back repeats it.
    details = page.locator("details#action-add_note")
    details.locator("summary").click()
    details.get_by_label("Internal note").fill("Called the school's safeguarding lead.")
    visit.press(details.get_by_role("button", name="Add internal note"))
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Internal note added")
    by_get(page.reload(), status=200)
    expect(page.get_by_test_id("notification-banner")).to_have_count(0)
    by_get(page.go_back(), status=200)
    by_get(page.go_forward(), status=200)
    assert CaseNote.objects.filter(case=case).count() == 1

    # Claimed: the Claim button goes away for the one who claimed it.
    visit.press(main(page).get_by_role("button", name="Claim this case"))
    expect(page.get_by_test_id("notification-banner")).to_contain_text("You have claimed this case")
    expect(main(page).get_by_role("button", name="Claim this case")).to_have_count(0)

    # A refused form (a duplicate link to a case that does not exist): 400 at the case page's address, the
    # field's error beside it.
    details = page.locator("details#action-link_duplicate")
    details.locator("summary").click()
    details.get_by_label("Case number of the duplicate").fill("CASE-NOPE")
    visit.press(details.get_by_role("button", name="Link case"), status=400)
    assert visit.path() == case_page
    expect(page.locator(".govuk-error-summary")).to_contain_text("There is no case with that number or reference.")
    by_get(page.reload(), status=200)


def test_back_and_refresh_on_a_phone_report(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None
) -> None:
    handler, _ = staff_with_mfa("handler", role=User.Role.CALL_HANDLER)
    visit: StaffVisit = signed_in_tab(new_context, live_server, handler)
    page = visit.page
    visit.goto("/staff/phone-report")
    form = main(page).locator("form")
    form.get_by_label("Summarise the concern in a sentence").fill("A disclosure was dismissed")
    visit.submit("Record the report", status=400)
    assert visit.path() == "/staff/phone-report"
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    # What was typed is kept across the redirect.
    expect(main(page).get_by_label("Summarise the concern in a sentence")).to_have_value("A disclosure was dismissed")
    by_get(page.reload(), status=200)

    def radio(name: str, value: str) -> None:
        form.locator(f"input[type=radio][name='{name}'][value='{value}']").check()

    radio("anonymity-anonymity", "anonymous")
    radio("about-you-reporter_sector", "education")
    form.locator("input[type=checkbox][name='concern-concern_types'][value='concern_not_acted_on']").check()
    form.get_by_label("Postcode", exact=True).fill("S60 2TH")
    radio("about-council-about_council", "no")
    form.get_by_label("Summarise the concern in a sentence").fill("A disclosure was dismissed")
    form.get_by_label("What happened?").fill("A pupil's disclosure was not passed on.")
    radio("raised-internally-raised_internally", "no")
    radio("immediate-risk-child_at_immediate_risk", "no")
    visit.submit("Record the report")
    assert visit.path() == "/staff/phone-report/sent"
    reference = page.get_by_test_id("reference").inner_text().strip()
    expect(page.get_by_test_id("access-code")).to_be_visible()
    expect(page.get_by_test_id("case-link")).to_have_attribute("href", f"/staff/cases?search={reference}&status=")

    # Refresh: the code is not shown again, and no second report was recorded.
    by_get(page.reload(), status=200)
    expect(page.get_by_role("heading", level=1)).to_have_text("The access code has already been shown")
    expect(page.get_by_test_id("access-code")).to_have_count(0)
    by_get(page.go_back(), status=200)
    assert visit.path() == "/staff/phone-report"
    assert Report.objects.count() == 1


def test_which_council_is_revealed_under_yes(visit: Visit, authorities: None) -> None:
    page = visit.page
    start_a_report(visit)
    answer_radio(visit, "Anonymous")
    answer_radio(visit, "Education")
    page.get_by_label("A concern was raised but not acted on").check()
    visit.submit()
    page.get_by_label("Postcode", exact=True).fill("S60 2TH")
    visit.submit()
    assert visit.path() == "/report/about-council"
    which = page.get_by_label("Which council?")
    expect(which).to_be_hidden()
    page.get_by_label("Yes", exact=True).check()
    expect(which).to_be_visible()
    visit.check()
    page.get_by_label("No", exact=True).check()
    expect(which).to_be_hidden()
    # Yes without a council: the error shows the question revealed.
    page.get_by_label("Yes", exact=True).check()
    visit.submit(status=400)
    expect(page.get_by_label("Which council?")).to_be_visible()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Choose the council your concern is about")


def test_closing_asks_for_confirmation_and_a_supervisor_can_reopen(
    new_context: NewContext, live_server: LiveServer, fast_kdf: None
) -> None:
    supervisor, _ = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    case = intake.report_route(report_id=submit_report().report.pk)
    visit = signed_in_tab(new_context, live_server, supervisor)
    page = visit.page
    visit.goto(f"/staff/cases/{case.case_number}")

    details = page.locator("details#action-close")
    details.locator("summary").click()
    details.get_by_label("Outcome").select_option("not_substantiated")
    details.get_by_label("Feedback for the reporter").fill("Thank you for telling us.")
    visit.press(details.get_by_role("button", name="Close case"), status=400)
    expect(page.locator(".govuk-error-summary")).to_contain_text("Confirm that you want to close this case")
    expect(page.get_by_test_id("case-status")).not_to_have_text("Closed")

    details = page.locator("details#action-close")
    expect(details.get_by_label("Feedback for the reporter")).to_have_value("Thank you for telling us.")
    details.get_by_label("Yes, close this case.").check()
    visit.press(details.get_by_role("button", name="Close case"))
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Case closed with the outcome")
    expect(page.get_by_test_id("case-status")).to_have_text("Closed")

    details = page.locator("details#action-reopen")
    details.locator("summary").click()
    details.get_by_label("Why is the case being reopened?").fill("The school sent new information.")
    visit.press(details.get_by_role("button", name="Reopen case"))
    expect(page.get_by_test_id("notification-banner")).to_contain_text("Case reopened")
    expect(page.get_by_test_id("case-status")).to_have_text("In triage")


def test_a_call_handler_is_not_offered_reopening(
    new_context: NewContext, live_server: LiveServer, fast_kdf: None
) -> None:
    handler, _ = staff_with_mfa("handler", role=User.Role.CALL_HANDLER)
    case = intake.report_route(report_id=submit_report().report.pk)
    case_actions.case_close(case=case, outcome="not_substantiated", feedback="Thank you.", acting_user=handler)
    visit = signed_in_tab(new_context, live_server, handler)
    visit.goto(f"/staff/cases/{case.case_number}")
    expect(visit.page.locator("details#action-reopen")).to_have_count(0)
    expect(visit.page.locator("details#action-add_note")).to_have_count(1)


def test_back_and_refresh_after_a_refused_sign_in(new_context: NewContext, live_server: LiveServer) -> None:
    staff_with_mfa("handler", role=User.Role.CALL_HANDLER)
    visit = StaffVisit(new_context().new_page(), base_url=live_server.url)
    page = visit.page
    visit.goto("/staff/sign-in")
    page.get_by_label("Username").fill("handler")
    page.get_by_label("Password").fill("not the password")
    visit.submit("Continue", status=400)
    assert visit.path() == "/staff/sign-in", "the refusal is shown by the sign-in page's own GET"
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a correct username and password")
    expect(page.get_by_label("Username")).to_have_value("handler")
    expect(page.get_by_label("Password")).to_have_value("")
    by_get(page.reload(), status=200)
    by_get(page.go_back(), status=200)

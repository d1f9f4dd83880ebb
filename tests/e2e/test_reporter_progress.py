"""The reporter's page says what is expected of them and when (issue 22, point 13), in a real browser with
axe: a question waiting, the days they will hear by, a reopened concern, the check-ins banner."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from accounts.models import User
from referrals import services as referral_services
from tests.e2e.pages import Visit
from tests.e2e.reporter import screenshot_at_both_widths
from tests.factories import staff_user, submit_report
from triage import case_actions
from triage.intake import report_route

pytestmark = pytest.mark.e2e


def test_a_question_waiting_the_days_to_hear_by_and_the_check_ins_banner(
    visit: Visit, authorities: None, fast_kdf: None
) -> None:
    handler = staff_user("handler", role=User.Role.CALL_HANDLER)
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    referral_services.case_refer(case=case, summary="Missing episodes", acting_user=handler)
    case_actions.case_ask_reporter(case=case, body="Did it happen again this week?", acting_user=handler)

    page = visit.page
    visit.goto("/check")
    page.get_by_label("Reference").fill(submitted.report.reference)
    page.get_by_label("Access code").fill(submitted.access_code)
    visit.submit("Continue")
    expect(page.get_by_test_id("question-waiting")).to_contain_text("The helpline has asked you a question.")
    expect(page.get_by_test_id("when-you-will-hear")).to_contain_text("The local authority must tell the helpline")
    expect(page.get_by_test_id("when-you-will-hear")).to_contain_text("at the latest")
    assert submitted.report.reference not in page.title()
    screenshot_at_both_widths(page, "follow-up-question-waiting")

    page.get_by_test_id("question-waiting").get_by_role("link", name="send your reply").click()
    expect(page.get_by_label("Your message")).to_be_visible()

    visit.submit("Yes, check in with me")
    expect(page.get_by_test_id("checkin-banner")).to_contain_text("We will check in with you.")
    expect(page.get_by_test_id("checkin-banner")).to_be_focused()
    expect(page.get_by_test_id("question-waiting")).to_be_visible()  # still waiting for an answer
    screenshot_at_both_widths(page, "follow-up-check-ins-chosen")

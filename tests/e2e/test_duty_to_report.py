"""The start page and the first question in a real browser: what this service is not (where a mandatory report
of child sexual abuse is made, and how), axe and the HTML checker on both pages as on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.pages import Visit
from tests.e2e.reporter import start_a_report

pytestmark = pytest.mark.e2e


def test_the_start_page_and_the_first_question_say_a_mandatory_report_is_made_elsewhere(visit: Visit) -> None:
    page = visit.page

    visit.goto("/")

    duty = page.get_by_test_id("duty-to-report")
    expect(duty.get_by_role("heading")).to_have_text("This service is not where you make a mandatory report")
    expect(duty).to_contain_text(
        "If you work with children and have reason to suspect that a child is being sexually abused, the law says "
        "you must tell the police or the council's children's services. Tell them directly, not this service:"
    )
    expect(duty.get_by_role("link", name="999")).to_have_attribute("href", "tel:999")
    gov_uk = duty.get_by_role("link", name="report child abuse to your local council on GOV.UK (opens in new tab)")
    expect(gov_uk).to_have_attribute("href", "https://www.gov.uk/report-child-abuse-to-local-council")
    expect(duty).to_contain_text(
        "Use this service when that report, or any other concern, was ignored, blocked or covered up. Stopping or "
        "discouraging someone from making that report is a crime."
    )

    start_a_report(visit)
    expect(page.get_by_test_id("duty-to-report").get_by_role("heading")).to_have_text(
        "This service is not where you make a mandatory report"
    )

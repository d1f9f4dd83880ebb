"""An urgent report sent on a Sunday evening, in a real browser (issue 22, point 4): the confirmation sends the
reporter to 999, the council's emergency duty team and 101 first, says when the helpline next opens, and
promises no hour. axe runs on every page of the way."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from playwright.sync_api import expect

from tests.e2e.pages import Visit
from tests.e2e.reporter import screenshot_at_both_widths, send_an_anonymous_report

pytestmark = pytest.mark.e2e

SUNDAY_EVENING = datetime(2026, 12, 6, 20, 30, tzinfo=ZoneInfo("Europe/London"))


def test_an_urgent_report_out_of_hours_is_sent_to_999_the_duty_team_and_101_first(visit: Visit, fast_kdf: None) -> None:
    with time_machine.travel(SUNDAY_EVENING, tick=True):
        send_an_anonymous_report(visit, urgent=True)
        page = visit.page
        expect(page.get_by_test_id("urgent-out-of-hours")).to_contain_text("The helpline is closed now.")
        who = page.get_by_test_id("urgent-who-to-call")
        expect(who.get_by_role("link", name="999")).to_have_attribute("href", "tel:999")
        expect(who.get_by_role("link", name="101")).to_have_attribute("href", "tel:101")
        expect(page.get_by_test_id("council-gov-uk")).to_have_attribute("href", "https://www.gov.uk/find-local-council")
        expect(page.get_by_test_id("urgent-next-opening")).to_contain_text("8am on Monday 7 December 2026")
        expect(page.locator("main")).not_to_contain_text("within 1 hour")
        # The footer still gives the hours as words (the page's own context must not replace them).
        expect(page.locator("footer")).to_contain_text("(Monday to Friday, 8am to 8pm; Saturday, 9am to 1pm)")
        expect(page.locator("footer")).not_to_contain_text("HelplineHours")
        screenshot_at_both_widths(page, "confirmation-urgent-out-of-hours")

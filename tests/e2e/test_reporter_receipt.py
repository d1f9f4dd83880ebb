"""The reporter's receipt in a real browser (issue 27, section 1): the confirmation page says the receipt is
not ready until a worker has signed it, then offers it with the warning; the receipt page prints without the
service's chrome; a solicitor pastes its block at /receipts/verify and is told it is genuine, that an answer
matches, and that an altered block is not genuine."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from outbox.models import OutboxMessage
from outbox.services import outbox_process
from reports.outbox_kinds import SIGN_RECEIPT
from tests.e2e.pages import Visit
from tests.e2e.reporter import SHOTS, screenshot_at_both_widths, send_an_anonymous_report

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("fast_kdf")]

SUMMARY = "Reports about a children's home were not passed on"


def test_a_receipt_is_offered_once_signed_and_a_solicitor_can_check_it(visit: Visit) -> None:
    page = visit.page
    send_an_anonymous_report(visit, summary=SUMMARY)
    expect(page.get_by_test_id("receipt-waiting")).to_be_visible()
    expect(page.get_by_test_id("receipt-link")).to_have_count(0)

    # The worker signs it after the report committed; a refresh then offers it.
    for row in OutboxMessage.objects.filter(kind=SIGN_RECEIPT):
        outbox_process(outbox_id=row.pk)
    page.reload()
    expect(page.get_by_test_id("receipt-warning")).to_contain_text("Keep it off any work computer")
    page.get_by_test_id("receipt-link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Receipt of a disclosure")
    visit.check()
    block = page.get_by_test_id("receipt-block").inner_text()
    assert "access" not in block.lower()
    assert SUMMARY not in block, "the receipt carries a fingerprint, never the words"
    screenshot_at_both_widths(page, "receipt")
    (SHOTS / "receipt.txt").write_text(block, "utf-8")  # as the reporter keeps it, beside the screenshots
    page.emulate_media(media="print")
    expect(page.get_by_test_id("receipt-block")).to_be_visible()
    expect(page.locator(".govuk-header")).to_be_hidden()
    page.emulate_media(media="screen")

    # Someone else, on another day, with the block as it was printed (wrapped over lines).
    wrapped = "\n".join(block[i : i + 60] for i in range(0, len(block), 60))
    visit.goto("/receipts/verify")
    page.get_by_label("Paste the receipt").fill(wrapped)
    page.get_by_label("Check an answer (optional)").select_option("summary")
    page.get_by_label("The text that was sent (optional)").fill(SUMMARY)
    visit.submit("Check the receipt")
    expect(page.get_by_test_id("receipt-genuine")).to_be_visible()
    expect(page.get_by_test_id("receipt-text-matches")).to_be_visible()
    screenshot_at_both_widths(page, "receipt-verified")

    # One character changed: not genuine.
    altered = block.replace('"v":1', '"v":2') if '"v":1' in block else block[:-3] + "AAA"
    page.get_by_label("Paste the receipt").fill(altered)
    page.get_by_label("Check an answer (optional)").select_option("")
    page.get_by_label("The text that was sent (optional)").fill("")
    visit.submit("Check the receipt")
    expect(page.get_by_test_id("receipt-not-genuine")).to_be_visible()
    screenshot_at_both_widths(page, "receipt-not-genuine")

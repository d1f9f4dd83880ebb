"""A mailbox that shows it was read (issue 27, point 3), in a real browser: the reporter sends a message; a
call handler sees it unread on the home page's queue table and the case list, opens the case (which reads it);
the reporter sees "Read by the helpline" with the day; the handler replies; the reporter sees it marked "New"
from "Helpline adviser", once; the handler sees that the reporter has read it. axe runs on every page
(Visit.check, StaffVisit.check)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from django.utils.dateformat import format as date_format
from playwright.sync_api import BrowserContext, Locator, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from tests.e2e.pages import Visit
from tests.e2e.staff import main, reporter_opens_their_concern, signed_in_tab
from tests.factories import staff_with_mfa, submit_report
from triage import case_actions as actions
from triage.intake import report_route

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]  # the new_context fixture

WRITTEN = "The deputy manager was told about the missing episodes in March."
REPLY = "Thank you. Do you know whether the police were told?"


def test_the_reporter_sees_their_message_read_and_the_helplines_reply_new_once(
    new_context: NewContext, live_server: LiveServer, authorities: None, fast_kdf: None
) -> None:
    submitted = submit_report(summary="Missing episodes ignored")
    case = report_route(report_id=submitted.report.pk)
    handler, _ = staff_with_mfa("sam.handler", role=User.Role.CALL_HANDLER)
    actions.case_claim(case=case, acting_user=handler)

    # --- the reporter sends a message: not read yet ---------------------------------------------------
    reporter = Visit(new_context().new_page(), base_url=live_server.url)
    reporter_opens_their_concern(reporter, submitted.report.reference, submitted.access_code)
    page = reporter.page
    page.get_by_label("A reply or a question for the helpline").check()
    page.get_by_label("Your message").fill(WRITTEN)
    reporter.submit("Send")
    expect(page.get_by_test_id("message-read")).to_have_text(["Not read by the helpline yet"])
    for pending in OutboxMessage.objects.filter(kind="reporter_replied", processed_at__isnull=True):
        outbox_process(outbox_id=pending.pk)  # no worker here: the message reaches the case

    # --- the handler sees it unread on the home page and the case list, and opens the case -------------
    helpline = signed_in_tab(new_context, live_server, handler)
    staff = helpline.page
    helpline.goto("/staff/")
    expect(staff.get_by_test_id(f"unread-{case.queue.slug}")).to_have_text("1")
    helpline.goto("/staff/cases")
    row = main(staff).locator("tbody tr").filter(has_text=case.case_number)
    expect(row.get_by_test_id("unread-messages")).to_have_text("1 unread")
    with staff.expect_navigation():
        row.get_by_role("link", name=case.case_number).click()
    helpline.check()
    expect(staff.get_by_test_id("case-message-new")).to_have_count(1)
    expect(staff.get_by_test_id("unread-messages")).to_contain_text("1 new")
    expect(staff.get_by_test_id("reporter-read-last")).to_have_text("The helpline has not written to them")

    # --- the reporter sees it read, to the day ------------------------------------------------------------
    reporter.goto("/check/concern")
    today = date_format(timezone.localdate(), "j F Y")
    expect(page.get_by_test_id("message-read")).to_have_text([f"Read by the helpline on {today}"])
    expect(page.get_by_test_id("message-new")).to_have_count(0)

    # --- the handler replies; the reporter sees it new, from "Helpline adviser", once ----------------------
    def reply(form: Locator) -> None:
        form.get_by_label("Message").fill(REPLY)

    helpline.goto(f"/staff/cases/{case.case_number}")
    expect(staff.get_by_test_id("case-message-new")).to_have_count(0)
    helpline.act("Message the reporter", "ask_reporter", reply)
    expect(staff.get_by_test_id("reporter-read-last")).to_have_text("No")

    reporter.goto("/check/concern")
    expect(page.get_by_test_id("new-messages")).to_have_text("You have 1 new message from the helpline.")
    new = page.locator(".app-message--helpline").filter(has=page.get_by_test_id("message-new"))
    expect(new).to_have_count(1)
    expect(new).to_contain_text("Helpline adviser")
    expect(new.get_by_test_id("message-body")).to_have_text(REPLY)
    expect(page.locator("main")).not_to_contain_text(handler.username)
    reporter.goto("/check/concern")
    expect(page.get_by_test_id("message-new")).to_have_count(0)
    expect(page.get_by_test_id("new-messages")).to_have_count(0)

    # --- the handler sees that the reporter has read it: yes, never when ----------------------------------
    helpline.goto(f"/staff/cases/{case.case_number}")
    expect(staff.get_by_test_id("reporter-read-last")).to_have_text("Yes")

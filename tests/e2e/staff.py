"""The staff workspace in a browser: a checked staff tab, signing in (through the pages, or handed a session
the test client signed in), and what the staff tests read off a page. Used by the staff journey tests."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.test import Client
from django_otp.oath import TOTP
from playwright.sync_api import BrowserContext, Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import SealedTOTPDevice, User
from tests.e2e.axe import axe_check
from tests.e2e.pages import HEADING_FONT, Visit
from tests.factories import PASSWORD
from tests.factories import sign_in as factory_sign_in

ROTHERHAM = "E08000018"
NewContext = Callable[..., BrowserContext]  # the new_context fixture


class StaffVisit(Visit):
    """A tab in the staff workspace. The same checks as the public pages (no caching, no referrer, GOV.UK
    styling and script, no script errors, error summary links that lead somewhere, axe) except the exit
    button, which the workspace deliberately leaves out."""

    def check(self, *, axe: bool = True) -> None:
        page = self.page
        self.assert_documents_private()
        expect(page.locator("a.govuk-exit-this-page__button")).to_have_count(0)
        for link in page.locator(".govuk-error-summary__list a").all():
            target = link.get_attribute("href") or ""
            assert target.startswith("#") and page.locator(target).count() == 1, (
                f"{page.url}: error summary link {link.inner_text()!r} points to {target!r}, not on the page"
            )
        font = page.evaluate(HEADING_FONT)
        assert "GDS Transport" in font, f"{page.url}: the main heading's font is {font!r}"
        classes = page.evaluate("() => document.body.className")
        assert "govuk-frontend-supported" in classes, f"{page.url}: GOV.UK Frontend JS not enabled ({classes!r})"
        assert not self.script_errors, "script errors:\n" + "\n".join(self.script_errors)
        assert not self.failed_resources, "failed to load:\n" + "\n".join(self.failed_resources)
        if axe:
            axe_check(page)
        self.checked.append(f"{page.url} | {page.title()}")

    def press(self, button: Locator, *, status: int = 200) -> None:
        """Press a button found some other way than by its name (a data-testid) and check the next page."""
        with self.page.expect_navigation() as navigation:
            button.click()
        response = navigation.value
        assert response is not None
        assert response.status == status, f"{self.page.url}: {response.status}, expected {status}"
        self.check()

    def act(self, summary: str, action: str, fill: Callable[[Locator], None]) -> None:
        """Open one of the case or referral page's <details> actions, fill its form and press its Save."""
        details = self.page.locator("details.govuk-details").filter(
            has=self.page.locator(".govuk-details__summary-text", has_text=re.compile(f"^{re.escape(summary)}$"))
        )
        expect(details).to_have_count(1)
        details.locator("summary").click()
        expect(details).to_have_attribute("open", "")
        fill(details)
        self.press(details.get_by_test_id(f"submit-{action}"))


def totp_code(user: User) -> str:
    device = SealedTOTPDevice.objects.get(user=user, confirmed=True)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def sign_in(visit: StaffVisit, user: User) -> None:
    page = visit.page
    visit.goto("/staff/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to staff services")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    visit.submit("Continue")
    assert visit.path() == "/staff/sign-in/code"
    page.get_by_label("Security code").fill(totp_code(user))
    visit.submit("Sign in")


def signed_in_tab(new_context: NewContext, live_server: LiveServer, user: User) -> StaffVisit:
    """A tab already signed in as ``user``: the real sign-in (password and a recovery code) done with
    Django's test client, its session cookie handed to a new browser context."""
    client = Client()
    factory_sign_in(client, user)
    context = new_context()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    return StaffVisit(context.new_page(), base_url=live_server.url)


def main(page: Page) -> Locator:
    return page.get_by_role("main")


def timeline_kinds(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("ol.app-timeline li strong").all_inner_texts()]


def reporter_opens_their_concern(visit: Visit, reference: str, access_code: str) -> None:
    page = visit.page
    visit.goto("/check")
    page.get_by_label("Reference").fill(reference)
    page.get_by_label("Access code").fill(access_code)
    visit.submit()
    assert visit.path() == "/check/concern"
    expect(page.get_by_text(f"Reference {reference}", exact=True)).to_be_visible()

"""Error pages in a real browser: a reporter whose cookies have gone, an address that does not exist, a staff
member without access and the 500 page are GOV.UK pages (GOV.UK Frontend's stylesheet and fonts loaded from
our static files, although error pages are rendered without a request context), with plain words, a way back
and, on the public side, the helpline's number. Screenshots at 1280 and 375 pixels go to /tmp/errors/."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import BrowserContext, Page, Route, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from directory.lookup import authority_by_code
from helpline.errors import static_500_headers, static_page
from tests.e2e.axe import axe_check
from tests.e2e.pages import Visit
from tests.factories import sign_in, staff_with_mfa, submit_report
from triage.intake import report_route

pytestmark = pytest.mark.e2e

SHOTS = Path("/tmp/errors")
ROTHERHAM = "E08000018"
NewContext = Callable[..., BrowserContext]
# Every stylesheet the page asked for, and whether its rules arrived (a 404 or a blocked sheet has none).
STYLESHEETS = """() => Array.from(document.styleSheets).map((sheet) => {
    let rules = 0;
    try { rules = sheet.cssRules.length; } catch (error) { rules = -1; }
    return [new URL(sheet.href).pathname, rules];
})"""
# How many of the GOV.UK font's faces were downloaded and applied (not only named by the stylesheet).
FONT_FILES_LOADED = """async () => {
    await document.fonts.ready;
    return [...document.fonts].filter((face) =>
        face.family.replace(/["']/g, "") === "GDS Transport" && face.status === "loaded").length;
}"""


@pytest.fixture(scope="module")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def screenshot(page: Page, shots: Path, name: str) -> None:
    """The page at desktop and phone widths, checked by axe at each (touch targets matter on a phone)."""
    viewport = page.viewport_size
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
        axe_check(page)
    if viewport:
        page.set_viewport_size(viewport)


def assert_govuk_styles(page: Page) -> None:
    """GOV.UK Frontend's stylesheet and ours loaded from /static/, and the heading is in GDS Transport."""
    sheets = dict(page.evaluate(STYLESHEETS))
    assert sheets.get("/static/vendor/govuk/govuk-frontend.min.css", 0) > 100, sheets
    assert sheets.get("/static/css/app.css", 0) > 0, sheets
    font = page.evaluate("() => getComputedStyle(document.querySelector('main h1')).fontFamily")
    assert "GDS Transport" in font, font
    assert page.evaluate(FONT_FILES_LOADED) > 0, "no GDS Transport font file was loaded"


def assert_get_help(page: Page) -> None:
    help_text = page.get_by_role("contentinfo").get_by_text(re.compile(r"^Call the helpline on"))
    expect(help_text).to_have_text(
        f"Call the helpline on {settings.HELPLINE_PHONE} ({settings.HELPLINE_HOURS}). "
        "If a child is in immediate danger, call 999."
    )
    expect(help_text).to_be_visible()


class StaffVisit(Visit):
    """A staff tab: the public checks but for the exit button, which the workspace leaves out."""

    def check(self, *, axe: bool = True) -> None:
        self.assert_documents_private()
        expect(self.page.locator("a.govuk-exit-this-page__button")).to_have_count(0)
        assert_govuk_styles(self.page)
        assert not self.script_errors, "script errors:\n" + "\n".join(self.script_errors)
        assert not self.failed_resources, "failed to load:\n" + "\n".join(self.failed_resources)
        if axe:
            axe_check(self.page)
        expect(self.page.get_by_text("Call the helpline on")).to_have_count(0)


def test_a_reporter_whose_cookies_went_mid_report_gets_a_govuk_page_and_starts_again(visit: Visit, shots: Path) -> None:
    page = visit.page
    visit.goto("/")
    visit.submit("Start now")
    assert visit.path() == "/report/anonymity"
    page.context.clear_cookies()  # the browser was closed, or its cookies cleared
    page.get_by_label("Anonymous", exact=True).check()
    visit.submit("Continue", status=403)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your session has ended")
    assert_govuk_styles(page)
    assert_get_help(page)
    screenshot(page, shots, "public-session-ended-report")
    visit.follow("Start your report again")
    assert visit.path() == "/"
    visit.submit("Start now")
    assert visit.path() == "/report/anonymity"


def test_a_reporter_checking_a_concern_without_cookies_is_sent_back_to_the_reference_page(
    visit: Visit, shots: Path
) -> None:
    page = visit.page
    visit.goto("/check")
    page.context.clear_cookies()
    page.get_by_label("Reference").fill("HX7K-29QM")
    page.get_by_label("Access code").fill("one two three four five six seven")
    visit.submit("Continue", status=403)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your session has ended")
    assert_govuk_styles(page)
    assert_get_help(page)
    screenshot(page, shots, "public-session-ended-check")
    visit.follow("Enter your reference and access code again")
    assert visit.path() == "/check"
    # A concern page opened without the follow-up cookie leads to the same page, not an error.
    visit.goto("/check/concern")
    assert visit.path() == "/check"


def test_an_unknown_public_address_is_the_govuk_page_not_found(visit: Visit, shots: Path) -> None:
    page = visit.page
    visit.goto("/no-such-page?q=canary", status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.get_by_text("canary")).to_have_count(0)
    assert_govuk_styles(page)
    assert_get_help(page)
    screenshot(page, shots, "public-404")
    visit.follow("Go to the start page")
    assert visit.path() == "/"
    assert_get_help(page)
    screenshot(page, shots, "public-start")  # the public footer, "Get help" included, at a phone's width too


def test_the_500_page_as_served_loads_its_styles(visit: Visit, live_server: LiveServer, shots: Path) -> None:
    """The static 500 page (what the WSGI wrapper and gunicorn send when Django cannot answer), served at
    an address of the live server, so its stylesheets and fonts come from the real static files. The
    page's own trigger is covered by tests/helpline/test_error_pages.py: nothing honest makes this server fail."""
    page = visit.page
    body = static_page(500)

    def fulfil(route: Route) -> None:
        route.fulfill(status=500, headers=dict(static_500_headers(len(body))), body=body)

    page.route(f"{live_server.url}/broken", fulfil)
    response = page.goto(f"{live_server.url}/broken")
    assert response is not None and response.status == 500
    expect(page.get_by_role("heading", level=1)).to_have_text("Sorry, there is a problem with the service")
    assert_govuk_styles(page)
    assert_get_help(page)
    axe_check(page)
    screenshot(page, shots, "public-500")


def test_staff_error_pages_are_govuk_pages_with_a_way_back_to_the_workspace(
    new_context: NewContext, live_server: LiveServer, shots: Path, authorities: None, fast_kdf: None
) -> None:
    rotherham = authority_by_code(ROTHERHAM)
    assert rotherham is not None
    case = report_route(report_id=submit_report(local_authority=rotherham).report.pk)
    officer, _ = staff_with_mfa("errors-officer", role=User.Role.AUTHORITY_OFFICER)
    officer.authorities.set([rotherham])
    client = Client()
    sign_in(client, officer)
    context = new_context()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    visit = StaffVisit(context.new_page(), base_url=live_server.url)
    page = visit.page

    visit.goto(f"/staff/cases/{case.case_number}", status=403)
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot see this page")
    screenshot(page, shots, "staff-403")
    visit.goto("/staff/no-such-page", status=404)
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    screenshot(page, shots, "staff-404")
    visit.follow("Go to your workspace")
    assert visit.path().startswith("/staff/")


def test_a_staff_form_sent_after_the_cookies_have_gone_is_a_govuk_page(
    new_context: NewContext, live_server: LiveServer, shots: Path
) -> None:
    visit = StaffVisit(new_context().new_page(), base_url=live_server.url)
    page = visit.page
    visit.goto("/staff/sign-in")
    page.context.clear_cookies()
    page.get_by_label("Username").fill("someone")
    page.get_by_label("Password").fill("not a password")
    visit.submit("Continue", status=403)
    expect(page.get_by_role("heading", level=1)).to_have_text("Your session has ended")
    screenshot(page, shots, "staff-session-ended")
    visit.follow("Go to your workspace")
    assert visit.path() == "/staff/sign-in"

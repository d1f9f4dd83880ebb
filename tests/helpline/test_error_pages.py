"""Every error a person can meet is a GOV.UK page in plain words with a way back, never Django's default or a
raw page: 400, 403 (a role without access, and a form whose CSRF cookie has gone or no longer matches), 404,
413, 500 (inside Django and outside it) and 503. Public pages, error pages included, give the helpline's
number and hours (from the settings); staff pages give neither it nor the public footer links.

Nothing a client sent (the address's query string, the form's fields) is ever shown back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.test import Client, RequestFactory
from django.urls import include, path
from django.utils.html import escape

from accounts.models import User
from directory import lookup as authorities
from directory.models import LocalAuthority
from helpline import errors
from helpline.errors import LastResortErrorPage, error_response, static_page
from helpline.health import staff_health
from helpline.pages import accessibility_statement
from tests.factories import (
    QUESTION_PAGE_ANSWERS,
    client_with_a_draft,
    signed_in_as,
    submit_report,
)
from triage.intake import report_route

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

CANARY = "CANARY-7f3e"
PHONE = "0808 000 4242"
HOURS = "Every day, 7am to 11pm"
STYLESHEET = '<link rel="stylesheet" href="/static/vendor/govuk/govuk-frontend.min.css">'
EXIT_BUTTON = "govuk-exit-this-page__button"
TO_THE_START = '<a class="govuk-link" href="/">Go to the start page</a>'
TO_THE_WORKSPACE = '<a class="govuk-link" href="/staff/">Go to your workspace</a>'
# What Django's own pages say: none of them may ever reach a person.
RAW = ["Forbidden (403)", "CSRF verification failed", "Not Found</h1>", "Server Error (500)", "Bad Request (400)"]
ROTHERHAM = "E08000018"


@pytest.fixture(autouse=True)
def helpline(settings: Any) -> Iterator[None]:
    """A helpline number and hours no template has by accident; the cached static pages are rendered
    again with them, and once more afterwards with the real ones."""
    settings.HELPLINE_PHONE = PHONE
    settings.HELPLINE_HOURS = HOURS
    static_page.cache_clear()
    yield
    static_page.cache_clear()


def call_the_helpline() -> str:
    return f"Call the helpline on <strong>{escape(PHONE)}</strong> ({escape(HOURS)})"


def page_of(response: Any) -> str:
    return bytes(response.content).decode()


def assert_govuk_page(page: str, heading: str) -> None:
    """The GOV.UK layout with its stylesheet, the heading in plain words, and nothing raw."""
    assert page.startswith("<!DOCTYPE html>"), page[:200]
    assert STYLESHEET in page
    assert '<body class="govuk-template__body">' in page and 'class="govuk-header"' in page
    assert 'class="govuk-footer"' in page
    assert f'<h1 class="govuk-heading-l">{heading}</h1>' in page, page
    assert "If a child is in immediate danger, call 999." in page
    # No template syntax left in the page (a multi-line {# #} comment was once shown in Times at the top).
    for syntax in ("{#", "#}", "{%", "%}", "{{", "}}"):
        assert syntax not in page, syntax
    for raw in RAW:
        assert raw not in page, raw
    assert CANARY not in page, "something the client sent is shown back"


def assert_public(page: str, way_back: str = TO_THE_START) -> None:
    assert way_back in page
    assert call_the_helpline() in page
    assert EXIT_BUTTON in page
    assert "/staff/" not in page and "Helpline workspace" not in page and "Staff services" not in page


def assert_staff(page: str) -> None:
    assert TO_THE_WORKSPACE in page
    # Rendered without the request, so not one role's name: an authority officer is not in the helpline's workspace.
    assert "– Staff services – GOV.UK</title>" in page and "Helpline workspace" not in page
    assert PHONE not in page and "Get help" not in page
    assert EXIT_BUTTON not in page
    assert "How we protect your identity" not in page


def authority(code: str) -> LocalAuthority:
    found = authorities.authority_by_code(code)
    assert found is not None, code
    return found


def request_for(path_: str) -> HttpRequest:
    return RequestFactory().get(path_, {"q": CANARY})


# --- 404 -------------------------------------------------------------------------------------------------


def test_an_unknown_public_address_is_the_public_page_not_found() -> None:
    response = Client().get("/no-such-page", {"q": CANARY})
    assert response.status_code == 404
    page = page_of(response)
    assert_govuk_page(page, "Page not found")
    assert_public(page)


def test_an_unknown_staff_address_is_the_staff_page_not_found() -> None:
    response = Client().get("/staff/no-such-page", {"q": CANARY})
    assert response.status_code == 404
    page = page_of(response)
    assert_govuk_page(page, "Page not found")
    assert_staff(page)


# --- 403 -------------------------------------------------------------------------------------------------


def test_an_authority_officer_opening_a_helpline_case_gets_you_cannot_see_this_page() -> None:
    case = report_route(report_id=submit_report(local_authority=authority(ROTHERHAM)).report.pk)
    officer = signed_in_as(User.Role.AUTHORITY_OFFICER, ROTHERHAM)[0]
    response = officer.get(f"/staff/cases/{case.case_number}", {"q": CANARY})
    assert response.status_code == 403
    page = page_of(response)
    assert_govuk_page(page, "You cannot see this page")
    assert_staff(page)
    assert "ask your administrator" in page


def test_a_public_address_refused_gets_the_public_403_page() -> None:
    response = errors.permission_denied(request_for("/report/anonymity"))
    assert response.status_code == 403
    page = page_of(response)
    assert_govuk_page(page, "You cannot see this page")
    assert_public(page)


# --- 403: a form whose CSRF cookie has gone or no longer matches ---------------------------------------


@pytest.mark.parametrize(
    ("path_", "data", "way_back"),
    [
        ("/check", {"reference": "HX7K-29QM", "access_code": CANARY}, "/check"),
        ("/report/begin", {}, "/"),
        ("/report/anonymity", {"anonymity": CANARY}, "/"),
        ("/report/check-your-answers", {}, "/"),
        ("/check/concern/message", {"body": CANARY, "kind": "message"}, "/check"),
    ],
)
def test_a_public_form_sent_after_the_cookies_have_gone_is_the_session_ended_page(
    path_: str, data: dict[str, str], way_back: str
) -> None:
    response = Client(enforce_csrf_checks=True).post(f"{path_}?q={CANARY}", data)
    assert response.status_code == 403
    page = page_of(response)
    assert_govuk_page(page, "Your session has ended")
    link = (
        '<a class="govuk-link" href="/check">Enter your reference and access code again</a>'
        if way_back == "/check"
        else '<a class="govuk-link" href="/">Start your report again</a>'
    )
    assert_public(page, way_back=link)


def test_a_public_form_older_than_its_cookie_is_the_page_has_expired_page() -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.get("/check").status_code == 200  # sets the CSRF cookie
    response = client.post("/check", {"csrfmiddlewaretoken": "x" * 64, "reference": CANARY})
    assert response.status_code == 403
    page = page_of(response)
    assert_govuk_page(page, "This page has expired")
    assert "Go back, reload the page and enter your answer again." in page
    assert_public(page, way_back='<a class="govuk-link" href="/check">Enter your reference and access code again</a>')


def test_a_staff_form_sent_after_the_cookies_have_gone_is_the_staff_session_ended_page() -> None:
    response = Client(enforce_csrf_checks=True).post("/staff/sign-in", {"username": CANARY, "password": CANARY})
    assert response.status_code == 403
    page = page_of(response)
    assert_govuk_page(page, "Your session has ended")
    assert_staff(page)


def test_a_staff_form_older_than_its_cookie_is_the_staff_page_has_expired_page() -> None:
    client = signed_in_as(User.Role.SUPERVISOR)[0]
    client.handler.enforce_csrf_checks = True
    assert client.get("/staff/").status_code == 200
    response = client.post("/staff/phone-report", {"csrfmiddlewaretoken": "x" * 64, "summary": CANARY})
    assert response.status_code == 403
    page = page_of(response)
    assert_govuk_page(page, "This page has expired")
    assert_staff(page)


# --- a reporter whose draft has gone (the CSRF cookie still there) ---------------------------------------


def follow_to_a_public_page(client: Client, response: Any) -> str:
    """Follow redirects: the reporter always lands on a GOV.UK public page, with the helpline's number."""
    for _ in range(5):
        if response.status_code not in (301, 302, 303):
            break
        assert response["Location"].startswith("/") and not response["Location"].startswith("/staff/")
        response = client.get(response["Location"])
    assert response.status_code in (200, 400), response.status_code
    page = page_of(response)
    assert STYLESHEET in page and '<h1 class="govuk-' in page and call_the_helpline() in page
    assert CANARY not in page
    return page


@pytest.mark.parametrize(
    ("path_", "data"),
    [
        ("/report/about-you", QUESTION_PAGE_ANSWERS["about-you"]),
        ("/report/what-happened", {"summary": "Not passed on", "details": CANARY}),
        ("/report/check-your-answers", {}),
    ],
)
def test_a_question_page_sent_after_the_draft_has_gone_leads_to_a_govuk_page(path_: str, data: dict[str, Any]) -> None:
    client = client_with_a_draft()
    del client.cookies["report_draft"]
    response = client.post(path_, data)
    assert response.status_code in (200, 302, 400), response.status_code
    follow_to_a_public_page(client, response)


def test_a_concern_opened_without_the_follow_up_cookie_leads_to_the_reference_page() -> None:
    client = Client()
    response = client.get("/check/concern")
    assert (response.status_code, response["Location"]) == (302, "/check")
    page = follow_to_a_public_page(client, response)
    assert "Check a concern you reported" in page


# --- 400 and 413 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path_", "staff"), [("/check", False), ("/staff/sign-in", True)])
def test_a_form_that_cannot_be_read_is_the_400_page_with_a_way_back(path_: str, staff: bool) -> None:
    response = Client().generic(
        "POST",
        f"{path_}?q={CANARY}",
        f"reference={CANARY}".encode(),
        content_type="application/x-www-form-urlencoded; charset=utf-16",
    )
    assert response.status_code == 400
    page = page_of(response)
    assert_govuk_page(page, "Sorry, there is a problem with what was sent")
    assert_staff(page) if staff else assert_public(page)


@pytest.mark.parametrize(("path_", "staff"), [("/check", False), ("/staff/sign-in", True)])
def test_a_form_over_the_size_limit_is_the_413_page_with_a_way_back(path_: str, staff: bool, settings: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = Client().post(path_, {"reference": CANARY * 50})
    assert response.status_code == 413
    page = page_of(response)
    assert_govuk_page(page, "What you sent is too long")
    assert_staff(page) if staff else assert_public(page)


# --- 500 -------------------------------------------------------------------------------------------------


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(CANARY)


# This module is also the URL configuration of the 500 tests: the real one, plus a view that raises.
urlpatterns = [path("broken", broken_view), path("staff/broken", broken_view), path("", include("helpline.urls"))]
handler500 = "helpline.errors.server_error"


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(("path_", "staff"), [("/broken", False), ("/staff/broken", True)])
def test_a_view_that_raises_is_the_500_page_with_a_way_back(path_: str, staff: bool) -> None:
    response = Client(raise_request_exception=False).get(path_, {"q": CANARY})
    assert response.status_code == 500
    page = page_of(response)
    assert_govuk_page(page, "Sorry, there is a problem with the service")
    assert_staff(page) if staff else assert_public(page)
    assert "Traceback" not in page and "RuntimeError" not in page


@pytest.mark.parametrize(("path_", "staff"), [("/report/anonymity", False), ("/staff/cases", True)])
def test_an_error_outside_django_is_the_static_500_page_of_its_side(path_: str, staff: bool) -> None:
    def broken(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError(CANARY)

    sent: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        sent.update(status=status, headers=dict(headers))

    environ = {"PATH_INFO": path_, "QUERY_STRING": f"q={CANARY}"}
    page = b"".join(LastResortErrorPage(broken)(environ, start_response)).decode()
    assert sent["status"] == "500 Internal Server Error"
    assert_govuk_page(page, "Sorry, there is a problem with the service")
    assert_staff(page) if staff else assert_public(page)


def test_when_the_500_template_itself_fails_the_fallback_is_still_styled_with_the_helpline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError(CANARY)

    monkeypatch.setattr(errors, "render_to_string", broken)
    static_page.cache_clear()
    public = static_page(500).decode()
    staff = static_page(500, staff=True).decode()
    for page in (public, staff):
        assert (
            STYLESHEET in page and '<h1 class="govuk-heading-l">Sorry, there is a problem with the service</h1>' in page
        )
        assert "If a child is in immediate danger, call 999." in page and CANARY not in page
    assert f"Call the helpline on {PHONE} ({HOURS})" in public and TO_THE_START in public
    assert PHONE not in staff and TO_THE_WORKSPACE in staff


# --- 503 -------------------------------------------------------------------------------------------------


def test_the_public_503_page_gives_the_helpline_and_the_staff_one_does_not() -> None:
    public = page_of(error_response(request_for("/check"), 503))
    assert_govuk_page(public, "Sorry, the service is unavailable")
    assert_public(public)
    staff = page_of(error_response(request_for("/staff/cases"), 503))
    assert_govuk_page(staff, "Sorry, the service is unavailable")
    assert_staff(staff)


def test_the_error_pages_take_the_helpline_from_the_settings_never_the_request() -> None:
    request = request_for("/check")
    request.META["HTTP_X_HELPLINE_PHONE"] = CANARY
    context = errors.error_context(staff=False)
    assert (context["helpline_phone"], context["helpline_hours"]) == (PHONE, HOURS)
    assert CANARY not in page_of(error_response(request, 503))


# --- the helpline's number on every public page, and on no staff page ----------------------------------


# A question page needs a report in progress (without one it is the start page): the question pages are
# checked with one in the next test.
@pytest.mark.parametrize("path_", ["/", "/privacy", "/check"])
def test_every_public_page_gives_the_helpline(path_: str) -> None:
    response = Client().get(path_)
    assert response.status_code == 200
    page = page_of(response)
    assert call_the_helpline() in page
    assert "If a child is in immediate danger, call 999." in page
    assert '<h2 class="govuk-footer__heading govuk-heading-m">Get help</h2>' in page


def test_the_question_pages_check_your_answers_and_a_concern_give_the_helpline() -> None:
    client = client_with_a_draft()
    for slug in ("anonymity", "council", "contact"):
        assert call_the_helpline() in page_of(client.get(f"/report/{slug}"))
    for slug, answer in QUESTION_PAGE_ANSWERS.items():
        client.post(f"/report/{slug}", answer)
    response = client.get("/report/check-your-answers")
    assert response.status_code == 200, response.status_code
    assert call_the_helpline() in page_of(response)

    submitted = submit_report(local_authority=authority(ROTHERHAM))
    reporter = Client()
    opened = reporter.post("/check", {"reference": submitted.report.reference, "access_code": submitted.access_code})
    assert opened.status_code == 302
    response = reporter.get("/check/concern")
    assert response.status_code == 200
    assert call_the_helpline() in page_of(response)


@pytest.mark.parametrize(
    "template",
    [
        "reports/check_throttled.html",
        "reports/check_limited.html",
        "reports/submissions_limited.html",
        "reports/already_sent.html",
    ],
)
def test_the_throttle_and_limit_pages_give_the_helpline_in_the_footer_too(template: str) -> None:
    page = page_of(render(RequestFactory().get("/check"), template))
    assert '<h2 class="govuk-footer__heading govuk-heading-m">Get help</h2>' in page
    assert call_the_helpline() in page


def test_staff_pages_give_neither_the_helpline_nor_the_public_footer_links() -> None:
    pages = [page_of(Client().get("/staff/sign-in")), page_of(signed_in_as(User.Role.SUPERVISOR)[0].get("/staff/"))]
    assert "Staff services" in pages[0] and "Helpline workspace" in pages[1]
    for page in pages:
        assert PHONE not in page and "Get help" not in page
        assert "How we protect your identity" not in page and 'href="/check"' not in page


class StaffOnlyUrls:
    """The staff service's URLs as helpline/urls.py builds them with HELPLINE_ROLE=staff: no public pages."""

    urlpatterns = [
        path("accessibility", accessibility_statement, name="accessibility"),
        path("staff/health", staff_health, name="staff_health"),
        path("staff/", include("triage.urls")),
        path("staff/", include("oversight.urls")),
        path("staff/", include("accounts.urls")),
    ]
    handler404 = "helpline.errors.page_not_found"


def test_the_staff_service_on_its_own_renders_its_pages(settings: Any) -> None:
    """With no public URLs to reverse, the footer's public links once made every staff page a 500."""
    settings.ROOT_URLCONF = StaffOnlyUrls
    response = Client().get("/staff/sign-in")
    assert response.status_code == 200
    page = page_of(response)
    assert "Sign in to staff services" in page and PHONE not in page


@pytest.mark.parametrize("role", [User.Role.AUTHORITY_OFFICER, User.Role.PARTNERSHIP, User.Role.OVERSIGHT_ANALYST])
def test_a_staff_error_page_never_calls_itself_the_helpline_workspace(role: str) -> None:
    """Issue 22: error page titles said "Helpline workspace" to authority officers."""
    client = signed_in_as(role)[0]
    for url, status in (("/staff/no-such-page", 404), ("/staff/cases", 403)):
        response = client.get(url)
        assert response.status_code == status, (url, response.status_code)
        page = response.content.decode()
        assert "Helpline workspace" not in page, url
        assert "– Staff services – GOV.UK</title>" in page, url

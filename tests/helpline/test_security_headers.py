"""Every response's security headers, asserted exactly: pages, API answers, error pages, static files."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.test import Client
from openapi_spec_validator import validate

from accounts.models import User
from tests.factories import partnership_of_region, sign_in, staff_with_mfa

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
EXPECTED = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": CSP,
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}
NEVER = ["Access-Control-Allow-Origin", "Server", "X-Powered-By"]
HSTS = "max-age=31536000; includeSubDomains"


def assert_exact(response: Any, *, hsts: str | None = None) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (response.request["PATH_INFO"], name, response.headers.get(name))
    for name in NEVER:
        assert name not in response.headers, name
    assert response.headers.get("Strict-Transport-Security") == hsts


PUBLIC = [
    ("get", "/", 200),
    ("get", "/report/anonymity", 302),  # no report in progress: to the start page
    ("get", "/check", 200),
    ("get", "/privacy", 200),
    ("get", "/healthz", 200),
    ("get", "/api/v1/local-authorities?postcode=S60", 200),
    ("post", "/api/v1/reports", 415),  # a form body: the API takes JSON only
    ("get", "/api/schema/", 200),
    ("get", "/api/docs/", 200),
    ("get", "/no-such-page", 404),
    ("get", "/api/v1/no-such-endpoint", 404),
    ("post", "/check", 403),  # no CSRF token: the "form has expired" page
    ("get", "/staff/", 302),
    ("get", "/staff/sign-in", 200),
]


@pytest.mark.parametrize(("method", "path", "status"), PUBLIC)
def test_every_public_answer_carries_exactly_the_security_headers(
    method: str, path: str, status: int, settings: Any
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # /healthz is still 200 ("degraded")
    response = getattr(Client(enforce_csrf_checks=True), method)(path)
    assert response.status_code == status
    assert_exact(response)


def test_an_unreadable_form_body_gets_the_same_headers() -> None:
    response = Client().generic(
        "POST", "/check", b"a=b", content_type="application/x-www-form-urlencoded; charset=utf-16"
    )
    assert response.status_code == 400
    assert_exact(response)


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        (User.Role.SUPERVISOR, "/staff/cases", 200),
        (User.Role.SUPERVISOR, "/staff/health", 200),
        (User.Role.SUPERVISOR, "/staff/cases/NO-SUCH-CASE", 404),
        (User.Role.CALL_HANDLER, "/staff/health", 403),
        (User.Role.AUTHORITY_OFFICER, "/staff/referrals", 200),
        (User.Role.PARTNERSHIP, "/staff/statistics", 200),
    ],
)
def test_staff_pages_and_their_errors_carry_the_same_headers(role: str, path: str, status: int, settings: Any) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    user, _ = staff_with_mfa(
        f"headers-{role}", role=role, partnership=partnership_of_region("Yorkshire and The Humber")
    )
    client = Client()
    sign_in(client, user)
    response = client.get(path)
    assert response.status_code == status
    assert_exact(response)


def test_production_sends_hsts_with_subdomains_and_preload_only_when_asked(settings: Any) -> None:
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = False
    assert_exact(Client().get("/", secure=True), hsts=HSTS)
    assert_exact(Client().get("/no-such-page", secure=True), hsts=HSTS)
    settings.SECURE_HSTS_PRELOAD = True
    assert_exact(Client().get("/", secure=True), hsts=HSTS + "; preload")


def test_static_files_may_be_loaded_by_this_site_only() -> None:
    response = Client().get("/static/css/app.css")
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_staff_session_cookie_is_strict_and_http_only() -> None:
    user, _ = staff_with_mfa("cookie-check", role=User.Role.SUPERVISOR)
    client = Client()
    sign_in(client, user)
    cookie = client.cookies["sessionid"]
    assert cookie["samesite"] == "Strict"
    assert cookie["httponly"] is True


def test_the_openapi_schema_is_valid() -> None:
    """openapi-spec-validator, pinned: a default that is not valid for its own format (an email field
    defaulting to "") made the schema invalid."""
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    validate(yaml.safe_load(response.content))

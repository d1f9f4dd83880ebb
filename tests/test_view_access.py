"""Access checks for every view module, in the style of healthchecks.io's per-view tests: for each URL, a wrong
HTTP method is a 405, someone without the right role gets a 403 (or a 404 where the view hides that the case
exists), and a staff page with nobody signed in, or no second factor, sends them to the sign-in page.

Staff pages put ``staff_required`` outside ``require_GET``/``require_POST``, and some decide the role inside the
view (oversight's selectors): so the 405 checks sign in with a role the URL serves, and the 403 checks use a method
it allows, so each answer is about one thing only. The DRF APIs answer 405 from ``APIView.dispatch`` (after the
permission check) and 403 from their permission classes, with nobody signed in too (session authentication sends
no challenge, so never a 401).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from audit.models import AuditEvent
from directory.lookup import authority_by_code
from directory.models import LocalAuthority
from referrals.models import Referral
from tests.factories import (
    ROTHERHAM,
    SHEFFIELD,
    attachment_make,
    partnership_make,
    referral_make,
    referral_of,
    referred_case,
    routed_case,
    sign_in,
    signed_in_as,
    staff_user,
    staff_with_mfa,
)
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

R = User.Role
ALL_ROLES: tuple[str, ...] = tuple(role for role, _ in R.choices)
HELPLINE = (R.CALL_HANDLER, R.SUPERVISOR)
OFFICER = (R.AUTHORITY_OFFICER,)
# The referral workspace and its API: authority officers and national reviewers, each in their own scope.
REFERRERS = (R.AUTHORITY_OFFICER, R.NATIONAL_REVIEWER)
ADMIN = (R.ADMINISTRATOR,)
STATS = (R.PARTNERSHIP, R.OVERSIGHT_ANALYST, R.SUPERVISOR)
PATTERNS = (R.OVERSIGHT_ANALYST, R.SUPERVISOR)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
GET, POST, GET_POST = ("GET",), ("POST",), ("GET", "POST")
SIGN_IN = "/staff/sign-in"  # accounts/urls.py "sign-in" under /staff/ (helpline/urls.py)
UNKNOWN_CASE = "2026-ZZZZZZ"
UNKNOWN_USER = 999_999_999
UNKNOWN_EXPORT = "00000000-0000-4000-8000-000000000000"

# --- what each view module serves ------------------------------------------------------------------------

# reports/views.py (reports/urls.py at /) and helpline/health.py's public /healthz: no role, only methods.
PUBLIC_PAGES: dict[str, tuple[str, ...]] = {
    "/": GET,
    "/privacy": GET,
    "/exit": GET_POST,
    "/report/begin": POST,
    "/report/in-progress": GET_POST,
    "/report/confirmation": GET_POST,
    "/report/anonymity": GET_POST,
    "/report/check-your-answers": GET_POST,
    "/report/session-ended": GET,
    "/report/more-time": POST,
    "/check": GET_POST,
    "/check/concern": GET,
    "/check/concern/message": POST,
    "/check/concern/close": POST,
    "/check/concern/more-time": POST,
    "/check/concern/signed-out": GET,
    "/check/concern/check-ins": POST,
    "/check/concern/check-in": POST,
    "/report/confirmation/receipt": GET,
    "/report/confirmation/receipt.txt": GET,
    "/check/concern/receipt": GET,
    "/check/concern/receipt.txt": GET,
    "/receipts/keys": GET,
    "/receipts/keys.json": GET,
    "/receipts/verify": GET_POST,
    "/check/concern/identity/answer": POST,
    "/check/concern/identity/withdraw": POST,
    "/check/concern/contact": POST,
    "/healthz": GET,
}
# accounts/views.py (accounts/urls.py at /staff/): reachable before signing in, so only methods.
ACCOUNT_PAGES: dict[str, tuple[str, ...]] = {
    "/staff/sign-in": GET_POST,
    "/staff/sign-in/code": GET_POST,
    "/staff/invitation/not-a-real-invitation": GET_POST,
    "/staff/invitation/not-a-real-invitation/authenticator": GET_POST,
    "/staff/sign-out": POST,
    "/staff/signed-out": GET,
}
# reports/api.py (helpline/urls.py api_v1): AllowAny.
PUBLIC_API: dict[str, tuple[str, ...]] = {
    "/api/v1/reports": POST,
    "/api/v1/reports/access": POST,
    "/api/v1/reports/messages": POST,
    "/api/v1/local-authorities": GET,
    "/api/v1/receipts/verify": POST,
}


def client_for(role: str) -> Client:
    """Signed in as a new member of staff with ``role``; the authority officer is Rotherham's, the
    safeguarding partnership one covering Rotherham and Sheffield."""
    partnership = partnership_make("Rotherham and Sheffield", ROTHERHAM, SHEFFIELD) if role == R.PARTNERSHIP else None
    return signed_in_as(role, *([ROTHERHAM] if role == R.AUTHORITY_OFFICER else []), partnership=partnership)[0]


# (path, allowed methods, roles allowed, form data for a POST). "{case}" is a case referred to Rotherham, whose
# officer is the authority officer of client_for(); a refused role must not reach it even though it exists.
STAFF_PAGES: list[tuple[str, tuple[str, ...], tuple[str, ...], dict[str, str]]] = [
    # triage/views.py
    ("/staff/", GET, ALL_ROLES, {}),
    ("/staff/cases", GET, HELPLINE, {}),
    ("/staff/cases/{case}", GET, HELPLINE, {}),
    ("/staff/cases/{case}/add_note", POST, HELPLINE, {"add_note-body": "Access check"}),
    # Issue 27: contact details are shown to the helpline only, with a reason (never to a recipient or anyone else).
    ("/staff/cases/{case}/reveal_contact", POST, HELPLINE, {"reveal_contact-reason": "contact_reporter"}),
    (
        "/staff/cases/{case}/refer_national_body",
        POST,
        HELPLINE,
        {
            "refer_national_body-national_body": "ofsted",
            "refer_national_body-how_sent": "telephone",
            "refer_national_body-summary": "Access check",
        },
    ),
    ("/staff/cases/{case}/files/{file}", GET, HELPLINE, {}),
    ("/staff/cases/{case}/files/{file}/preview", GET, HELPLINE, {}),
    ("/staff/cases/{case}/files/{file}/view", GET, HELPLINE, {}),
    ("/staff/phone-report", GET_POST, HELPLINE, {}),
    # triage/admin_views.py
    ("/staff/admin/authorities", GET, ADMIN, {}),
    (f"/staff/admin/authorities/{ROTHERHAM}", GET_POST, ADMIN, {"referral_email": "x@council.example"}),
    # accounts/admin_views.py (accounts/urls.py); refused before the account is looked up
    ("/staff/admin/staff", GET, ADMIN, {}),
    ("/staff/admin/staff/invite", GET_POST, ADMIN, {"username": "access-check", "role": R.CALL_HANDLER}),
    (f"/staff/admin/staff/{UNKNOWN_USER}", GET, ADMIN, {}),
    (f"/staff/admin/staff/{UNKNOWN_USER}/invitation", GET, ADMIN, {}),
    (f"/staff/admin/staff/{UNKNOWN_USER}/access", GET_POST, ADMIN, {"role": R.ADMINISTRATOR}),
    (f"/staff/admin/staff/{UNKNOWN_USER}/disable", GET_POST, ADMIN, {}),
    (f"/staff/admin/staff/{UNKNOWN_USER}/mfa-reset", GET_POST, ADMIN, {"reason": "Access check"}),
    (f"/staff/admin/staff/{UNKNOWN_USER}/mfa-reset/approve", POST, ADMIN, {"request": "1"}),
    (f"/staff/admin/staff/{UNKNOWN_USER}/mfa-reset/cancel", POST, ADMIN, {"request": "1"}),
    # accounts/admin_views.py (at accounts/urls.py's admin paths)
    (f"/staff/admin/staff/{UNKNOWN_USER}/access/confirm", GET_POST, ADMIN, {"role": R.CALL_HANDLER}),
    (f"/staff/admin/staff/{UNKNOWN_USER}/invitation/revoke", GET_POST, ADMIN, {}),
    (f"/staff/admin/staff/{UNKNOWN_USER}/invitation/reissue", GET_POST, ADMIN, {}),
    (f"/staff/admin/staff/{UNKNOWN_USER}/enable", GET_POST, ADMIN, {"reason": "Access check"}),
    ("/staff/admin/partnerships", GET, ADMIN, {}),
    ("/staff/admin/partnerships/new", GET_POST, ADMIN, {"name": "Access check", "authorities": "Rotherham"}),
    (
        f"/staff/admin/partnerships/{UNKNOWN_USER}",
        GET_POST,
        ADMIN,
        {"name": "Access check", "authorities": "Rotherham"},
    ),
    ("/staff/admin/national-bodies", GET, ADMIN, {}),
    (
        "/staff/admin/national-bodies/new",
        GET_POST,
        ADMIN,
        {"name": "Access check", "kind": "ofsted", "body_code": "access-check"},
    ),
    (
        f"/staff/admin/national-bodies/{UNKNOWN_USER}",
        GET_POST,
        ADMIN,
        {"name": "Access check", "kind": "ofsted", "body_code": "access-check"},
    ),
    (f"/staff/admin/national-bodies/{UNKNOWN_USER}/delete", GET_POST, ADMIN, {}),
    # referrals/views.py
    ("/staff/referrals", GET, REFERRERS, {}),
    ("/staff/referrals/{case}", GET, REFERRERS, {}),
    ("/staff/referrals/{case}/acknowledge", POST, REFERRERS, {}),
    ("/staff/referrals/{case}/{referral}/files/{file}", GET, REFERRERS, {}),
    ("/staff/referrals/{case}/{referral}/files/{file}/preview", GET, REFERRERS, {}),
    ("/staff/referrals/{case}/{referral}/files/{file}/view", GET, REFERRERS, {}),
    # oversight/views.py
    ("/staff/statistics", GET, STATS, {}),
    ("/staff/statistics.csv", GET, STATS, {}),
    ("/staff/patterns", GET, PATTERNS, {}),
    (f"/staff/patterns/{UNKNOWN_USER}", GET, PATTERNS, {}),
    (f"/staff/patterns/{UNKNOWN_USER}/acknowledge", POST, PATTERNS, {}),
    (f"/staff/patterns/{UNKNOWN_USER}/dismiss", POST, PATTERNS, {"note": "Access check"}),
    (f"/staff/patterns/{UNKNOWN_USER}/review", POST, PATTERNS, {}),
    ("/staff/statistics/figures", GET, STATS, {}),
    ("/staff/statistics/annual-report-2026.csv", GET, (R.OVERSIGHT_ANALYST, R.SUPERVISOR), {}),
    # helpline/health.py
    ("/staff/health", GET, (R.SUPERVISOR, R.ADMINISTRATOR), {}),
    # lifecycle/views.py: evidence exports, refused before the export is looked up
    ("/staff/lifecycle/exports", GET, (R.SUPERVISOR,), {}),
    ("/staff/lifecycle/exports/new", GET_POST, (R.SUPERVISOR,), {"scope": "case", "case_number": UNKNOWN_CASE}),
    (f"/staff/lifecycle/exports/{UNKNOWN_EXPORT}", GET, (R.SUPERVISOR,), {}),
    (
        f"/staff/lifecycle/exports/{UNKNOWN_EXPORT}/approve",
        POST,
        (R.SUPERVISOR,),
        {"digest": "0" * 64, "checked": "on"},
    ),
    (f"/staff/lifecycle/exports/{UNKNOWN_EXPORT}/cancel", POST, (R.SUPERVISOR,), {}),
    (f"/staff/lifecycle/exports/{UNKNOWN_EXPORT}/download", GET, (R.SUPERVISOR,), {}),
    (f"/staff/lifecycle/exports/{UNKNOWN_EXPORT}/bundle", GET, (R.SUPERVISOR,), {}),
    # lifecycle/views.py: the cases due for destruction, legal holds, early destruction
    ("/staff/lifecycle/due", GET, (R.SUPERVISOR,), {}),
    (
        "/staff/lifecycle/due/{case}/hold",
        GET_POST,
        (R.SUPERVISOR,),
        {"place_hold-basis": "court_order", "place_hold-reason": "Access check"},
    ),
    ("/staff/lifecycle/holds", GET, (R.SUPERVISOR, R.ADMINISTRATOR), {}),
    (f"/staff/lifecycle/holds/{UNKNOWN_USER}/keep", POST, (R.SUPERVISOR, R.ADMINISTRATOR), {}),
    (f"/staff/lifecycle/holds/{UNKNOWN_USER}/release", GET_POST, (R.SUPERVISOR, R.ADMINISTRATOR), {"confirm": "on"}),
    ("/staff/lifecycle/destruction", GET, (R.SUPERVISOR,), {}),
    (
        "/staff/lifecycle/destruction/ask/{case}",
        GET_POST,
        (R.SUPERVISOR,),
        {"reason": "filed_in_error", "confirm": "on"},
    ),
    (f"/staff/lifecycle/destruction/{UNKNOWN_USER}", GET, (R.SUPERVISOR,), {}),
    (f"/staff/lifecycle/destruction/{UNKNOWN_USER}/approve", POST, (R.SUPERVISOR,), {"confirm": "on"}),
    (f"/staff/lifecycle/destruction/{UNKNOWN_USER}/refuse", POST, (R.SUPERVISOR,), {}),
    (f"/staff/lifecycle/destruction/{UNKNOWN_USER}/withdraw", POST, (R.SUPERVISOR,), {}),
    # rota/views.py: the on-call rota (issue 28)
    ("/staff/rota", GET, (R.SUPERVISOR,), {}),
    ("/staff/rota/add", GET_POST, (R.SUPERVISOR,), {}),
    (f"/staff/rota/{UNKNOWN_USER}/edit", GET_POST, (R.SUPERVISOR,), {}),
    (f"/staff/rota/{UNKNOWN_USER}/remove", GET_POST, (R.SUPERVISOR,), {"confirm": "on"}),
]
# triage/api.py (HelplineStaffVerified); POST bodies are JSON.
STAFF_API: list[tuple[str, tuple[str, ...], tuple[str, ...], dict[str, str]]] = [
    ("/api/v1/cases", GET, HELPLINE, {}),
    # oversight/api.py (PatternAlertsAllowed): national oversight and helpline supervisors.
    ("/api/v1/patterns/alerts", GET, PATTERNS, {}),
    (f"/api/v1/patterns/alerts/{UNKNOWN_USER}/acknowledge", POST, PATTERNS, {}),
    (f"/api/v1/patterns/alerts/{UNKNOWN_USER}/dismiss", POST, PATTERNS, {"note": "Access check"}),
    (f"/api/v1/patterns/alerts/{UNKNOWN_USER}/review", POST, PATTERNS, {"confirm": True}),
    ("/api/v1/cases/{case}", GET, HELPLINE, {}),
    ("/api/v1/cases/{case}/add_note", POST, HELPLINE, {"body": "Access check"}),
    ("/api/v1/cases/{case}/reveal_contact", POST, HELPLINE, {"reason": "contact_reporter"}),
    (
        "/api/v1/cases/{case}/refer_national_body",
        POST,
        HELPLINE,
        {"national_body": "ofsted", "how_sent": "telephone", "summary": "Access check"},
    ),
    ("/api/v1/cases/{case}/attachments", GET, HELPLINE, {}),
    ("/api/v1/cases/{case}/attachments/{file}", GET, HELPLINE, {}),
]
# referrals/api.py (AuthorityOfficerVerified): the referral API, for officers and national reviewers.
AUTHORITY_API: list[tuple[str, tuple[str, ...], tuple[str, ...], dict[str, str]]] = [
    ("/api/v1/referrals", GET, REFERRERS, {}),
    ("/api/v1/referrals/{referral}", GET, REFERRERS, {}),
    ("/api/v1/referrals/{referral}/acknowledge", POST, REFERRERS, {}),
    ("/api/v1/referrals/{referral}/attachments", GET, REFERRERS, {}),
    ("/api/v1/referrals/{referral}/attachments/{file}", GET, REFERRERS, {}),
]


# The accounts.policy permission guarding each staff URL, by the start of its path (the longest that matches):
# the roles each row above serves must be exactly those the policy gives that permission, so the table, the
# policy and the views all agree. None: any verified member of staff.
GUARDS: dict[str, Permission | None] = {
    "/staff/": None,
    "/staff/cases": Permission.HELPLINE_WORK,
    "/staff/phone-report": Permission.HELPLINE_WORK,
    "/api/v1/cases": Permission.HELPLINE_WORK,
    "/staff/admin/": Permission.ADMINISTER,
    "/staff/referrals": Permission.REFERRAL_WORK,
    "/api/v1/referrals": Permission.REFERRAL_WORK,
    "/staff/statistics": Permission.STATISTICS,
    "/staff/statistics/annual-report-": Permission.NATIONAL_STATISTICS,
    "/staff/patterns": Permission.PATTERN_ALERTS,
    "/api/v1/patterns": Permission.PATTERN_ALERTS,
    "/staff/health": Permission.SERVICE_HEALTH,
    "/staff/lifecycle/exports": Permission.EVIDENCE_EXPORT,
    "/staff/lifecycle/due": Permission.DESTRUCTION_DUE,
    "/staff/lifecycle/holds": Permission.LEGAL_HOLD,
    "/staff/lifecycle/destruction": Permission.DESTROY_EARLY,
    "/staff/rota": Permission.MANAGE_ROTA,
}


def guard(path: str) -> Permission | None:
    return GUARDS[max((prefix for prefix in GUARDS if path.startswith(prefix)), key=len)]


@pytest.mark.parametrize(
    ("path", "roles"), [(path, roles) for path, _, roles, _ in STAFF_PAGES + STAFF_API + AUTHORITY_API]
)
def test_each_url_serves_exactly_the_roles_the_policy_gives_its_permission(path: str, roles: tuple[str, ...]) -> None:
    permission = guard(path)
    allowed = (
        set(ALL_ROLES) if permission is None else {role for role in ALL_ROLES if policy.role_may(role, permission)}
    )
    assert allowed == set(roles), (path, permission)


def _wrong_methods(urls: dict[str, tuple[str, ...]]) -> list[Any]:
    return [
        pytest.param(path, method, allowed, id=f"{method} {path}")
        for path, allowed in urls.items()
        for method in METHODS
        if method not in allowed
    ]


def _staff_wrong_methods(urls: list[tuple[str, tuple[str, ...], tuple[str, ...], dict[str, str]]]) -> list[Any]:
    return [
        pytest.param(path, method, allowed, roles[0], id=f"{roles[0]} {method} {path}")
        for path, allowed, roles, _ in urls
        for method in METHODS
        if method not in allowed
    ]


def _refused_roles(urls: list[tuple[str, tuple[str, ...], tuple[str, ...], dict[str, str]]]) -> list[Any]:
    return [
        pytest.param(role, method, path, data, id=f"{role} {method} {path}")
        for path, allowed, roles, data in urls
        for method in allowed
        for role in ALL_ROLES
        if role not in roles
    ]


def _every_method(urls: list[tuple[str, tuple[str, ...], tuple[str, ...], dict[str, str]]]) -> list[Any]:
    return [
        pytest.param(method, path, data, id=f"{method} {path}") for path, allowed, _, data in urls for method in allowed
    ]


# --- helpers ---------------------------------------------------------------------------------------------


def call(client: Client, method: str, path: str, data: dict[str, str] | None = None, *, api: bool = False) -> Any:
    if method == "POST" and data is not None:
        return client.post(path, data, content_type="application/json") if api else client.post(path, data)
    return client.generic(method, path)


def case_path(path: str) -> str:
    """The path, with "{case}" as a real case referred to Rotherham, "{referral}" as its referral and "{file}"
    as a cleaned file of the case shared with that referral (only built when the path needs one)."""
    if "{case}" not in path and "{referral}" not in path:
        return path
    case = referred_case(staff_user("access-referrer", role=R.SUPERVISOR))
    referral = referral_of(case)
    file = ""
    if "{file}" in path:
        shared = attachment_make(case)
        referral.attachments.add(shared)
        file = str(shared.public_id)
    return path.format(case=case.case_number, referral=referral.pk, file=file)


def unverified_client() -> Client:
    """A supervisor (the widest helpline role) signed in with a password session but no second factor."""
    user, _ = staff_with_mfa("no-second-factor", role=R.SUPERVISOR)
    client = Client()
    client.force_login(user)
    return client


def assert_not_allowed(response: Any, method: str, allowed: tuple[str, ...]) -> None:
    assert response.status_code == 405, (response.status_code, response.content[:200])
    offered = {m.strip() for m in response["Allow"].split(",")}
    assert method not in offered
    assert set(allowed) <= offered


# --- wrong methods: 405 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "method", "allowed"), _wrong_methods(PUBLIC_PAGES))
def test_a_public_page_refuses_a_wrong_method(client: Client, path: str, method: str, allowed: tuple[str, ...]) -> None:
    assert_not_allowed(call(client, method, path), method, allowed)


@pytest.mark.parametrize(("path", "method", "allowed"), _wrong_methods(ACCOUNT_PAGES))
def test_a_sign_in_page_refuses_a_wrong_method(
    client: Client, path: str, method: str, allowed: tuple[str, ...]
) -> None:
    assert_not_allowed(call(client, method, path), method, allowed)


@pytest.mark.parametrize(("path", "method", "allowed"), _wrong_methods(PUBLIC_API))
def test_the_public_api_refuses_a_wrong_method(
    client: Client, path: str, method: str, allowed: tuple[str, ...]
) -> None:
    assert_not_allowed(call(client, method, path), method, allowed)


@pytest.mark.parametrize(("path", "method", "allowed", "role"), _staff_wrong_methods(STAFF_PAGES))
def test_a_staff_page_refuses_a_wrong_method_to_a_role_it_serves(
    path: str, method: str, allowed: tuple[str, ...], role: str
) -> None:
    client = client_for(role)
    assert_not_allowed(call(client, method, case_path(path)), method, allowed)


@pytest.mark.parametrize(("path", "method", "allowed", "role"), _staff_wrong_methods(STAFF_API))
def test_the_staff_api_refuses_a_wrong_method_to_helpline_staff(
    path: str, method: str, allowed: tuple[str, ...], role: str
) -> None:
    client = client_for(role)
    assert_not_allowed(call(client, method, case_path(path)), method, allowed)


# --- the wrong role: 403, and nothing done ----------------------------------------------------------------


@pytest.mark.parametrize(("role", "method", "path", "data"), _refused_roles(STAFF_PAGES))
def test_a_staff_page_is_forbidden_to_a_role_it_does_not_serve(
    role: str, method: str, path: str, data: dict[str, str]
) -> None:
    client, url = client_for(role), case_path(path)
    events = AuditEvent.objects.count()
    response = call(client, method, url, data)
    assert response.status_code == 403, (response.status_code, response.content[:200])
    assert AuditEvent.objects.count() == events  # not even a content view


@pytest.mark.parametrize(("role", "method", "path", "data"), _refused_roles(STAFF_API))
def test_the_staff_api_is_forbidden_to_a_role_that_is_not_helpline(
    role: str, method: str, path: str, data: dict[str, str]
) -> None:
    client, url = client_for(role), case_path(path)
    events = AuditEvent.objects.count()
    response = call(client, method, url, data, api=True)
    assert response.status_code == 403, (response.status_code, response.content[:200])
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert AuditEvent.objects.count() == events


def test_the_admin_inbox_is_unchanged_by_a_refused_post() -> None:
    authority = authority_by_code(ROTHERHAM)
    assert authority is not None
    before = authority.referral_email
    response = client_for(R.SUPERVISOR).post(f"/staff/admin/authorities/{ROTHERHAM}", {"referral_email": "x@a.example"})
    assert response.status_code == 403
    assert LocalAuthority.objects.get(pk=authority.pk).referral_email == before


def test_a_partnership_member_without_a_partnership_is_forbidden_the_statistics() -> None:
    """Statistics are scoped to the member's partnership: with none, the role alone opens nothing."""
    user, _ = staff_with_mfa("member-without-partnership", role=R.PARTNERSHIP)
    client = Client()
    sign_in(client, user)
    assert client.get("/staff/statistics").status_code == 403
    assert client.get("/staff/statistics.csv").status_code == 403


# --- nobody signed in, or no second factor: to the sign-in page -------------------------------------------


@pytest.mark.parametrize(("method", "path", "data"), _every_method(STAFF_PAGES))
def test_a_staff_page_sends_an_anonymous_visitor_to_sign_in(
    client: Client, method: str, path: str, data: dict[str, str]
) -> None:
    response = call(client, method, case_path(path), data)
    assert (response.status_code, response["Location"]) == (302, SIGN_IN)


@pytest.mark.parametrize(("method", "path", "data"), _every_method(STAFF_PAGES))
def test_a_staff_page_sends_a_session_without_a_second_factor_to_sign_in(
    method: str, path: str, data: dict[str, str]
) -> None:
    response = call(unverified_client(), method, case_path(path), data)
    assert (response.status_code, response["Location"]) == (302, SIGN_IN)


@pytest.mark.parametrize(("role", "method", "path", "data"), _refused_roles(AUTHORITY_API))
def test_the_authority_api_is_forbidden_to_a_role_that_is_not_an_officer(
    role: str, method: str, path: str, data: dict[str, str]
) -> None:
    client, url = client_for(role), case_path(path)
    events = AuditEvent.objects.count()
    response = call(client, method, url, data, api=True)
    assert response.status_code == 403, (response.status_code, response.content[:200])
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(("method", "path", "data"), _every_method(STAFF_API + AUTHORITY_API))
@pytest.mark.parametrize("who", ["anonymous", "no second factor"])
def test_the_staff_api_is_forbidden_without_a_verified_session(
    who: str, method: str, path: str, data: dict[str, str]
) -> None:
    client = Client() if who == "anonymous" else unverified_client()
    response = call(client, method, case_path(path), data, api=True)
    assert response.status_code == 403, (response.status_code, response.content[:200])
    assert "Location" not in response


def test_a_staff_page_with_a_wrong_method_still_sends_an_anonymous_visitor_to_sign_in(client: Client) -> None:
    """The role check comes before the method check: nothing about a staff URL is told before signing in."""
    response = client.delete("/staff/cases")
    assert (response.status_code, response["Location"]) == (302, SIGN_IN)


# --- outside the officer's scope: 404, as if the case did not exist ---------------------------------------


def _out_of_scope_case(scenario: str) -> str:
    supervisor = staff_user("access-referrer", role=R.SUPERVISOR)
    if scenario == "referred to another authority":
        return referred_case(supervisor, local_authority=authority_by_code(SHEFFIELD)).case_number
    if scenario == "not referred yet":
        return routed_case().case_number
    if scenario == "about the officer's own council":
        return routed_case(about_authority=authority_by_code(ROTHERHAM)).case_number
    return UNKNOWN_CASE


@pytest.mark.parametrize(
    "scenario",
    ["referred to another authority", "not referred yet", "about the officer's own council", "unknown case number"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/staff/referrals/{case}"),
        ("POST", "/staff/referrals/{case}/acknowledge"),
        ("POST", "/staff/referrals/{case}/ask_helpline"),
    ],
)
def test_a_case_outside_the_officers_authorities_is_not_found(scenario: str, method: str, path: str) -> None:
    client, number = client_for(R.AUTHORITY_OFFICER), _out_of_scope_case(scenario)
    events = AuditEvent.objects.count()
    response = call(client, method, path.format(case=number), {"ask_helpline-note": "Access check"})
    assert response.status_code == 404, (response.status_code, response.content[:200])
    assert number.encode() not in response.content
    assert AuditEvent.objects.count() == events
    if scenario != "unknown case number":
        assert not Referral.objects.filter(case__case_number=number, acknowledged_at__isnull=False).exists()


@pytest.mark.parametrize(
    "scenario", ["referred to another authority", "about the officer's own council", "unknown referral"]
)
@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/v1/referrals/{referral}"), ("POST", "/api/v1/referrals/{referral}/acknowledge")]
)
def test_a_referral_outside_the_officers_authorities_is_not_found_in_the_api(
    scenario: str, method: str, path: str
) -> None:
    client = client_for(R.AUTHORITY_OFFICER)
    if scenario == "unknown referral":
        referral_id = 10**9
    else:
        number = _out_of_scope_case(scenario)
        case = Case.objects.get(case_number=number)
        if scenario == "about the officer's own council":
            # However it came to carry a referral to Rotherham, it stays invisible to Rotherham.
            referral_make(case, authority=authority_by_code(ROTHERHAM))
        referral_id = referral_of(case).pk
    events = AuditEvent.objects.count()
    response = call(client, method, path.format(referral=referral_id), {}, api=True)
    assert response.status_code == 404, (response.status_code, response.content[:200])
    assert AuditEvent.objects.count() == events
    assert not Referral.objects.filter(pk=referral_id, acknowledged_at__isnull=False).exists()


@pytest.mark.parametrize(
    ("method", "path", "api"),
    [
        ("GET", "/staff/cases/{case}", False),
        ("POST", "/staff/cases/{case}/add_note", False),
        ("GET", "/api/v1/cases/{case}", True),
        ("POST", "/api/v1/cases/{case}/add_note", True),
    ],
)
def test_an_unknown_case_number_is_not_found_by_helpline_staff(method: str, path: str, api: bool) -> None:
    data = {"body": "x"} if api else {"add_note-body": "x"}
    response = call(client_for(R.CALL_HANDLER), method, path.format(case=UNKNOWN_CASE), data, api=api)
    assert response.status_code == 404, (response.status_code, response.content[:200])


# --- the public side never serves staff ------------------------------------------------------------------


@pytest.mark.parametrize("role", HELPLINE)
def test_signed_in_staff_get_nothing_more_from_the_public_pages(role: str) -> None:
    """A staff session opens nothing more on a reporter page: every method they refuse, they still refuse."""
    client = client_for(role)
    for path, allowed in PUBLIC_PAGES.items():
        for method in METHODS:
            if method not in allowed:
                assert call(client, method, path).status_code == 405, (method, path)


@pytest.mark.parametrize(
    ("method", "path", "api"),
    [
        ("GET", "/staff/referrals/{case}", False),
        ("POST", "/staff/referrals/{case}/acknowledge", False),
        ("GET", "/api/v1/referrals/{referral}", True),
        ("POST", "/api/v1/referrals/{referral}/acknowledge", True),
    ],
)
def test_a_referral_to_an_authority_is_not_found_for_a_national_reviewer(method: str, path: str, api: bool) -> None:
    """A national reviewer works the referrals to the review team only (accounts.policy.referral_scope)."""
    client, url = client_for(R.NATIONAL_REVIEWER), case_path(path)
    events = AuditEvent.objects.count()
    response = call(client, method, url, {}, api=api)
    assert response.status_code == 404, (response.status_code, response.content[:200])
    assert AuditEvent.objects.count() == events
    assert not Referral.objects.filter(acknowledged_at__isnull=False).exists()

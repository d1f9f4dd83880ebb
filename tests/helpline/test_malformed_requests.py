"""Malformed requests of every kind get a clear 4xx, never a 500: surrogates in JSON, form bodies in a
charset Django refuses, NUL in a path segment. Each case here was a 500 before the fix.

The Django test client re-raises whatever a view lets escape, so a would-be 500 fails these tests with the
application's own traceback.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from accounts.models import User
from directory import lookup as authorities
from helpline.json_codec import SafeJSONRenderer, unencodable_fields
from tests.factories import signed_in_as, submit_report
from tests.fuzzing import examples
from triage.intake import report_route
from triage.models import Case
from triage.staff_actions import ACTION_FORMS, action_form

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

SURROGATES = ["\ud800", "x\udfffy", "\udbff", "E08000038\ud83d"]
VALID_REPORT: dict[str, Any] = {
    "anonymity": "anonymous",
    "reporter_sector": "education",
    "concern_types": ["concern_not_acted_on"],
    "summary": "A concern was not passed on",
    "details": "Nothing was recorded.",
    "child_at_immediate_risk": False,
    "raised_internally": "yes",
}
ROTHERHAM = "E08000018"


def post_json(client: Client, path: str, body: Any) -> Any:
    # json.dumps writes a lone surrogate as the escape \ud800: exactly what an attacker sends.
    return client.post(path, json.dumps(body), content_type="application/json")


def assert_field_error(response: Any, *path: str) -> None:
    """A 400 in UTF-8 JSON, with the error at the field's own place in the body."""
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json"
    errors = json.loads(response.content.decode("utf-8"))  # strict UTF-8: no lone surrogate came back
    node: Any = errors
    for key in path:
        assert isinstance(node, dict) and key in node, (path, errors)
        node = node[key]
    assert isinstance(node, list) and "surrogate" in node[0], errors


@pytest.fixture
def case() -> Case:
    return report_route(report_id=submit_report(local_authority=authorities.authority_by_code(ROTHERHAM)).report.pk)


# --- lone surrogates in JSON -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", SURROGATES)
@pytest.mark.parametrize(
    "field",
    [
        "anonymity",
        "reporter_sector",
        "raised_internally",
        "summary",
        "details",
        "postcode",
        "organisation_name",
        "internal_response",
        "local_authority",
        "about_authority",
    ],
)
def test_a_lone_surrogate_in_any_report_field_is_a_field_error(field: str, value: str) -> None:
    assert_field_error(post_json(Client(), "/api/v1/reports", {**VALID_REPORT, field: value}), field)


def test_a_lone_surrogate_in_a_list_item_names_the_item() -> None:
    body = {**VALID_REPORT, "concern_types": ["other", "\ud800"]}
    assert_field_error(post_json(Client(), "/api/v1/reports", body), "concern_types", "1")


def test_a_lone_surrogate_in_a_nested_field_names_the_nested_field() -> None:
    body = {**VALID_REPORT, "anonymity": "confidential", "contact": {"name": "Sam\ud800", "email": "s@example.com"}}
    assert_field_error(post_json(Client(), "/api/v1/reports", body), "contact", "name")


def test_a_lone_surrogate_in_a_field_name_is_a_non_field_error() -> None:
    response = post_json(Client(), "/api/v1/reports", {**VALID_REPORT, "\ud800": 1})
    assert_field_error(response, "non_field_errors")


def test_a_body_that_is_one_lone_surrogate_string_is_a_400() -> None:
    assert_field_error(post_json(Client(), "/api/v1/reports", "\ud800"), "non_field_errors")


@pytest.mark.parametrize("field", ["reference", "access_code"])
@pytest.mark.parametrize("path", ["/api/v1/reports/access", "/api/v1/reports/messages"])
def test_a_lone_surrogate_in_the_reference_or_code_is_a_field_error(path: str, field: str) -> None:
    body = {"reference": "ACDE-FGHJ", "access_code": "apple " * 7, "body": "Hello", "kind": "message", field: "\ud800"}
    assert_field_error(post_json(Client(), path, body), field)


@pytest.mark.parametrize("field", ["body", "kind"])
def test_a_lone_surrogate_in_a_reporter_message_is_a_field_error(field: str) -> None:
    body = {"reference": "ACDE-FGHJ", "access_code": "apple " * 7, "body": "Hello", "kind": "message", field: "\udfff"}
    assert_field_error(post_json(Client(), "/api/v1/reports/messages", body), field)


STAFF_ACTIONS = ["assign", "set_priority", "set_concern_types", "set_authority", "escalate", "close"]


@pytest.mark.parametrize("action", STAFF_ACTIONS)
def test_a_lone_surrogate_in_any_staff_action_field_is_a_field_error(case: Case, action: str) -> None:
    client = signed_in_as(User.Role.SUPERVISOR)[0]
    form = action_form(action)
    assert form is not None
    for field in form.fields:
        response = post_json(client, f"/api/v1/cases/{case.case_number}/{action}", {field: "\ud800"})
        assert_field_error(response, field)


def test_every_staff_action_with_a_form_is_covered() -> None:
    with_choices = {name for name, form in ACTION_FORMS.items() if form is not None}
    assert set(STAFF_ACTIONS) <= with_choices


def test_the_json_renderer_never_fails_on_text_it_cannot_encode() -> None:
    rendered = SafeJSONRenderer().render({"detail": "\ud800 is not a valid choice", "\udfff": ["x"]})
    assert json.loads(rendered.decode("utf-8")) == {"detail": "\ufffd is not a valid choice", "\ufffd": ["x"]}


json_with_surrogates = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(alphabet=st.characters(codec=None), max_size=8)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=examples(200), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=json_with_surrogates)
@example(data={"anonymity": "\ud800"})
@example(data=["ok", {"a": ["b", "\udc00"]}])
def test_the_surrogate_check_finds_every_bad_string_and_only_those(data: Any) -> None:
    def bad_strings(value: Any) -> int:
        if isinstance(value, str):
            return int(any("\ud800" <= ch <= "\udfff" for ch in value))
        if isinstance(value, dict):
            return sum(bad_strings(k) + bad_strings(v) for k, v in value.items())
        if isinstance(value, list):
            return sum(bad_strings(v) for v in value)
        return 0

    assert bool(unencodable_fields(data)) == bool(bad_strings(data))


# --- form bodies Django cannot read ------------------------------------------------------------------------

# Django refuses a form in any charset it knows but UTF-8 (a name it does not know is ignored: UTF-8).
BAD_CHARSETS = ["utf-16", "rot13", "idna", "latin-1", "utf-32-be"]
PUBLIC_FORMS = [
    "/check",
    "/report/begin",
    "/report/anonymity",
    "/report/what-happened",
    "/report/check-your-answers",
    "/check/concern/message",
    "/check/concern/close",
    "/staff/sign-in",
    "/staff/sign-in/code",
]


def assert_one_line_400_page(response: Any, caplog: pytest.LogCaptureFixture, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    page = response.content.decode()
    assert 'class="govuk-template"' in page and "govuk-heading-l" in page
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    assert response["Cross-Origin-Embedder-Policy"] == "require-corp"
    logged = [record for record in caplog.records if record.levelno >= logging.INFO]
    assert len(logged) == 1, [record.getMessage()[:200] for record in logged]
    assert logged[0].name == "helpline.requests"


def form_post(client: Client, path: str, charset: str) -> Any:
    body = b"csrfmiddlewaretoken=x&reference=ACDE-FGHJ"
    # generic() sends the bytes as they are (post() would try to encode them in the named charset).
    return client.generic("POST", path, body, content_type=f"application/x-www-form-urlencoded; charset={charset}")


@pytest.mark.parametrize("charset", BAD_CHARSETS)
@pytest.mark.parametrize("path", PUBLIC_FORMS)
def test_a_form_in_a_charset_other_than_utf8_is_one_400_page_and_one_log_line(
    path: str, charset: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = Client(enforce_csrf_checks=True)
    assert_one_line_400_page(form_post(client, path, charset), caplog)


STAFF_FORMS = {
    User.Role.SUPERVISOR: ["/staff/cases/{case}/claim", "/staff/cases/{case}/add_note", "/staff/phone-report"],
    User.Role.AUTHORITY_OFFICER: ["/staff/referrals/{case}/acknowledge"],
    User.Role.ADMINISTRATOR: [f"/staff/admin/authorities/{ROTHERHAM}"],
}


@pytest.mark.parametrize("charset", ["utf-16", "rot13"])
@pytest.mark.parametrize(("role", "path"), [(role, path) for role, paths in STAFF_FORMS.items() for path in paths])
def test_a_staff_action_in_a_bad_charset_is_one_400_page(
    case: Case, role: str, path: str, charset: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = signed_in_as(role, ROTHERHAM)[0]
    caplog.set_level(logging.INFO)
    caplog.clear()
    assert_one_line_400_page(form_post(client, path.format(case=case.case_number), charset), caplog)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"a=b", "multipart/form-data"),  # no boundary
        (b"a=b", "multipart/form-data; boundary="),
        ("&".join(f"f{i}=1" for i in range(1_500)).encode(), "application/x-www-form-urlencoded"),
    ],
)
def test_a_broken_multipart_body_or_too_many_fields_is_a_400(
    body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    response = Client().generic("POST", "/check", body, content_type=content_type)
    assert_one_line_400_page(response, caplog)


def test_a_form_body_over_the_size_limit_is_a_413_page(caplog: pytest.LogCaptureFixture, settings: Any) -> None:
    caplog.set_level(logging.INFO)
    body = b"details=" + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = Client().post("/report/what-happened", body, content_type="application/x-www-form-urlencoded")
    assert_one_line_400_page(response, caplog, status=413)


def test_a_form_content_type_on_the_api_is_left_to_drf() -> None:
    response = Client().post(
        "/api/v1/reports", b"a=b", content_type="application/x-www-form-urlencoded; charset=utf-16"
    )
    assert response.status_code == 415
    assert response["Content-Type"] == "application/json"


# --- NUL and other non-identifiers in a path segment -------------------------------------------------------

NUL_PATHS = {
    User.Role.SUPERVISOR: [
        "/staff/cases/%00",
        "/staff/cases/%00/claim",
        "/api/v1/cases/%00",
        "/api/v1/cases/%00/claim",
    ],
    User.Role.AUTHORITY_OFFICER: ["/staff/referrals/%00", "/staff/referrals/%00/acknowledge"],
    User.Role.ADMINISTRATOR: ["/staff/admin/authorities/%00", "/staff/admin/authorities/E08%00000018"],
}


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(("role", "path"), [(role, path) for role, paths in NUL_PATHS.items() for path in paths])
def test_a_nul_in_a_staff_path_segment_is_a_404(role: str, path: str, method: str) -> None:
    client = signed_in_as(role, ROTHERHAM)[0]
    response = getattr(client, method)(path)
    assert response.status_code == 404, (path, response.status_code)
    if path.startswith("/api/"):
        assert response.json() == {"detail": "Not found."}
    else:
        assert b"Page not found" in response.content


@pytest.mark.parametrize("path", ["/report/%00", "/report/a%00b", "/%00", "/check/%00", "/api/v1/%00", "/static/%00"])
def test_a_nul_in_a_public_path_is_a_404(path: str) -> None:
    response = Client().get(path)
    assert response.status_code == 404, (path, response.status_code)


def test_a_staff_page_not_found_points_back_to_the_workspace_and_a_public_one_to_the_start() -> None:
    client = signed_in_as(User.Role.SUPERVISOR)[0]
    staff_page = client.get("/staff/cases/NO-SUCH-CASE").content.decode()
    assert "Staff services" in staff_page and 'href="/staff/"' in staff_page
    assert "NO-SUCH-CASE" not in staff_page, "the address is not quoted back"
    public_page = Client().get("/report/no-such-step").content.decode()
    assert 'href="/">Go to the start page' in public_page and "Helpline workspace" not in public_page

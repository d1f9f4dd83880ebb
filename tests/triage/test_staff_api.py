"""The staff API refuses whatever the role or scope does not allow."""

from typing import Any

import pytest
from django.test import Client

from accounts.models import User
from directory import lookup as authorities
from directory.models import LocalAuthority
from tests.factories import sign_in, staff_with_mfa, submit_report
from triage.events import case_events
from triage.intake import report_route
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

ROLES = [role for role, _ in User.Role.choices]
ENDPOINTS = [
    ("get", "/api/v1/cases", None),
    ("get", "/api/v1/cases/{case}", None),
    ("post", "/api/v1/cases/{case}/claim", {}),
    ("post", "/api/v1/cases/{case}/add_note", {"body": "note"}),
    ("post", "/api/v1/cases/{case}/set_priority", {"priority": "urgent"}),
]


@pytest.fixture
def cases() -> dict[str, Case]:
    rotherham = authorities.authority_by_code("E08000018")
    sheffield = authorities.authority_by_code("E08000039")
    own = report_route(report_id=submit_report(local_authority=rotherham).report.pk)
    other = report_route(report_id=submit_report(local_authority=sheffield).report.pk)
    return {"own": own, "other": other}


def client_for(role: str) -> Client:
    user, _ = staff_with_mfa(f"user-{role}", role=role)
    if role == User.Role.AUTHORITY_OFFICER:
        user.authorities.set([authorities.authority_by_code("E08000018")])
    client = Client()
    sign_in(client, user)
    return client


def call(client: Client, method: str, path: str, body: dict[str, Any] | None) -> Any:
    if method == "get":
        return client.get(path)
    return client.post(path, body or {}, content_type="application/json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
@pytest.mark.parametrize("which", ["own", "other"])
def test_every_endpoint_refuses_what_the_role_or_scope_does_not_allow(
    cases: dict[str, Case], role: str, method: str, path: str, body: dict[str, Any] | None, which: str
) -> None:
    response = call(client_for(role), method, path.format(case=cases[which].case_number), body)
    if role in (User.Role.CALL_HANDLER, User.Role.SUPERVISOR):
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code in (403, 404), (role, response.status_code)
        assert b"Missing" not in response.content and b"summary" not in response.content


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS)
def test_no_endpoint_answers_without_a_second_factor(
    cases: dict[str, Case], method: str, path: str, body: dict[str, Any] | None
) -> None:
    staff_with_mfa("half", role=User.Role.SUPERVISOR)
    client = Client()
    client.post("/staff/sign-in", {"username": "half", "password": "correct horse battery staple"})
    response = call(client, method, path.format(case=cases["own"].case_number), body)
    assert response.status_code == 403


def test_the_case_detail_decrypts_and_is_an_audit_event(cases: dict[str, Case]) -> None:
    client = client_for(User.Role.CALL_HANDLER)
    body = client.get(f"/api/v1/cases/{cases['own'].case_number}").json()
    assert body["content"]["details"].startswith("A girl keeps going missing")
    assert case_events(cases["own"]).filter(kind="content_viewed").count() == 1


def test_an_action_not_allowed_now_is_a_409_with_the_reason(cases: dict[str, Case]) -> None:
    client = client_for(User.Role.SUPERVISOR)
    number = cases["own"].case_number
    assert (
        client.post(
            f"/api/v1/cases/{number}/close",
            {"outcome": "not_substantiated", "feedback": "Done.", "confirm": True},
            content_type="application/json",
        ).status_code
        == 200
    )
    refused = client.post(f"/api/v1/cases/{number}/claim", {}, content_type="application/json")
    assert refused.status_code == 409
    assert "closed" in refused.json()["detail"]


def test_invalid_action_data_is_a_400_with_field_errors(cases: dict[str, Case]) -> None:
    client = client_for(User.Role.SUPERVISOR)
    response = client.post(
        f"/api/v1/cases/{cases['own'].case_number}/set_priority",
        {"priority": "whenever"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "priority" in response.json()


def test_the_case_list_filters_like_the_page(cases: dict[str, Case]) -> None:
    client = client_for(User.Role.CALL_HANDLER)
    rows = client.get("/api/v1/cases?authority=E08000039").json()["results"]
    assert [r["case_number"] for r in rows] == [cases["other"].case_number]
    assert client.get("/api/v1/cases?page_size=7").status_code == 400


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("refer", {"summary": "Please look into it.", "share_organisation": "no"}, "share_organisation"),
        ("refer", {"summary": "Please look into it.", "share_organisation": "false"}, "share_organisation"),
        ("refer", {"summary": "Please look into it.", "share_organisation": 1}, "share_organisation"),
        ("refer", {"summary": "Please look into it.", "share_organisation": {}}, "share_organisation"),
        ("add_note", {"body": ["a", "b"]}, "body"),
        ("add_note", {"body": {"a": "b"}}, "body"),
        ("add_note", {"body": 42}, "body"),
        ("set_priority", {"priority": ["urgent"]}, "priority"),
        ("set_concern_types", {"concern_types": "other"}, "concern_types"),
        ("set_concern_types", {"concern_types": ["other", 3]}, "concern_types"),
    ],
)
def test_a_value_of_the_wrong_json_type_is_a_field_error_and_changes_nothing(
    cases: dict[str, Case], action: str, body: dict[str, Any], field: str
) -> None:
    """Nothing is coerced: "share_identity": "no" once meant "share the reporter's identity" (a yes or no is a
    JSON boolean, like share_organisation's)."""
    case = cases["own"]
    status, events = case.status, case_events(case).count()
    client = client_for(User.Role.SUPERVISOR)
    response = client.post(f"/api/v1/cases/{case.case_number}/{action}", body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    case.refresh_from_db()
    assert case.status == status
    assert case_events(case).count() == events


def test_a_yes_or_no_given_as_a_json_boolean_is_accepted(cases: dict[str, Case]) -> None:
    # An authority an email reaches (issue 22: otherwise the refer form asks how the helpline will tell it).
    LocalAuthority.objects.filter(pk=cases["own"].authority_id).update(referral_email="referrals@council.example")
    client = client_for(User.Role.SUPERVISOR)
    response = client.post(
        f"/api/v1/cases/{cases['own'].case_number}/refer",
        {"summary": "Please look into it.", "share_organisation": False},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content

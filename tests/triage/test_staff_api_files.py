"""The staff API's files: GET /api/v1/cases/{case_number}/attachments lists a case's files, and
.../attachments/{id} streams one, with the same scope, audit events and headers as the case page."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.test import Client
from knox.models import AuthToken

from accounts.models import User
from audit.models import AuditEvent
from tests.factories import (
    ROTHERHAM,
    attachment_make,
    partnership_make,
    referred_case,
    routed_case,
    signed_in_as,
    staff_user,
)
from triage.models import Case

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
R = User.Role


@pytest.fixture
def handler_api(handler: User) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(handler)[1]}")


def streamed(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def listing(case: Case) -> str:
    return f"/api/v1/cases/{case.case_number}/attachments"


def one(case: Case, attachment: Any) -> str:
    return f"/api/v1/cases/{case.case_number}/attachments/{attachment.public_id}"


def test_the_list_gives_each_files_id_name_type_size_status_and_whether_it_was_cleaned(
    handler: User, handler_api: Client
) -> None:
    case = routed_case()
    clean = attachment_make(case, b"rota\n", name="rota.txt")
    blocked = attachment_make(case, PNG, name="photo.png", content_type="image/png", status="blocked")
    response = handler_api.get(listing(case))
    assert response.status_code == 200
    assert response.json() == {
        "attachments": [
            {
                "id": str(clean.public_id),
                "name": "rota.txt",
                "type": "text/plain",
                "size": 5,
                "status": "clean",
                "cleaned": True,
                "warning": "",
                "signature": "",
                "added_by": "reporter",
                "added_on": clean.added_on.isoformat(),
            },
            {
                "id": str(blocked.public_id),
                "name": "photo.png",
                "type": "image/png",
                "size": len(PNG),
                "status": "blocked",
                "cleaned": False,
                "warning": "Blocked by the malware scan (Eicar-Test-Signature). It cannot be opened.",
                "signature": "Eicar-Test-Signature",
                "added_by": "reporter",
                "added_on": blocked.added_on.isoformat(),
            },
        ]
    }
    event = AuditEvent.objects.get(kind="content_viewed")
    assert (event.actor, event.detail) == (handler, {"view": "files"})


def test_a_file_is_streamed_with_the_pages_headers_and_is_an_audit_event(handler: User, handler_api: Client) -> None:
    case = routed_case()
    data = b"Notes of the strategy meeting\n" * 5000
    file = attachment_make(case, data, name="notes.txt")
    response = handler_api.get(one(case, file))
    assert response.status_code == 200
    assert streamed(response) == data
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="notes.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    event = AuditEvent.objects.get(kind="attachment_downloaded")
    assert (event.actor, event.detail) == (handler, {"attachment_id": file.pk, "inline": False})


@pytest.mark.parametrize(("status", "answer"), [("pending", 404), ("blocked", 410), ("removed", 410)])
def test_a_file_being_checked_blocked_or_removed_is_never_streamed(
    handler_api: Client, status: str, answer: int
) -> None:
    case = routed_case()
    file = attachment_make(case, status=status)
    # Whatever the client says it accepts, the refusal is JSON.
    response = handler_api.get(one(case, file), HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == answer
    assert "detail" in response.json()
    assert not AuditEvent.objects.filter(kind="attachment_downloaded").exists()


def test_an_unknown_file_or_another_cases_is_not_found(handler_api: Client) -> None:
    case = routed_case()
    theirs = attachment_make(routed_case())
    assert handler_api.get(one(case, theirs)).status_code == 404
    assert handler_api.get(f"{listing(case)}/00000000-0000-4000-8000-000000000000").status_code == 404
    assert handler_api.get("/api/v1/cases/2026-ZZZZZZ/attachments").status_code == 404


def scoped_client(role: str) -> Client:
    partnership = partnership_make("Rotherham", ROTHERHAM) if role == R.PARTNERSHIP else None
    codes = [ROTHERHAM] if role == R.AUTHORITY_OFFICER else []
    return signed_in_as(role, *codes, partnership=partnership)[0]


@pytest.mark.parametrize("role", [R.AUTHORITY_OFFICER, R.PARTNERSHIP, R.OVERSIGHT_ANALYST, R.ADMINISTRATOR])
def test_nobody_outside_the_helpline_reaches_a_cases_files_through_the_staff_api(role: str) -> None:
    """Not even the officer of the authority the case is referred to: their files are their referral's
    (GET /api/v1/referrals/{id}/attachments), shared by the helpline."""
    case = referred_case(staff_user("api-referrer", role=R.SUPERVISOR))
    file = attachment_make(case)
    client = scoped_client(role)
    events = AuditEvent.objects.count()
    for path in (listing(case), one(case, file)):
        response = client.get(path)
        assert response.status_code == 403, (path, response.content[:200])
    assert AuditEvent.objects.count() == events


def test_both_endpoints_are_in_the_openapi_document() -> None:
    document = yaml.safe_load(Client().get("/api/schema/").content)
    listed = document["paths"]["/api/v1/cases/{case_number}/attachments"]["get"]
    assert listed["operationId"] == "case_attachment_list"
    schema = listed["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    row = document["components"]["schemas"][schema]["properties"]["attachments"]["items"]["$ref"].rsplit("/", 1)[-1]
    assert {"id", "name", "type", "size", "status", "cleaned"} <= set(
        document["components"]["schemas"][row]["properties"]
    )
    streamed = document["paths"]["/api/v1/cases/{case_number}/attachments/{attachment_id}"]["get"]
    assert streamed["operationId"] == "case_attachment"
    assert set(streamed["responses"]) >= {"200", "403", "404", "410"}
    assert "*/*" in streamed["responses"]["200"]["content"], "the file is sent with its own type"
    assert "/api/v1/referrals/{referral_id}/attachments" in document["paths"]
    assert "/api/v1/referrals/{referral_id}/attachments/{attachment_id}" in document["paths"]

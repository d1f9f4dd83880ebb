"""GET /api/v1/patterns/alerts and POST .../{id}/acknowledge and .../{id}/dismiss: national oversight and
helpline supervisors with a knox token; field errors on bad input; documented in the OpenAPI schema."""

from __future__ import annotations

import pytest
import yaml
from django.test import Client
from knox.models import AuthToken

from accounts.models import User
from audit.models import AuditEvent
from oversight.alerts import NOTE_IDENTIFYING
from oversight.models import PatternAlert
from tests.factories import staff_user
from tests.patterns.kit import YORKSHIRE, alert_make

pytestmark = [pytest.mark.django_db]

R = User.Role
FIELDS = {"id", "kind", "series", "period", "observed", "expected", "threshold", "method", "status"}


def token_client(role: str) -> Client:
    user = staff_user(f"api-{role}", role=role)
    return Client(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")


def test_the_list_gives_each_alert_with_its_fields_open_first() -> None:
    dismissed = alert_make(series={"region": YORKSHIRE, "concern_type": "other"}, status="dismissed")
    opened = alert_make()
    response = token_client(R.OVERSIGHT_ANALYST).get("/api/v1/patterns/alerts")
    assert response.status_code == 200
    rows = response.json()
    assert [row["id"] for row in rows] == [opened.pk, dismissed.pk]
    assert set(rows[0]) == FIELDS
    assert rows[0] == {
        "id": opened.pk,
        "kind": "surge",
        "series": {"region": YORKSHIRE, "concern_type": "information_not_shared"},
        "period": {"start": "2026-11-30", "end": "2026-12-06"},
        "observed": 9,
        "expected": 1.4,
        "threshold": 5.0,
        "method": "short_history",
        "status": "open",
    }


@pytest.mark.parametrize("role", [R.PARTNERSHIP, R.AUTHORITY_OFFICER, R.NATIONAL_REVIEWER, R.CALL_HANDLER])
def test_everyone_else_is_refused(role: str) -> None:
    alert = alert_make()
    client = token_client(role)
    assert client.get("/api/v1/patterns/alerts").status_code == 403
    assert client.post(f"/api/v1/patterns/alerts/{alert.pk}/acknowledge").status_code == 403
    response = client.post(
        f"/api/v1/patterns/alerts/{alert.pk}/dismiss", {"note": "Fine"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert PatternAlert.objects.get(pk=alert.pk).status == "open"


def test_nobody_signed_in_is_refused() -> None:
    assert Client().get("/api/v1/patterns/alerts").status_code == 403


def test_a_supervisor_acknowledges_an_alert_once() -> None:
    alert = alert_make()
    client = token_client(R.SUPERVISOR)
    response = client.post(f"/api/v1/patterns/alerts/{alert.pk}/acknowledge")
    assert response.status_code == 200
    assert response.json()["status"] == "acknowledged"
    assert AuditEvent.objects.filter(kind="pattern_alert_acknowledged").count() == 1
    assert client.post(f"/api/v1/patterns/alerts/{alert.pk}/acknowledge").status_code == 409
    assert client.post("/api/v1/patterns/alerts/999999/acknowledge").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"note": ""}, "This field may not be blank."),
        ({"note": "   "}, "This field may not be blank."),  # DRF trims it first
        ({"note": "See 2026-K7M3QX"}, NOTE_IDENTIFYING),
        ({"note": "Ask jo@example.org"}, NOTE_IDENTIFYING),
        ({"note": "x" * 501}, "Ensure this field has no more than 500 characters."),
        ({"note": ["a list"]}, "Not a valid string."),
    ],
)
def test_a_bad_dismissal_is_a_field_error(body: dict[str, object], message: str) -> None:
    alert = alert_make()
    response = token_client(R.OVERSIGHT_ANALYST).post(
        f"/api/v1/patterns/alerts/{alert.pk}/dismiss", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"note": [message]}
    assert PatternAlert.objects.get(pk=alert.pk).status == "open"


def test_a_body_that_is_not_an_object_is_a_field_error() -> None:
    alert = alert_make()
    response = token_client(R.OVERSIGHT_ANALYST).post(
        f"/api/v1/patterns/alerts/{alert.pk}/dismiss", ["note"], content_type="application/json"
    )
    assert response.status_code == 400 and "note" in response.json()


def test_an_analyst_dismisses_an_alert_with_a_note() -> None:
    alert = alert_make()
    response = token_client(R.OVERSIGHT_ANALYST).post(
        f"/api/v1/patterns/alerts/{alert.pk}/dismiss",
        {"note": "A national awareness campaign ran that week"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    alert.refresh_from_db()
    assert alert.note == "A national awareness campaign ran that week"


def test_the_openapi_document_describes_the_endpoints() -> None:
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    paths = schema["paths"]
    assert "get" in paths["/api/v1/patterns/alerts"]
    assert "post" in paths["/api/v1/patterns/alerts/{alert_id}/acknowledge"]
    dismiss = paths["/api/v1/patterns/alerts/{alert_id}/dismiss"]["post"]
    assert "400" in dismiss["responses"]
    alert = schema["components"]["schemas"]["PatternAlert"]
    assert set(alert["properties"]) >= FIELDS

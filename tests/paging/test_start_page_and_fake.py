"""The start page promises what the configuration can keep; the fake Notify checks the token as Notify does."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import jwt
import pytest
import requests
import time_machine
from django.test import Client
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from accounts.models import User
from rota.models import Shift
from tests.factories import staff_user
from tests.fake_notify import API_KEY, PAGE_TEMPLATE_ID, FakeNotify
from tests.paging.conftest import shift_make

LONDON = ZoneInfo("Europe/London")
NIGHT = datetime(2026, 3, 11, 2, 0, tzinfo=LONDON)
SERVICE_ID, SECRET = API_KEY[-73:-37], API_KEY[-36:]


@pytest.mark.django_db
def test_the_start_page_promises_an_hour_day_and_night_only_while_somebody_is_on_call(client: Client) -> None:
    with time_machine.travel(NIGHT, tick=False):
        without = client.get("/").content.decode()
        shift_make(
            staff_user("start-primary", role=User.Role.CALL_HANDLER),
            Shift.Role.PRIMARY,
            NIGHT - timedelta(hours=4),
            NIGHT + timedelta(hours=6),
            "07700 900001",
        )
        with_rota = client.get("/").content.decode()
    assert "day and night" not in without
    assert "The helpline answers in office hours (Monday to Friday, 8am to 8pm; Saturday, 9am to 1pm)" in without
    assert "call 999" in without and "emergency duty team" in without
    assert "The helpline looks at urgent concerns within 1 hour, day and night" in with_rota
    assert "The helpline answers in office hours" not in with_rota


@pytest.mark.django_db
def test_the_start_page_promises_only_office_hours_when_the_rota_cannot_be_read(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    from rota import selectors

    def unreachable(moment: object = None) -> object:
        raise OperationalError("the database went away")

    monkeypatch.setattr(selectors, "on_call_at", unreachable)
    page = client.get("/")
    assert page.status_code == 200
    assert "The helpline answers in office hours" in page.content.decode()


def _client(fake: FakeNotify, key: str = API_KEY) -> NotificationsAPIClient:
    return NotificationsAPIClient(key, base_url=fake.base_url)  # type: ignore[no-untyped-call]


def test_the_fake_takes_a_text_from_the_real_client_and_reports_its_status(fake_notify: FakeNotify) -> None:
    sent = _client(fake_notify).send_sms_notification(
        phone_number="07700 900001", template_id=PAGE_TEMPLATE_ID, reference="sms-1"
    )  # type: ignore[no-untyped-call]
    assert sent["content"]["body"] == "Urgent concern waiting — sign in to the helpline workspace"
    status = _client(fake_notify).get_notification_by_id(sent["id"])  # type: ignore[no-untyped-call]
    assert status["status"] == "delivered" and status["reference"] == "sms-1"
    fake_notify.mode("permanent-failure")
    again = _client(fake_notify).send_sms_notification(phone_number="07700 900002", template_id=PAGE_TEMPLATE_ID)  # type: ignore[no-untyped-call]
    assert _client(fake_notify).get_notification_by_id(again["id"])["status"] == "permanent-failure"  # type: ignore[no-untyped-call]
    fake_notify.mode("fail")
    with pytest.raises(HTTPError) as failed:
        _client(fake_notify).send_sms_notification(phone_number="07700 900003", template_id=PAGE_TEMPLATE_ID)  # type: ignore[no-untyped-call]
    assert failed.value.status_code == 500
    assert [r["json"]["phone_number"] for r in fake_notify.requests() if r["json"]] == [
        "07700 900001",
        "07700 900002",
        "07700 900003",
    ]


def _token(secret: str = SECRET, iss: str = SERVICE_ID, iat: float | None = None) -> str:
    claims = {"iss": iss, "iat": int(iat if iat is not None else time.time())}
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("token", "said"),
    [
        (None, "missing bearer token"),
        (_token(secret="0" * 36), "invalid token: InvalidSignatureError"),
        (_token(iss="someone-else"), "invalid token: unknown issuer"),
        (_token(iat=time.time() - 120), "invalid token: iat is not recent"),
    ],
)
def test_the_fake_refuses_a_token_notify_would_refuse(fake_notify: FakeNotify, token: str | None, said: str) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = requests.post(
        f"{fake_notify.base_url}/v2/notifications/sms",
        json={"phone_number": "07700 900001", "template_id": PAGE_TEMPLATE_ID},
        headers=headers,
        timeout=5,
    )
    assert answer.status_code == 403
    assert answer.json()["errors"] == [{"error": "AuthError", "message": said}]
    assert [r["authorised"] for r in fake_notify.requests()] == [False]


def test_a_key_from_another_service_is_refused_by_the_fake(fake_notify: FakeNotify) -> None:
    other = "othername-" + "1" * 8 + "-1111-1111-1111-" + "1" * 12 + "-" + SECRET
    with pytest.raises(HTTPError) as refused:
        _client(fake_notify, other).send_sms_notification(phone_number="07700 900001", template_id=PAGE_TEMPLATE_ID)  # type: ignore[no-untyped-call]
    assert refused.value.status_code == 403

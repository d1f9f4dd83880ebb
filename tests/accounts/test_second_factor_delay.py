"""Wrong second-factor codes slow the account down (whatever the client), never its password failures."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from accounts import services
from accounts.models import User
from tests.factories import PASSWORD, staff_with_mfa

pytestmark = pytest.mark.django_db

CODE_PAGE = "/staff/sign-in/code"


def code_now(key: str) -> str:
    return f"{TOTP(base64.b32decode(key)).token():06d}"


def at_code_page(username: str, address: str) -> Client:
    client = Client(REMOTE_ADDR=address)
    response = client.post("/staff/sign-in", {"username": username, "password": PASSWORD})
    assert response["Location"] == CODE_PAGE
    return client


def text(response: object) -> str:
    return response.content.decode()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("failures", "seconds"), [(1, 0), (2, 0), (3, 5), (4, 10), (5, 20), (8, 160), (9, 300), (30, 300)]
)
def test_the_delay_doubles_after_three_free_failures_and_stops_at_five_minutes(failures: int, seconds: int) -> None:
    assert services.second_factor_delay(failures) == seconds


def test_wrong_codes_from_many_places_make_the_account_wait_and_the_page_says_so() -> None:
    _, key = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for n in range(3):  # each from a different client: the per-client throttle never trips
            response = at_code_page("supervisor", f"10.0.0.{n}").post(CODE_PAGE, {"code": "000000"}, follow=True)
        assert "Wait 5 seconds before you try another security code" in text(response)
        client = at_code_page("supervisor", "10.0.1.1")
        # During the wait even the right code is not checked, and the page never says "wrong".
        refused = client.post(CODE_PAGE, {"code": code_now(key)}, follow=True)
        assert refused.redirect_chain == [(CODE_PAGE, 302)]  # post/redirect/get
        assert refused.status_code == 429
        assert "Wait 5 seconds before you try another security code" in text(refused)
        assert "wrong" not in text(refused)
        assert 'data-testid="wait"' in text(client.get(CODE_PAGE))
    with time_machine.travel(start + timedelta(seconds=6), tick=False):
        signed_in = client.post(CODE_PAGE, {"code": code_now(key)})
        assert signed_in.status_code == 302
        assert signed_in["Location"] == "/staff/"
    assert services.second_factor_wait(user=User.objects.get(username="supervisor")) == 0  # forgotten


def test_password_failures_never_make_the_account_wait() -> None:
    _, key = staff_with_mfa("supervisor", role=User.Role.SUPERVISOR)
    for n in range(40):
        Client(REMOTE_ADDR=f"10.1.{n}.1").post("/staff/sign-in", {"username": "supervisor", "password": "guess!!"})
    client = at_code_page("supervisor", "10.2.0.1")
    assert client.post(CODE_PAGE, {"code": code_now(key)}).status_code == 302


def test_the_api_answers_429_with_retry_after_during_the_wait() -> None:
    _, key = staff_with_mfa("handler")
    body = {"username": "handler", "password": PASSWORD, "code": "000000"}
    for n in range(3):
        last = Client(REMOTE_ADDR=f"10.3.0.{n}").post("/api/v1/auth/sign-in", body, content_type="application/json")
    assert last.status_code == 429
    assert last["Retry-After"] == "5"
    right = {**body, "code": code_now(key)}
    waiting = Client(REMOTE_ADDR="10.3.1.1").post("/api/v1/auth/sign-in", right, content_type="application/json")
    assert waiting.status_code == 429
    assert waiting.json()["detail"].startswith("Wait ")

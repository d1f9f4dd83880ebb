"""Staff API tokens come only after the second factor, are stored hashed, expire, and end with the user."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from knox.models import AuthToken

from accounts import events, services
from accounts.models import User
from audit.models import AuditEvent, Subject
from tests.factories import PASSWORD, staff_user, staff_with_mfa

pytestmark = pytest.mark.django_db

SIGN_IN = "/api/v1/auth/sign-in"
SIGN_OUT = "/api/v1/auth/sign-out"
CASES = "/api/v1/cases"


def current_code(key: str) -> str:
    return f"{TOTP(base64.b32decode(key)).token():06d}"


def sign_in(client: Client, username: str, code: str, password: str = PASSWORD) -> object:
    body = {"username": username, "password": password, "code": code}
    return client.post(SIGN_IN, body, content_type="application/json")


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {token}"}


def user_events(user: User, kind: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(subject_kind=Subject.USER, subject_id=user.pk, kind=kind))


def test_both_factors_give_a_token_that_reads_the_staff_api() -> None:
    user, key = staff_with_mfa("handler")
    response = sign_in(Client(), "handler", current_code(key))
    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert Client().get(CASES, **bearer(token)).status_code == 200
    assert Client().get(CASES).status_code == 403  # and nothing without it
    assert len(user_events(user, events.TOKEN_ISSUED)) == 1
    assert user_events(user, events.SIGNED_IN)[0].detail == {"via": "api"}


def test_the_token_is_stored_only_as_a_hash() -> None:
    _, key = staff_with_mfa("handler")
    token = sign_in(Client(), "handler", current_code(key)).json()["token"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM knox_authtoken")
        stored = repr(cursor.fetchall())
    assert token not in stored
    assert token[8:] not in stored  # not even the part after the lookup key


@pytest.mark.parametrize("wrong", ["password", "code"])
def test_a_wrong_password_or_code_gets_no_token_and_is_audited(wrong: str) -> None:
    user, key = staff_with_mfa("handler")
    password = "not the password" if wrong == "password" else PASSWORD
    code = "000000" if wrong == "code" else current_code(key)
    response = sign_in(Client(), "handler", code, password=password)
    assert response.status_code == 401
    assert not AuthToken.objects.exists()
    kind = events.PASSWORD_FAILED if wrong == "password" else events.SECOND_FACTOR_FAILED
    assert len(user_events(user, kind)) == 1


def test_a_user_without_a_second_factor_gets_no_token() -> None:
    user = staff_user("no-mfa", role=User.Role.SUPERVISOR)
    user.set_password(PASSWORD)
    user.save()
    response = sign_in(Client(), "no-mfa", "123456")
    assert response.status_code == 403
    assert not AuthToken.objects.exists()


def test_failed_sign_ins_are_throttled_for_the_api_too() -> None:
    staff_with_mfa("handler")
    client = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(5):
        assert sign_in(client, "handler", "000000", password="wrong password!").status_code == 401
    assert sign_in(client, "handler", "000000").status_code == 429


def test_a_token_ends_after_the_idle_limit_and_at_the_absolute_limit_even_when_used() -> None:
    _, key = staff_with_mfa("handler")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = sign_in(Client(), "handler", current_code(key)).json()["token"]
    with time_machine.travel(start + timedelta(minutes=31), tick=False):
        assert Client().get(CASES, **bearer(token)).status_code == 403  # idle for 31 minutes
    start = start + timedelta(hours=1)  # a new sign-in: a code is never accepted twice
    with time_machine.travel(start, tick=False):
        token = sign_in(Client(), "handler", current_code(key)).json()["token"]
    for minutes in range(25, 12 * 60, 25):  # used every 25 minutes: kept alive, but only for 12 hours
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert Client().get(CASES, **bearer(token)).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=5), tick=False):
        assert Client().get(CASES, **bearer(token)).status_code == 403


def test_sign_out_revokes_the_token_and_is_audited() -> None:
    user, key = staff_with_mfa("handler")
    token = sign_in(Client(), "handler", current_code(key)).json()["token"]
    assert Client().post(SIGN_OUT, **bearer(token)).status_code == 204
    assert Client().get(CASES, **bearer(token)).status_code == 403
    assert len(user_events(user, events.TOKEN_REVOKED)) == 1


def test_disabling_a_user_ends_their_tokens() -> None:
    user, key = staff_with_mfa("handler")
    supervisor = staff_user("supervisor", role=User.Role.SUPERVISOR)
    token = sign_in(Client(), "handler", current_code(key)).json()["token"]
    services.user_disable(user=user, acting_user=supervisor)
    assert not AuthToken.objects.filter(user=user).exists()
    assert Client().get(CASES, **bearer(token)).status_code == 403
    ended = user_events(user, events.SESSIONS_ENDED)
    assert [(e.actor_id, e.detail["reason"], e.detail["tokens"]) for e in ended] == [(supervisor.pk, "disabled", 1)]


def test_drf_authtoken_is_gone() -> None:
    from django.apps import apps

    assert not apps.is_installed("rest_framework.authtoken")
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('authtoken_token')")
        assert cursor.fetchone() == (None,)


def test_web_sign_ins_and_their_failures_are_audited_without_what_was_typed() -> None:
    from tests.factories import sign_in as web_sign_in

    user, _ = staff_with_mfa("handler")
    Client().post("/staff/sign-in", {"username": "nobody-such", "password": "hunter2-typed-by-mistake"})
    Client().post("/staff/sign-in", {"username": "handler", "password": "hunter2-typed-by-mistake"})
    web_sign_in(Client(), user)
    assert user_events(user, events.PASSWORD_FAILED)[0].detail == {}
    assert user_events(user, events.SIGNED_IN)[0].detail == {"via": "web"}
    stranger = AuditEvent.objects.get(kind=events.PASSWORD_FAILED, subject_kind=Subject.NONE)
    assert stranger.detail == {}
    assert "hunter2" not in repr(list(AuditEvent.objects.values()))

"""The staff API's sign-in answers its password throttle's 429 with Retry-After: the seconds until the
(username, client) window ends, as docs/reference.md says, like the second factor's wait already did."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from tests.factories import staff_with_mfa

pytestmark = pytest.mark.django_db

SIGN_IN = "/api/v1/auth/sign-in"
# 10:07:00: a window of 15 minutes ends at 10:22, which the time-trail bucket (15 minutes) rounds up to 10:30.
START = datetime(2026, 3, 4, 10, 7, tzinfo=UTC)


def wrong_password(client: Client, username: str = "handler") -> Any:
    body = {"username": username, "password": "not the password", "code": "000000"}
    return client.post(SIGN_IN, body, content_type="application/json")


@pytest.fixture
def throttle_settings(settings: Any) -> None:
    settings.LOGIN_THROTTLE_LIMIT = 3
    settings.LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
    settings.TIME_TRAIL_BUCKET_SECONDS = 15 * 60


@pytest.mark.usefixtures("throttle_settings")
def test_the_password_throttles_429_says_when_the_window_ends() -> None:
    staff_with_mfa("handler")
    client = Client(REMOTE_ADDR="127.0.0.81")
    with time_machine.travel(START, tick=False) as clock:
        assert [wrong_password(client).status_code for _ in range(3)] == [401, 401, 401]
        refused = wrong_password(client)
        assert refused.status_code == 429
        assert refused["Retry-After"] == str(23 * 60), "until 10:30, when the counter expires"
        assert "Too many failed sign-ins" in refused.json()["detail"]

        clock.move_to(START + timedelta(minutes=20, seconds=30))
        later = wrong_password(client)
        assert later.status_code == 429
        assert later["Retry-After"] == str(2 * 60 + 30)

        clock.move_to(START + timedelta(minutes=23))
        assert wrong_password(client).status_code == 401, "Retry-After was right: the window has ended"

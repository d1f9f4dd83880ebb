"""The helpline tests' call handler, signed in through the real sign-in (a module may define its own)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from tests.factories import signed_in, staff_with_mfa


@pytest.fixture
def handler() -> User:
    return staff_with_mfa("handler", role=User.Role.CALL_HANDLER)[0]


@pytest.fixture
def handler_client(handler: User) -> Client:
    return signed_in(handler)

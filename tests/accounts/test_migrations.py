"""accounts/migrations/0008: invitations still waiting that an MFA reset made are marked as the reset's, so one
administrator cannot re-issue them (issue 22)."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from accounts import events
from accounts.models import Invitation, User
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

migration = importlib.import_module("accounts.migrations.0008_invitation_steps_origins_and_revocation")


def waiting(user: User, digest: str, **extra: object) -> Invitation:
    values: dict[str, object] = {"expires_at": timezone.now() + timedelta(hours=72), **extra}
    return Invitation.objects.create(user=user, digest=digest * 64, **values)


def test_waiting_invitations_an_mfa_reset_made_are_marked_as_the_resets() -> None:
    admin = staff_user("admin", role=User.Role.ADMINISTRATOR)
    invited = staff_user("invited")
    reset_with_an_earlier_invitation = staff_user("reset-twice")
    reset_never_invited = staff_user("demo-reset")
    first = waiting(invited, "a")
    waiting(reset_with_an_earlier_invitation, "b", used_at=timezone.now())
    second = waiting(reset_with_an_earlier_invitation, "c")
    detail = {"reason": "mfa_reset", "sessions": 0, "tokens": 0}
    events.auth_event(kind=events.SESSIONS_ENDED, user=reset_never_invited, actor=admin, detail=detail)
    after_reset = waiting(reset_never_invited, "d")
    migration.mfa_reset_origins(apps, None)
    origins = dict(Invitation.objects.values_list("pk", "origin"))
    assert origins[first.pk] == Invitation.Origin.INVITE
    assert origins[second.pk] == Invitation.Origin.MFA_RESET
    assert origins[after_reset.pk] == Invitation.Origin.MFA_RESET

"""Enrolment only through an administrator's one-time invitation link."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from accounts import events, services
from accounts.models import Invitation, SealedTOTPDevice, User
from audit.models import AuditEvent, Subject
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "three random words here"


def invite(username: str = "newbie", **extra: object) -> str:
    values: dict[str, object] = {"email": f"{username}@helpline.test", "role": User.Role.CALL_HANDLER, **extra}
    issued = services.staff_invite(
        username=username, acting_user=staff_user("admin", role=User.Role.ADMINISTRATOR), **values
    )  # type: ignore[arg-type]
    return urlsplit(issued.link).path


def code_for(user: User) -> str:
    device = SealedTOTPDevice.objects.get(user=user, confirmed=False)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def accept(client: Client, path: str, user: User, **overrides: str) -> object:
    assert client.get(path).status_code == 200  # the page the invitee reads the key from
    body = {"password": NEW_PASSWORD, "password_again": NEW_PASSWORD, "code": code_for(user), **overrides}
    # Post/redirect/get: followed to the recovery codes, or back to the form with its errors.
    return client.post(path, body, follow=True)


def test_the_invitee_sets_a_password_and_an_authenticator_and_is_signed_in_with_recovery_codes() -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    assert not user.has_usable_password()
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert b"totp-secret" in page.content
    done = accept(client, path, user)
    assert done.status_code == 200
    assert done.redirect_chain == [("/staff/recovery-codes", 302)]
    assert done.content.decode().count('data-testid="recovery-code"') == services.RECOVERY_CODES
    # Shown once: a refresh says so, and shows none of them.
    again = client.get("/staff/recovery-codes").content.decode()
    assert "have already been shown" in again and 'data-testid="recovery-code"' not in again
    assert client.get("/staff/").status_code == 200
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert SealedTOTPDevice.objects.filter(user=user, confirmed=True).count() == 1
    kinds = set(AuditEvent.objects.filter(subject_kind=Subject.USER, subject_id=user.pk).values_list("kind", flat=True))
    assert {events.INVITATION_ISSUED, events.INVITATION_USED, events.MFA_ENROLLED, events.SIGNED_IN} <= kinds


def test_the_link_works_once() -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    assert accept(Client(), path, user).status_code == 200
    again = Client().get(path)
    assert again.status_code == 404
    assert b"cannot be used" in again.content


def test_the_link_expires_after_72_hours() -> None:
    path = invite()
    with time_machine.travel(timezone.now() + timedelta(hours=72, minutes=1), tick=False):
        assert Client().get(path).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"code": "000000"}, "The security code is wrong"),
        ({"password_again": "something else entirely"}, "The passwords do not match"),
        ({"password": "short", "password_again": "short"}, "too short"),
    ],
)
def test_a_wrong_code_or_a_weak_password_sets_nothing_up(overrides: dict[str, str], message: str) -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    response = accept(Client(), path, user, **overrides)
    assert response.redirect_chain == [(path, 302)]
    assert response.status_code == 400
    assert message in response.content.decode()
    assert NEW_PASSWORD not in response.content.decode(), "a password is never written back into the page"
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert Invitation.objects.get(user=user).used_at is None


def test_only_a_hash_of_the_link_is_kept() -> None:
    path = invite()
    secret = path.rsplit("/", 1)[1]
    assert not Invitation.objects.filter(digest__contains=secret).exists()
    assert secret not in repr(list(AuditEvent.objects.values()))


def test_an_authority_officer_is_invited_with_their_authorities(local_authorities: None) -> None:
    invite("officer", role=User.Role.AUTHORITY_OFFICER, authority_codes=["E08000018"])
    officer = User.objects.get(username="officer")
    assert list(officer.authorities.values_list("gss_code", flat=True)) == ["E08000018"]
    with pytest.raises(services.InvitationRefused, match="at least one authority"):
        invite("no-scope", role=User.Role.AUTHORITY_OFFICER)
    with pytest.raises(services.InvitationRefused, match="already an account"):
        invite("officer", role=User.Role.CALL_HANDLER)


def test_manage_py_invite_staff_prints_a_working_link(capsys: pytest.CaptureFixture[str]) -> None:
    call_command("invite_staff", "board-member", "--role", "call_handler", "--email", "b@helpline.test")
    link = re.search(r"https?://\S+/staff/invitation/\S+", capsys.readouterr().out)
    assert link is not None
    assert Client().get(urlsplit(link.group(0)).path).status_code == 200
    with pytest.raises(CommandError, match="already an account"):
        call_command("invite_staff", "board-member", "--role", "call_handler")


def test_an_mfa_reset_ends_sessions_and_tokens_and_sends_a_new_invitation() -> None:
    from knox.models import AuthToken

    from tests.factories import sign_in, staff_with_mfa

    user, _ = staff_with_mfa("lost-phone")
    client = Client()
    sign_in(client, user)
    AuthToken.objects.create(user=user)
    admin = staff_user("admin", role=User.Role.ADMINISTRATOR)
    issued = services.mfa_reset(user=user, acting_user=admin)
    assert client.get("/staff/").status_code == 302
    assert not AuthToken.objects.filter(user=user).exists()
    assert not SealedTOTPDevice.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert not user.has_usable_password()
    ended = AuditEvent.objects.get(kind=events.SESSIONS_ENDED, subject_id=user.pk)
    assert (ended.actor_id, ended.detail["reason"], ended.detail["sessions"]) == (admin.pk, "mfa_reset", 1)
    assert Client().get(urlsplit(issued.link).path).status_code == 200

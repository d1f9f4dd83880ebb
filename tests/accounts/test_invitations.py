"""Enrolment only through an administrator's one-time invitation link, in two steps: a password (kept only as a
hash until the second step), then the authenticator app, shown as a key beside a QR code drawn on the server."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth.hashers import check_password
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from accounts import events, services
from accounts.models import Invitation, SealedTOTPDevice, User
from accounts.otp_qr import otpauth_qr_svg
from audit.models import AuditEvent, Subject
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "three random words here"
# Each invitation's enrolment code, by the path of its link: what the administrator gives the invitee.
ENROLMENT_CODES: dict[str, str] = {}


def invite(username: str = "newbie", **extra: object) -> str:
    values: dict[str, object] = {"email": f"{username}@helpline.test", "role": User.Role.CALL_HANDLER, **extra}
    issued = services.staff_invite(
        username=username, acting_user=staff_user("admin", role=User.Role.ADMINISTRATOR), **values
    )  # type: ignore[arg-type]
    path = urlsplit(issued.link).path
    ENROLMENT_CODES[path] = issued.enrolment_code
    return path


def code_for(user: User) -> str:
    device = SealedTOTPDevice.objects.get(user=user, confirmed=False)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def password_step(client: Client, path: str, **overrides: str) -> Any:
    """Step 1: create the password. Post/redirect/get: followed to step 2, or back to step 1 with its errors."""
    assert client.get(path).status_code == 200
    body = {"enrolment_code": ENROLMENT_CODES[path], "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    return client.post(path, body | overrides, follow=True)


def accept(client: Client, path: str, user: User, **overrides: str) -> Any:
    """Both steps; ``overrides`` may replace the password fields (step 1) or the code (step 2)."""
    passwords = {name: value for name, value in overrides.items() if name != "code"}
    chosen = password_step(client, path, **passwords)
    if chosen.redirect_chain != [(f"{path}/authenticator", 302)]:
        return chosen
    assert chosen.status_code == 200  # the page the invitee reads the key and the QR code from
    # Post/redirect/get: followed to the recovery codes, or back to step 2 with its errors.
    return client.post(f"{path}/authenticator", {"code": overrides.get("code", code_for(user))}, follow=True)


def test_the_invitee_sets_a_password_and_an_authenticator_and_is_signed_in_with_recovery_codes() -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    assert not user.has_usable_password()
    client = Client()
    page = client.get(path)
    assert page.status_code == 200
    assert b"Create a password" in page.content and b"totp-secret" not in page.content  # step 1 of 2
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
    step = f"{path}/authenticator" if "code" in overrides else path
    assert response.redirect_chain == [(step, 302)]
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


# --- two steps: the password, then the authenticator (issue 22, point 14) -----------------------------------


def sessions_text() -> str:
    return repr([session.get_decoded() for session in Session.objects.all()])


def test_the_password_is_taken_first_and_kept_only_as_a_hash_until_the_authenticator_is_confirmed() -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    client = Client()
    chosen = password_step(client, path)
    assert chosen.redirect_chain == [(f"{path}/authenticator", 302)]
    assert chosen.status_code == 200
    page = chosen.content.decode()
    assert "Add your authenticator app" in page and 'data-testid="totp-secret"' in page
    assert "Create a password" not in page and 'type="password"' not in page
    # Not the account's password yet: only a hash of it, on the invitation, until the code confirms the app.
    user.refresh_from_db()
    assert not user.has_usable_password()
    invitation = Invitation.objects.get(user=user)
    assert invitation.password_hash and check_password(NEW_PASSWORD, invitation.password_hash)
    assert NEW_PASSWORD not in repr(list(Invitation.objects.values())) + repr(list(User.objects.values()))
    assert NEW_PASSWORD not in sessions_text(), "never in the session, not even sealed"
    done = client.post(f"{path}/authenticator", {"code": code_for(user)}, follow=True)
    assert done.redirect_chain == [("/staff/recovery-codes", 302)]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    invitation.refresh_from_db()
    assert invitation.used_at is not None and invitation.password_hash == ""  # the account holds it now


def test_a_wrong_code_keeps_the_password_and_asks_again_only_for_the_code() -> None:
    """The bug: a wrong code cleared both password fields, and the next code then failed with "Create a
    password". Now a refused code comes back to step 2 alone, and the next right code finishes."""
    path = invite()
    user = User.objects.get(username="newbie")
    client = Client()
    password_step(client, path)
    refused = client.post(f"{path}/authenticator", {"code": "000000"}, follow=True)
    assert refused.redirect_chain == [(f"{path}/authenticator", 302)]
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "The security code is wrong" in page
    assert "Create a password" not in page and 'type="password"' not in page
    assert 'data-testid="password-kept"' in page and 'data-testid="totp-secret"' in page
    # django-otp refuses every code for a second after a wrong one: said so, not "wrong".
    too_soon = client.post(f"{path}/authenticator", {"code": code_for(user)}, follow=True)
    assert "Wait a few seconds" in too_soon.content.decode() and too_soon.status_code == 400
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        done = client.post(f"{path}/authenticator", {"code": code_for(user)}, follow=True)
    assert done.redirect_chain == [("/staff/recovery-codes", 302)], done.content[:500]
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)


def test_a_refused_password_comes_back_to_step_one_then_the_code_works_at_once() -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    client = Client()
    refused = password_step(client, path, password_again="something else entirely")
    assert refused.redirect_chain == [(path, 302)] and refused.status_code == 400
    assert "The passwords do not match" in refused.content.decode()
    assert "something else entirely" not in refused.content.decode()
    assert client.get(f"{path}/authenticator").status_code == 302  # no password yet: step 1 first
    assert password_step(client, path).redirect_chain == [(f"{path}/authenticator", 302)]
    done = client.post(f"{path}/authenticator", {"code": code_for(user)}, follow=True)
    assert done.redirect_chain == [("/staff/recovery-codes", 302)]


def test_step_one_can_be_done_again_to_change_the_password() -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    client = Client()
    password_step(client, path)
    again = client.get(path).content.decode()
    assert 'data-testid="password-chosen"' in again and f"{path}/authenticator" in again
    other = "another three words please"
    password_step(client, path, password=other, password_again=other)
    client.post(f"{path}/authenticator", {"code": code_for(user)})
    user.refresh_from_db()
    assert user.check_password(other) and not user.check_password(NEW_PASSWORD)


def test_step_two_opens_only_in_the_browser_that_did_step_one() -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    first = Client()
    assert redirected(first.get(f"{path}/authenticator")) == path
    password_step(first, path)
    assert first.get(f"{path}/authenticator").status_code == 200
    stranger = Client()  # someone else who has the link
    assert redirected(stranger.get(f"{path}/authenticator")) == path
    assert redirected(stranger.post(f"{path}/authenticator", {"code": code_for(user)})) == path
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_step_two_shows_the_key_beside_a_qr_code_of_the_set_up_link_drawn_on_the_server() -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    client = Client()
    password_step(client, path)
    response = client.get(f"{path}/authenticator")
    assert response["Cache-Control"] == "no-store"
    page = response.content.decode()
    device = SealedTOTPDevice.objects.get(user=user, confirmed=False)
    qr = page.split('data-testid="totp-qr">')[1].split("</div>")[0].strip()
    # Inline SVG of the otpauth link itself (as segno draws it), named for screen readers.
    assert qr.startswith('<svg role="img" aria-label="QR code of your authenticator app')
    assert qr == otpauth_qr_svg(device.config_url, label="QR code of your authenticator app's key")
    assert device.config_url.startswith("otpauth://totp/")
    # Nothing the Content-Security-Policy would refuse, and nothing fetched from anywhere.
    assert "style=" not in qr and "<script" not in qr and "href" not in qr
    assert "<img" not in page and "data:image" not in page
    assert not re.search(r'(src|href)="https?://', page)
    key = page.split('data-testid="totp-secret">')[1].split("<")[0].replace(" ", "")
    assert key == base64.b32encode(device.bin_key).decode()


def test_an_invitation_used_or_revoked_between_the_steps_sets_nothing_up() -> None:
    path = invite()
    user = User.objects.get(username="newbie")
    client = Client()
    password_step(client, path)
    Invitation.objects.filter(user=user).update(revoked_at=timezone.now())
    assert client.get(f"{path}/authenticator").status_code == 404
    assert client.post(f"{path}/authenticator", {"code": code_for(user)}).status_code == 404
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert not SealedTOTPDevice.objects.filter(user=user, confirmed=True).exists()


def redirected(response: Any) -> str:
    assert response.status_code == 302, (response.status_code, response.content[:300])
    return str(urlsplit(response["Location"]).path)

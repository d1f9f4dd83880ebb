"""Issue 23, point 3: the invitation link is emailed, so a mailbox alone must not take an account. The link
also needs the enrolment code the administrator was shown once and passes on by phone or in person: kept only
as a keyed hash, tried a few times at most, asked for with GOV.UK errors. The email carries the link and
nothing else; an MFA reset's link works the same way."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django_otp.oath import TOTP

from accounts import administration, services
from accounts.models import Invitation, SealedTOTPDevice, User
from accounts.notifications import INVITATION
from audit.models import AuditEvent
from notify import services as notify_services
from notify.models import Notification
from tests.factories import sign_in, staff_with_mfa

pytestmark = pytest.mark.django_db

R = User.Role
PASSWORD = "three random words here"


def issue(username: str = "newbie") -> tuple[services.IssuedInvitation, str]:
    admin = staff_with_mfa("admin-a", role=R.ADMINISTRATOR)[0]
    issued = services.staff_invite(
        username=username, email=f"{username}@helpline.test", role=R.CALL_HANDLER, acting_user=admin
    )
    return issued, urlsplit(issued.link).path


def step_one(client: Client, path: str, **fields: str) -> Any:
    body = {"password": PASSWORD, "password_again": PASSWORD} | fields
    return client.post(path, body, follow=True)


def enrolled(user: User) -> bool:
    user.refresh_from_db()
    return user.has_usable_password() or SealedTOTPDevice.objects.filter(user=user, confirmed=True).exists()


def authenticator_code(user: User) -> str:
    device = SealedTOTPDevice.objects.get(user=user, confirmed=False)
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits).token():06d}"


def finish(client: Client, path: str, user: User) -> Any:
    return client.post(f"{path}/authenticator", {"code": authenticator_code(user)}, follow=True)


def test_the_link_without_the_code_enrols_nobody() -> None:
    issued, path = issue()
    user = issued.invitation.user
    client = Client()
    refused = step_one(client, path)
    assert refused.redirect_chain == [(path, 302)] and refused.status_code == 400
    page = refused.content.decode()
    assert "govuk-error-summary" in page and "Enter the enrolment code your administrator gave you" in page
    # The second step does not open: it sends the browser back to the first.
    assert client.get(f"{path}/authenticator")["Location"] == path
    assert client.post(f"{path}/authenticator", {"code": "123456"})["Location"] == path
    assert not enrolled(user)
    assert Invitation.objects.get(pk=issued.invitation.pk).password_hash == ""


def test_a_wrong_code_enrols_nobody_and_is_not_written_back() -> None:
    issued, path = issue()
    wrong = "ACDE-FGHJ" if issued.enrolment_code != "ACDE-FGHJ" else "ACDE-FGHK"
    refused = step_one(Client(), path, enrolment_code=wrong)
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "The enrolment code is wrong" in page and "govuk-error-summary" in page
    assert wrong not in page and PASSWORD not in page
    assert not enrolled(issued.invitation.user)


def test_a_code_in_the_wrong_format_is_refused_without_using_a_try() -> None:
    issued, path = issue()
    refused = step_one(Client(), path, enrolment_code="12")
    assert refused.status_code == 400
    assert "Enter the enrolment code in the correct format" in refused.content.decode()
    assert (
        step_one(Client(), path, enrolment_code=issued.enrolment_code).redirect_chain[-1][0].endswith("/authenticator")
    )


def test_the_right_code_with_the_link_enrols_and_lower_case_or_spaces_do_not_matter() -> None:
    issued, path = issue()
    user = issued.invitation.user
    client = Client()
    typed = issued.enrolment_code.lower().replace("-", " ")
    chosen = step_one(client, path, enrolment_code=typed)
    assert chosen.redirect_chain == [(f"{path}/authenticator", 302)]
    done = finish(client, path, user)
    assert done.redirect_chain == [("/staff/recovery-codes", 302)]
    assert enrolled(user) and user.check_password(PASSWORD)


def test_after_too_many_wrong_codes_even_the_right_one_is_refused() -> None:
    issued, path = issue()
    for attempt in range(services.ENROLMENT_CODE_TRIES):
        wrong = f"ACDE-FG{'HJKMNPQRTU'[attempt]}{'H' if issued.enrolment_code[-1] != 'H' else 'J'}"
        assert step_one(Client(), path, enrolment_code=wrong).status_code == 400
    blocked = step_one(Client(), path, enrolment_code=issued.enrolment_code)
    assert blocked.status_code == 429
    assert "wrong enrolment code too many times" in blocked.content.decode()
    assert not enrolled(issued.invitation.user)


def test_only_a_keyed_hash_of_the_code_is_kept() -> None:
    issued, _ = issue()
    code = services.enrolment_code_normalised(issued.enrolment_code)
    row = Invitation.objects.filter(pk=issued.invitation.pk).values().get()
    stored = repr(row)
    assert code not in stored and issued.enrolment_code not in stored
    assert row["code_digest"] and len(row["code_digest"]) == 64
    assert code not in repr(list(AuditEvent.objects.values()))
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", issued.enrolment_code)


# --- the email -------------------------------------------------------------------------------------------


def test_the_invitation_is_emailed_with_the_link_and_nothing_else(mailoutbox: list[Any]) -> None:
    issued, path = issue("canary-newbie")
    (notification,) = Notification.objects.filter(template=INVITATION)
    assert (notification.recipient, notification.subject_kind) == ("canary-newbie@helpline.test", "invitation")
    assert notify_services.notification_deliver(notification.pk) is None
    (message,) = mailoutbox
    assert message.to == ["canary-newbie@helpline.test"]
    everything = " ".join([message.subject, str(message.body), str(message.alternatives[0][0])])
    assert issued.link in str(message.body) and issued.link in str(message.alternatives[0][0])
    assert [url for url in re.findall(r"https?://[^\s<>\"']+", str(message.body))] == [issued.link]
    # Not the code, not the account's name or role, not who invited them.
    code = services.enrolment_code_normalised(issued.enrolment_code)
    assert issued.enrolment_code not in everything and code not in everything
    assert "canary-newbie" not in everything.replace(issued.link, "")
    assert "call handler" not in everything.lower() and "admin-a" not in everything
    # Sent: the sealed secret it needed is gone, and only the link's hash stays.
    assert Invitation.objects.get(pk=issued.invitation.pk).secret_sealed == ""
    assert Client().get(path).status_code == 200


def test_an_invitation_revoked_before_its_email_goes_is_not_emailed(mailoutbox: list[Any]) -> None:
    issued, _ = issue()
    admin = User.objects.get(username="admin-a")
    administration.invitation_revoke(user=issued.invitation.user, acting_user=admin)
    notification = Notification.objects.get(template=INVITATION)
    assert notify_services.notification_deliver(notification.pk) is None
    notification.refresh_from_db()
    assert notification.state == Notification.State.CANCELLED
    assert mailoutbox == []


def test_the_administrator_is_shown_the_code_once() -> None:
    admin = staff_with_mfa("admin-a", role=R.ADMINISTRATOR)[0]
    client = Client()
    sign_in(client, admin)
    form = {"username": "shown-once", "email": "shown@helpline.test", "role": R.CALL_HANDLER}
    response = client.post("/staff/admin/staff/invite", form)
    assert response.status_code == 302
    shown = client.get(response["Location"]).content.decode()
    code = re.search(r'data-testid="enrolment-code">([A-Z0-9-]+)<', shown)
    assert code is not None
    invitation = Invitation.objects.get(user__username="shown-once")
    assert services.enrolment_code_digest(invitation_digest=invitation.digest, code=code.group(1)) == (
        invitation.code_digest
    )
    again = client.get(response["Location"]).content.decode()
    assert code.group(1) not in again and 'data-testid="invitation-gone"' in again


# --- an MFA reset's link: it enrols an authenticator, so the same code -----------------------------------


def test_an_mfa_reset_link_needs_its_code_too(mailoutbox: list[Any]) -> None:
    first = staff_with_mfa("admin-a", role=R.ADMINISTRATOR)[0]
    second = staff_with_mfa("admin-b", role=R.ADMINISTRATOR)[0]
    user, _ = staff_with_mfa("lost-phone", role=R.SUPERVISOR, email="lost@helpline.test")
    waiting = administration.mfa_reset_request(user=user, reason="Lost phone", acting_user=first)
    issued = administration.mfa_reset_approve(reset_request=waiting, acting_user=second)
    path = urlsplit(issued.link).path
    notification = Notification.objects.get(template=INVITATION, subject_id=issued.invitation.pk)
    notify_services.notification_deliver(notification.pk)
    (message,) = mailoutbox
    assert message.to == ["lost@helpline.test"] and "again" in message.subject
    client = Client()
    assert step_one(client, path).status_code == 400
    assert step_one(client, path, enrolment_code="ACDE-FGHJ").status_code in {400}
    assert not enrolled(user)
    assert step_one(client, path, enrolment_code=issued.enrolment_code).redirect_chain[-1][0] == (
        f"{path}/authenticator"
    )
    assert finish(client, path, user).redirect_chain == [("/staff/recovery-codes", 302)]
    assert enrolled(user)

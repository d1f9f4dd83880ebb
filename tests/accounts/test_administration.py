"""Issue 22 in staff administration: one administrator revokes an invitation or re-issues one never used (an
invitation from an MFA reset only through a new two-person reset); a disabled account is enabled again, audited,
through a second administrator's approval and a new invitation; the administrators who may approve a request
are emailed and see it on their landing page; a role or scope change is confirmed first."""

from __future__ import annotations

from datetime import timedelta
from html import unescape
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from accounts import administration, events, services
from accounts.models import Invitation, MfaResetRequest, RecoveryCodes, SealedTOTPDevice, User
from accounts.notifications import APPROVAL_WAITING
from audit.models import AuditEvent
from directory.models import LocalAuthority
from notify.models import Notification
from tests.accounts.helpers import (
    STAFF,
    administrator,
    hidden_fields,
    kinds_about,
    page,
    redirected_to,
    refused,
    signed_in_client,
)
from tests.factories import partnership_of_region, sign_in, staff_user, staff_with_mfa

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]

R = User.Role
ROTHERHAM, SHEFFIELD = "E08000018", "E08000039"
YORKSHIRE = "Yorkshire and The Humber"


# Each invitation's enrolment code, by the path of its link.
ENROLMENT_CODES: dict[str, str] = {}


def invited(username: str = "newbie", *, by: User | None = None) -> tuple[User, str]:
    """A new account with its invitation waiting; returns it and its link's path."""
    issued = services.staff_invite(
        username=username, email=f"{username}@helpline.test", role=R.CALL_HANDLER, acting_user=by
    )
    ENROLMENT_CODES[urlsplit(issued.link).path] = issued.enrolment_code
    return issued.invitation.user, urlsplit(issued.link).path


def link_shown(client: Client, response: Any) -> str:
    """The path of the invitation link the page after ``response`` shows once."""
    shown = page(client, response["Location"])
    return urlsplit(shown.split('data-testid="invitation-link">')[1].split("</code>")[0]).path


def approved_reset(user: User, first: User, second: User) -> str:
    """An MFA reset of ``user`` asked by one administrator and approved by another; the new link's path."""
    reset_request = administration.mfa_reset_request(user=user, reason="Lost phone", acting_user=first)
    issued = administration.mfa_reset_approve(reset_request=reset_request, acting_user=second)
    return urlsplit(issued.link).path


# --- revoking an invitation: one administrator ------------------------------------------------------------


def test_an_administrator_revokes_a_waiting_invitation_after_confirming_and_its_link_stops_working() -> None:
    admin, client = administrator()
    user, link = invited()
    assert Client().get(link).status_code == 200
    detail = page(client, f"{STAFF}/{user.pk}")
    assert "Waiting to be used" in detail and "Revoke the invitation" in detail
    path = f"{STAFF}/{user.pk}/invitation/revoke"
    confirm = page(client, path)
    assert "Are you sure you want to revoke this invitation?" in confirm
    assert Invitation.objects.get(user=user).revoked_at is None  # asking changes nothing

    response = client.post(path)
    assert redirected_to(response) == f"{STAFF}/{user.pk}"
    shown = unescape(page(client, response["Location"]))
    assert "newbie's invitation is revoked" in shown and "Revoked on" in shown
    assert Client().get(link).status_code == 404
    invitation = Invitation.objects.get(user=user)
    assert invitation.revoked_by == admin
    revoked = AuditEvent.objects.get(kind=events.INVITATION_REVOKED, subject_id=user.pk)
    assert (revoked.actor_id, revoked.detail) == (admin.pk, {"reason": "revoked", "invitations": 1})
    # Nothing left to revoke: refused on the same page.
    assert "has no invitation waiting" in refused(client, path, {})


def test_a_revoked_invitation_cannot_finish_an_enrolment_already_half_done() -> None:
    _, client = administrator()
    user, link = invited()
    invitee = Client()
    body = {"password": "three random words here", "password_again": "three random words here"}
    assert (
        redirected_to(invitee.post(link, body | {"enrolment_code": ENROLMENT_CODES[link]})) == f"{link}/authenticator"
    )
    assert invitee.get(f"{link}/authenticator").status_code == 200  # half-way: the password is chosen
    assert redirected_to(client.post(f"{STAFF}/{user.pk}/invitation/revoke")) == f"{STAFF}/{user.pk}"
    assert invitee.get(f"{link}/authenticator").status_code == 404
    assert invitee.post(f"{link}/authenticator", {"code": "123456"}).status_code == 404
    user.refresh_from_db()
    assert not user.has_usable_password()


# --- re-issuing one never used: one administrator; one from an MFA reset only through a new reset ----------


def test_an_invitation_never_used_is_re_issued_by_one_administrator_and_the_old_link_stops() -> None:
    admin, client = administrator()
    user, old_link = invited()
    path = f"{STAFF}/{user.pk}/invitation/reissue"
    assert "Any earlier link stops working" in page(client, path)
    response = client.post(path)
    assert redirected_to(response) == f"{STAFF}/{user.pk}/invitation"
    assert b"/staff/invitation/" not in response.content
    new_link = link_shown(client, response)
    assert new_link != old_link
    assert Client().get(old_link).status_code == 404
    assert Client().get(new_link).status_code == 200
    newest = Invitation.objects.filter(user=user).latest("pk")
    assert (newest.origin, newest.created_by) == (Invitation.Origin.INVITE, admin)
    assert kinds_about(user)[-2:] == [events.INVITATION_REVOKED, events.INVITATION_ISSUED]
    reason = AuditEvent.objects.filter(kind=events.INVITATION_REVOKED, subject_id=user.pk).get().detail["reason"]
    assert reason == "reissued"


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_an_expired_or_revoked_invitation_is_re_issued_too(state: str) -> None:
    _, client = administrator()
    user, _ = invited()
    past = timezone.now() - timedelta(minutes=1)
    change = {"expires_at": past} if state == "expired" else {"revoked_at": past}
    Invitation.objects.filter(user=user).update(**change)
    assert "Re-issue the invitation" in page(client, f"{STAFF}/{user.pk}")
    new_link = link_shown(client, client.post(f"{STAFF}/{user.pk}/invitation/reissue"))
    assert Client().get(new_link).status_code == 200


def test_an_invitation_from_an_mfa_reset_is_never_re_issued_by_one_administrator() -> None:
    first, client = administrator("admin-a")
    second, _ = administrator("admin-b")
    user, _ = staff_with_mfa("lost-phone", role=R.SUPERVISOR)
    reset_link = approved_reset(user, first, second)
    assert Invitation.objects.filter(user=user).latest("pk").origin == Invitation.Origin.MFA_RESET
    path = f"{STAFF}/{user.pk}/invitation/reissue"
    detail = page(client, f"{STAFF}/{user.pk}")
    assert 'data-testid="reissue-problem"' in detail and "Only a new MFA reset" in detail
    assert f'href="{path}"' not in detail
    assert "Only a new MFA reset" in page(client, path)
    assert "Only a new MFA reset" in refused(client, path, {})
    with pytest.raises(services.StaffChangeRefused, match="Only a new MFA reset"):
        administration.invitation_reissue(user=user, acting_user=second)  # the approver neither
    assert Client().get(reset_link).status_code == 200  # unchanged

    # Revoked, it is still replaced only through a new two-person reset.
    client.post(f"{STAFF}/{user.pk}/invitation/revoke")
    assert Client().get(reset_link).status_code == 404
    assert "Only a new MFA reset" in refused(client, path, {})
    new_link = approved_reset(user, first, second)
    assert Client().get(new_link).status_code == 200


def test_an_invitation_already_used_is_not_re_issued() -> None:
    _, client = administrator()
    user, _ = staff_with_mfa("enrolled", role=R.CALL_HANDLER)
    Invitation.objects.create(user=user, digest="x" * 64, expires_at=timezone.now(), used_at=timezone.now())
    assert "already used their invitation" in refused(client, f"{STAFF}/{user.pk}/invitation/reissue", {})


def test_revoking_and_re_issuing_need_an_administrator() -> None:
    user, _ = invited()
    supervisor = staff_user("super", role=R.SUPERVISOR)
    with pytest.raises(services.StaffChangeRefused, match="Only an administrator"):
        administration.invitation_revoke(user=user, acting_user=supervisor)
    with pytest.raises(services.StaffChangeRefused, match="Only an administrator"):
        administration.invitation_reissue(user=user, acting_user=supervisor)
    client = signed_in_client(staff_with_mfa("handler", role=R.CALL_HANDLER)[0])
    for path in (f"{STAFF}/{user.pk}/invitation/revoke", f"{STAFF}/{user.pk}/invitation/reissue"):
        assert client.get(path).status_code == 403
        assert client.post(path).status_code == 403
    assert Invitation.objects.get(user=user).revoked_at is None


# --- a disabled account enabled again: two administrators, a new invitation ------------------------------


def test_a_disabled_account_is_enabled_again_through_a_second_administrators_approval_and_a_new_invitation() -> None:
    first, first_client = administrator("admin-a")
    second, second_client = administrator("admin-b")
    leaver, _ = staff_with_mfa("returner", role=R.AUTHORITY_OFFICER)
    services.user_disable(user=leaver, acting_user=first)
    detail = f"{STAFF}/{leaver.pk}"
    assert "Enable again" in page(first_client, detail)

    shown = refused(first_client, f"{detail}/enable", {"reason": " "})
    assert "Enter why the account should be enabled again" in shown
    response = first_client.post(f"{detail}/enable", {"reason": "Back from secondment"})
    assert redirected_to(response) == detail
    assert "Another administrator must approve it" in page(first_client, detail)
    leaver.refresh_from_db()
    assert not leaver.is_active  # nothing until the second administrator approves
    waiting = MfaResetRequest.objects.get(user=leaver)
    assert waiting.action == MfaResetRequest.Action.RE_ENABLE
    # The one who asked cannot approve.
    refused(first_client, f"{detail}/mfa-reset/approve", {"request": waiting.pk}, back_to=detail)
    leaver.refresh_from_db()
    assert not leaver.is_active

    assert "Approve and enable returner" in page(second_client, detail)
    response = second_client.post(f"{detail}/mfa-reset/approve", {"request": waiting.pk})
    assert redirected_to(response) == f"{detail}/invitation"
    link = link_shown(second_client, response)
    leaver.refresh_from_db()
    assert leaver.is_active and not leaver.has_usable_password()
    # The old credentials never come back: a new enrolment through the new invitation.
    assert not SealedTOTPDevice.objects.filter(user=leaver).exists()
    assert not RecoveryCodes.objects.filter(user=leaver).exists()
    assert Client().get(link).status_code == 200
    newest = Invitation.objects.filter(user=leaver).latest("pk")
    assert newest.origin == Invitation.Origin.RE_ENABLE and newest.from_two_administrators
    assert events.USER_ENABLE_REQUESTED in kinds_about(leaver)
    assert kinds_about(leaver)[-4:] == [
        events.USER_ENABLE_APPROVED,
        events.USER_ENABLED,
        events.SESSIONS_ENDED,
        events.INVITATION_ISSUED,
    ]
    enabled = AuditEvent.objects.get(kind=events.USER_ENABLED, subject_id=leaver.pk)
    assert (enabled.actor_id, enabled.detail) == (second.pk, {"request": waiting.pk})
    assert "secondment" not in repr(list(AuditEvent.objects.values("detail")))  # the reason stays on the request
    # Its invitation came from two administrators: never re-issued by one.
    with pytest.raises(services.StaffChangeRefused, match="two administrators"):
        administration.invitation_reissue(user=leaver, acting_user=first)


def test_a_request_to_enable_can_be_cancelled_and_an_active_account_is_not_enabled() -> None:
    first, client = administrator("admin-a")
    leaver = staff_user("leaver", role=R.CALL_HANDLER, is_active=False)
    waiting = administration.user_enable_request(user=leaver, reason="Came back", acting_user=first)
    response = client.post(f"{STAFF}/{leaver.pk}/mfa-reset/cancel", {"request": waiting.pk})
    assert redirected_to(response) == f"{STAFF}/{leaver.pk}"
    assert "Request to enable leaver cancelled" in page(client, f"{STAFF}/{leaver.pk}")
    assert events.USER_ENABLE_CANCELLED in kinds_about(leaver)
    active = staff_user("active", role=R.CALL_HANDLER)
    assert "already active" in refused(client, f"{STAFF}/{active.pk}/enable", {"reason": "Why not"})


def test_disabling_revokes_the_invitation_so_enabling_again_cannot_revive_an_old_link() -> None:
    first, _ = administrator("admin-a")
    second, _ = administrator("admin-b")
    user, old_link = invited(by=first)
    services.user_disable(user=user, acting_user=first)
    assert Invitation.objects.get(user=user).revoked_at is not None
    waiting = administration.user_enable_request(user=user, reason="Mistake", acting_user=first)
    administration.mfa_reset_approve(reset_request=waiting, acting_user=second)
    assert Client().get(old_link).status_code == 404


# --- the second administrator is told: email, and their landing page -------------------------------------


def approvals_emailed() -> list[tuple[int | None, tuple[str, ...]]]:
    """(the request, who was emailed about it), in the order the requests were made."""
    emailed: dict[int | None, list[str]] = {}
    for notification in Notification.objects.filter(template=APPROVAL_WAITING).order_by("pk"):
        emailed.setdefault(notification.subject_id, []).append(notification.recipient)
    return [(request, tuple(recipients)) for request, recipients in emailed.items()]


@pytest.mark.parametrize("action", ["mfa_reset", "re_enable"])
def test_the_administrators_who_may_approve_are_emailed_when_a_request_waits(action: str) -> None:
    first, client = administrator("admin-a")
    second, _ = staff_with_mfa("admin-b", role=R.ADMINISTRATOR, email="b@helpline.test")
    staff_with_mfa("admin-c", role=R.ADMINISTRATOR, email="c@helpline.test")
    staff_with_mfa("admin-gone", role=R.ADMINISTRATOR, email="gone@helpline.test", is_active=False)
    staff_user("admin-unenrolled", role=R.ADMINISTRATOR, email="new@helpline.test")  # cannot sign in yet
    staff_with_mfa("admin-silent", role=R.ADMINISTRATOR, email="")
    staff_with_mfa("super", role=R.SUPERVISOR, email="super@helpline.test")
    user, _ = staff_with_mfa("subject", role=R.CALL_HANDLER, is_active=action == "mfa_reset")
    path = f"{STAFF}/{user.pk}/{'mfa-reset' if action == 'mfa_reset' else 'enable'}"
    assert redirected_to(client.post(path, {"reason": "Lost phone"})) == f"{STAFF}/{user.pk}"
    waiting = MfaResetRequest.objects.get(user=user)
    assert approvals_emailed() == [(waiting.pk, ("b@helpline.test", "c@helpline.test"))]
    assert first.email not in approvals_emailed()[0][1]  # never the one who asked


def test_an_administrators_own_reset_is_not_emailed_to_them() -> None:
    first, _ = administrator("admin-a")
    target, _ = staff_with_mfa("admin-b", role=R.ADMINISTRATOR, email="b@helpline.test")
    staff_with_mfa("admin-c", role=R.ADMINISTRATOR, email="c@helpline.test")
    administration.mfa_reset_request(user=target, reason="New phone", acting_user=first)
    assert [recipients for _, recipients in approvals_emailed()] == [("c@helpline.test",)]


def test_a_refused_request_emails_nobody() -> None:
    first, client = administrator("admin-a")
    staff_with_mfa("admin-b", role=R.ADMINISTRATOR, email="b@helpline.test")
    user, _ = staff_with_mfa("lost-phone", role=R.SUPERVISOR)
    administration.mfa_reset_request(user=user, reason="Lost", acting_user=first)
    before = approvals_emailed()
    refused(client, f"{STAFF}/{user.pk}/mfa-reset", {"reason": "Stolen"})
    assert approvals_emailed() == before


def test_the_landing_page_lists_what_waits_for_this_administrators_approval() -> None:
    first, first_client = administrator("admin-a")
    _, second_client = administrator("admin-b")
    user, _ = staff_with_mfa("lost-phone", role=R.SUPERVISOR)
    leaver = staff_user("leaver", role=R.CALL_HANDLER, is_active=False)
    administration.mfa_reset_request(user=user, reason="Lost", acting_user=first)
    administration.user_enable_request(user=leaver, reason="Back", acting_user=first)
    # The administrator's landing page (/staff/ sends them to the authorities).
    landing = second_client.get("/staff/", follow=True)
    html = landing.content.decode()
    banner = html.split('data-testid="approvals-waiting"')[1].split("</div>\n</div>")[0]
    assert "2 requests from another administrator need your approval" in banner
    assert "MFA reset for lost-phone" in banner and "Enable leaver's account again" in unescape(banner)
    assert f'href="{STAFF}/{user.pk}"' in banner and f'href="{STAFF}/{leaver.pk}"' in banner
    # Not to the one who asked: theirs wait for someone else.
    assert 'data-testid="approvals-waiting"' not in first_client.get("/staff/", follow=True).content.decode()
    staff_page = page(second_client, STAFF)
    assert "Waiting for your approval" in staff_page
    mine = page(first_client, STAFF)
    assert "Waiting for your approval" not in mine and "Waiting for another administrator" in mine


def test_the_landing_page_takes_one_query_for_its_approvals_however_many(django_assert_num_queries: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first, _ = administrator("admin-a")
    _, client = administrator("admin-b")

    def add(start: int, count: int) -> None:
        for number in range(start, start + count):
            user = staff_user(f"user-{number}", role=R.CALL_HANDLER)
            administration.mfa_reset_request(user=user, reason="Lost", acting_user=first)

    add(0, 1)
    client.get("/staff/admin/authorities")
    with CaptureQueriesContext(connection) as few:
        client.get("/staff/admin/authorities")
    add(1, 6)
    with django_assert_num_queries(len(few.captured_queries)):
        html = client.get("/staff/admin/authorities").content.decode()
    assert "7 requests from another administrator need your approval" in html


# --- a role or scope change is confirmed first -------------------------------------------------------------


def test_a_scope_change_asks_for_confirmation_and_changes_nothing_until_confirmed() -> None:
    admin, client = administrator()
    officer, _ = staff_with_mfa("officer", role=R.AUTHORITY_OFFICER)
    officer.authorities.set(LocalAuthority.objects.filter(gss_code=ROTHERHAM))
    path = f"{STAFF}/{officer.pk}/access"
    response = client.post(path, {"role": R.AUTHORITY_OFFICER, "authorities": "Sheffield\nRotherham"})
    assert redirected_to(response) == f"{path}/confirm"
    confirm = page(client, response["Location"])
    assert "Confirm the new role and scope" in confirm
    before = confirm.split('data-testid="scope-before">')[1].split("</td>")[0].strip()
    after = confirm.split('data-testid="scope-after">')[1].split("</td>")[0].strip()
    assert (before, after) == ("Rotherham", "Rotherham, Sheffield")
    assert 'data-testid="scope-after">Rotherham, Sheffield' in page(client, response["Location"])  # on a refresh too
    assert list(officer.authorities.values_list("gss_code", flat=True)) == [ROTHERHAM]  # nothing yet
    assert events.ACCESS_CHANGED not in kinds_about(officer)

    done = client.post(urlsplit(response["Location"]).path, hidden_fields(confirm))
    assert redirected_to(done) == f"{STAFF}/{officer.pk}"
    assert sorted(officer.authorities.values_list("gss_code", flat=True)) == [ROTHERHAM, SHEFFIELD]
    changed = AuditEvent.objects.get(kind=events.ACCESS_CHANGED, subject_id=officer.pk)
    assert changed.actor_id == admin.pk and changed.detail["was"]["authorities"] == [ROTHERHAM]


def test_a_confirmation_made_stale_by_another_administrators_change_is_refused() -> None:
    _, client = administrator("admin-a")
    other, _ = administrator("admin-b")
    handler = staff_user("handler", role=R.CALL_HANDLER)
    path = f"{STAFF}/{handler.pk}/access"
    response = client.post(path, {"role": R.PARTNERSHIP, "partnership": str(partnership_of_region(YORKSHIRE).pk)})
    confirm = page(client, response["Location"])
    administration.staff_access_change(user=handler, role=R.SUPERVISOR, acting_user=other)
    shown = refused(client, urlsplit(response["Location"]).path, hidden_fields(confirm), back_to=path)
    assert "changed while you were confirming" in shown
    handler.refresh_from_db()
    assert handler.role == R.SUPERVISOR


def test_no_change_needs_no_confirmation() -> None:
    _, client = administrator()
    handler = staff_user("handler", role=R.CALL_HANDLER)
    response = client.post(f"{STAFF}/{handler.pk}/access", {"role": R.CALL_HANDLER})
    assert redirected_to(response) == f"{STAFF}/{handler.pk}"
    assert "Nothing changed: handler already has this role and scope" in page(client, response["Location"])


@pytest.mark.parametrize(
    "query",
    [
        "",
        "role=emperor&version=x",
        "role=authority_officer&authorities=E99999999&version=x",
        "role=call_handler",
        "role=partnership&partnership=" + "9" * 100 + "&version=x",
        "role=board_reviewer&partnership=x&version=x",
        "role=call_handler&version=%00",
    ],
)
def test_a_confirmation_page_with_a_broken_change_goes_back_to_choosing(query: str) -> None:
    _, client = administrator()
    handler = staff_user("handler", role=R.CALL_HANDLER)
    path = f"{STAFF}/{handler.pk}/access"
    response = client.get(f"{path}/confirm?{query}")
    assert redirected_to(response) == path
    assert "Choose the role and scope again" in page(client, path, status=400)
    response = client.post(f"{path}/confirm", dict(pair.split("=", 1) for pair in query.split("&") if pair))
    assert redirected_to(response) == path
    handler.refresh_from_db()
    assert handler.role == R.CALL_HANDLER


# --- the new pages: administrators only ---------------------------------------------------------------------


NEW_PAGES = [
    ("access/confirm", ("GET", "POST")),
    ("invitation/revoke", ("GET", "POST")),
    ("invitation/reissue", ("GET", "POST")),
    ("enable", ("GET", "POST")),
]


@pytest.mark.parametrize(("suffix", "methods"), NEW_PAGES)
def test_the_new_pages_are_for_administrators_only(suffix: str, methods: tuple[str, ...]) -> None:
    user, _ = invited()
    path = f"{STAFF}/{user.pk}/{suffix}"
    for method in methods:
        assert Client().generic(method, path).status_code == 302  # to sign in
        for role in (R.SUPERVISOR, R.AUTHORITY_OFFICER, R.OVERSIGHT_ANALYST):
            client = Client()
            sign_in(client, staff_with_mfa(f"not-admin-{role}", role=role)[0])
            assert client.generic(method, path).status_code == 403, (role, method, path)
    _, admin = administrator()
    assert admin.put(path).status_code == 405
    assert admin.get(f"{STAFF}/999999/{suffix}").status_code == 404

"""Administrators manage staff: who has which access, invitations, role and scope, disabling, and MFA resets
that a second administrator approves. Every form is post/redirect/get with a notification banner."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken

from accounts import administration, events, services
from accounts.models import Invitation, MfaResetRequest, RecoveryCodes, SealedTOTPDevice, User
from audit.models import AuditEvent
from directory.models import LocalAuthority
from tests.accounts.helpers import (
    STAFF,
    administrator,
    confirmed,
    council,
    kinds_about,
    page,
    redirected_to,
    refused,
    signed_in_client,
)
from tests.bad_input import (
    assert_every_variant_answered,
    assert_gov_uk_answer,
    form_variants,
    query_variants,
)
from tests.factories import partnership_make, partnership_of_region, staff_user, staff_with_mfa

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_authorities")]

R = User.Role
ROTHERHAM, SHEFFIELD = "E08000018", "E08000039"
BCP = "E06000058"  # Bournemouth, Christchurch and Poole
DORSET = "E06000059"
YORKSHIRE = "Yorkshire and The Humber"


# --- the list: who has which access ---------------------------------------------------------------------


def test_the_list_shows_each_accounts_role_scope_mfa_status_and_last_sign_in() -> None:
    admin, client = administrator()
    officer, _ = staff_with_mfa("officer-rotherham", role=R.AUTHORITY_OFFICER)
    officer.authorities.set([council(ROTHERHAM), council(SHEFFIELD)])
    staff_user("board-yorkshire", role=R.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE), is_active=False)
    staff_user("analyst", role=R.OVERSIGHT_ANALYST)
    html = page(client, STAFF)
    assert "4 staff accounts" in html
    rows = {row.split('data-testid="staff-')[1].split('"')[0]: row for row in html.split("<tr")[1:] if "staff-" in row}
    assert set(rows) == {admin.username, "officer-rotherham", "board-yorkshire", "analyst"}
    assert "Rotherham, Sheffield" in rows["officer-rotherham"]
    assert "Local authority officer" in rows["officer-rotherham"]
    assert "Enrolled" in rows["officer-rotherham"] and "Never" in rows["officer-rotherham"]
    assert YORKSHIRE in rows["board-yorkshire"] and "Disabled" in rows["board-yorkshire"]
    assert "Not enrolled" in rows["board-yorkshire"]
    assert "National" in rows["analyst"]
    admin.refresh_from_db()
    assert admin.last_login is not None
    assert f"{admin.last_login:%-d %B %Y}" in rows[admin.username] and "Active" in rows[admin.username]


def test_the_list_filters_by_role_and_refuses_an_unknown_one() -> None:
    _, client = administrator()
    staff_user("handler-1", role=R.CALL_HANDLER)
    staff_user("supervisor-1", role=R.SUPERVISOR)
    html = page(client, f"{STAFF}?role=call_handler")
    assert "handler-1" in html and "supervisor-1" not in html
    assert "1 staff account with the role Helpline call handler" in html
    bad = page(client, f"{STAFF}?role=emperor", status=400)
    assert "govuk-error-summary" in bad and "Select a role from the list" in bad


def test_the_list_takes_the_same_number_of_queries_however_many_accounts(
    django_assert_num_queries: Any,
) -> None:
    _, client = administrator()

    def add(count: int, start: int) -> None:
        for number in range(start, start + count):
            officer, _ = staff_with_mfa(f"officer-{number}", role=R.AUTHORITY_OFFICER)
            officer.authorities.set([council(ROTHERHAM)])
            requester = staff_user(f"requester-{number}", role=R.ADMINISTRATOR)
            administration.mfa_reset_request(user=officer, reason="Lost phone", acting_user=requester)

    add(2, 0)
    client.get(STAFF)  # the session's first-request writes out of the way
    with CaptureQueriesContext(connection) as few:
        page(client, STAFF)
    add(8, 2)
    with django_assert_num_queries(len(few.captured_queries)):
        html = page(client, STAFF)
    assert html.count("Reset waiting") == 10


# --- inviting --------------------------------------------------------------------------------------------


def test_an_invitation_link_is_shown_once_after_the_redirect_and_never_at_the_post_address() -> None:
    admin, client = administrator()
    response = client.post(
        f"{STAFF}/invite",
        {
            "username": "new-officer",
            "email": "new@council.test",
            "role": R.AUTHORITY_OFFICER,
            "authorities": "Rotherham, E08000019",
        },  # Sheffield by its former code,
    )
    invited = User.objects.get(username="new-officer")
    assert redirected_to(response) == f"{STAFF}/{invited.pk}/invitation"
    assert b"/staff/invitation/" not in response.content
    shown = page(client, response["Location"])
    assert "Invitation created for new-officer" in shown  # the banner
    link = shown.split('data-testid="invitation-link">')[1].split("</code>")[0]
    assert Client().get(urlsplit(link).path).status_code == 200  # the invitee's enrolment page
    again = page(client, response["Location"])
    assert "/staff/invitation/" not in again and "shown once and cannot be shown again" in again
    assert sorted(invited.authorities.values_list("gss_code", flat=True)) == [ROTHERHAM, SHEFFIELD]
    assert not invited.has_usable_password()
    assert kinds_about(invited) == [events.ACCESS_CHANGED, events.INVITATION_ISSUED]
    issued = AuditEvent.objects.get(kind=events.INVITATION_ISSUED, subject_id=invited.pk)
    assert issued.actor_id == admin.pk
    assert Invitation.objects.get(user=invited).created_by == admin


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "", "email": "x@helpline.test", "role": R.CALL_HANDLER}, "Enter a username"),
        ({"username": "has space", "email": "x@helpline.test", "role": R.CALL_HANDLER}, "can only have letters"),
        (
            {"username": "admin-a", "email": "x@helpline.test", "role": R.CALL_HANDLER},
            "already an account called admin-a",
        ),
        ({"username": "n", "email": "not an email", "role": R.CALL_HANDLER}, "correct format"),
        ({"username": "n", "email": "x@helpline.test", "role": "emperor"}, "Select a role"),
        ({"username": "n", "email": "x@helpline.test", "role": R.AUTHORITY_OFFICER}, "at least one authority"),
        (
            {"username": "n", "email": "x@helpline.test", "role": R.AUTHORITY_OFFICER, "authorities": "Atlantis"},
            "no authority called Atlantis",
        ),
        ({"username": "n", "email": "x@helpline.test", "role": R.PARTNERSHIP}, "Select the safeguarding partnership"),
        (
            {"username": "n", "email": "x@helpline.test", "role": R.PARTNERSHIP, "partnership": "999999"},
            "Select a safeguarding partnership from the list",
        ),
    ],
)
def test_a_refused_invitation_is_shown_again_with_its_errors_and_creates_nobody(
    data: dict[str, str], message: str
) -> None:
    _, client = administrator()
    before = User.objects.count()
    shown = refused(client, f"{STAFF}/invite", data)
    assert message in shown
    if data["email"] == "x@helpline.test":
        assert 'value="x@helpline.test"' in shown  # what was typed comes back
    assert User.objects.count() == before
    assert page(client, f"{STAFF}/invite", status=200).count("govuk-error-summary") == 0  # taken once


def test_a_partnership_member_is_invited_with_their_partnership() -> None:
    _, client = administrator()
    pan_dorset = partnership_make("Pan-Dorset Safeguarding Children Partnership", BCP, DORSET)
    assert "Pan-Dorset Safeguarding Children Partnership" in page(client, f"{STAFF}/invite")
    data = {"username": "dorset", "email": "d@dorset.test", "role": R.PARTNERSHIP, "partnership": str(pan_dorset.pk)}
    assert client.post(f"{STAFF}/invite", data).status_code == 302
    assert User.objects.get(username="dorset").partnership == pan_dorset


def test_an_old_client_sending_the_former_role_name_invites_a_partnership_member() -> None:
    _, client = administrator()
    pan_dorset = partnership_make("Pan-Dorset Safeguarding Children Partnership", BCP, DORSET)
    data = {"username": "old", "email": "o@dorset.test", "role": "board_reviewer", "partnership": str(pan_dorset.pk)}
    assert client.post(f"{STAFF}/invite", data).status_code == 302
    invited = User.objects.get(username="old")
    assert (invited.role, invited.partnership) == (R.PARTNERSHIP, pan_dorset)
    assert "with the role Safeguarding partnership" in page(client, f"{STAFF}?role=board_reviewer")


# --- role and scope --------------------------------------------------------------------------------------


def test_an_administrator_changes_a_role_and_scope_and_it_is_audited() -> None:
    admin, client = administrator()
    handler = staff_user("handler", role=R.CALL_HANDLER)
    path = f"{STAFF}/{handler.pk}/access"
    assert 'value="call_handler" checked' in page(client, path)
    # One per line, by name or code; a name with commas in it is still one authority.
    authorities = "sheffield\nBournemouth, Christchurch and Poole\nE08000039"
    yorkshire = partnership_of_region(YORKSHIRE)
    response = confirmed(
        client, path, {"role": R.AUTHORITY_OFFICER, "authorities": authorities, "partnership": str(yorkshire.pk)}
    )
    assert redirected_to(response) == f"{STAFF}/{handler.pk}"
    assert "Role and scope changed for handler" in page(client, response["Location"])
    handler.refresh_from_db()
    assert (handler.role, handler.partnership) == (R.AUTHORITY_OFFICER, None)  # only a partnership member's scope
    assert sorted(handler.authorities.values_list("gss_code", flat=True)) == [BCP, SHEFFIELD]
    assert "Bournemouth, Christchurch and Poole\nSheffield" in page(client, path)  # shown again as typed
    changed = AuditEvent.objects.get(kind=events.ACCESS_CHANGED, subject_id=handler.pk)
    assert changed.actor_id == admin.pk
    assert changed.detail == {
        "role": R.AUTHORITY_OFFICER,
        "authorities": [BCP, SHEFFIELD],
        "partnership": None,
        "was": {"role": R.CALL_HANDLER, "authorities": [], "partnership": None},
    }

    shown = page(client, path)
    assert confirmed(
        client, path, {"role": R.PARTNERSHIP, "authorities": "Rotherham", "partnership": str(yorkshire.pk)}
    )
    handler.refresh_from_db()
    assert (handler.role, handler.partnership, handler.authorities.count()) == (R.PARTNERSHIP, yorkshire, 0)
    assert "Yorkshire and The Humber" in shown


def test_an_officer_without_authorities_is_refused_and_nothing_changes() -> None:
    _, client = administrator()
    handler = staff_user("handler", role=R.CALL_HANDLER)
    shown = refused(client, f"{STAFF}/{handler.pk}/access", {"role": R.AUTHORITY_OFFICER, "authorities": " , "})
    assert "Enter at least one authority" in shown
    handler.refresh_from_db()
    assert handler.role == R.CALL_HANDLER
    assert events.ACCESS_CHANGED not in kinds_about(handler)


def test_an_administrator_cannot_change_their_own_role() -> None:
    admin, client = administrator()
    shown = refused(client, f"{STAFF}/{admin.pk}/access", {"role": R.CALL_HANDLER})
    assert "You cannot change your own role" in shown
    admin.refresh_from_db()
    assert admin.role == R.ADMINISTRATOR


def test_an_unknown_account_is_not_found() -> None:
    _, client = administrator()
    for suffix in ("", "/access", "/disable", "/mfa-reset", "/invitation"):
        assert client.get(f"{STAFF}/999999{suffix}").status_code == 404
    assert client.post(f"{STAFF}/999999/disable").status_code == 404


# --- disabling -------------------------------------------------------------------------------------------


def test_disabling_asks_first_then_ends_the_users_sessions_and_tokens() -> None:
    admin, client = administrator()
    victim, _ = staff_with_mfa("leaver", role=R.SUPERVISOR)
    their_browser = signed_in_client(victim)
    AuthToken.objects.create(user=victim)
    path = f"{STAFF}/{victim.pk}/disable"
    confirm = page(client, path)
    assert "Are you sure you want to disable this account?" in confirm and "Disable leaver" in confirm
    victim.refresh_from_db()
    assert victim.is_active  # asking changes nothing

    response = client.post(path)
    assert redirected_to(response) == f"{STAFF}/{victim.pk}"
    assert "leaver is disabled: their sessions and API tokens have ended" in page(client, response["Location"])
    victim.refresh_from_db()
    assert not victim.is_active
    assert their_browser.get("/staff/").status_code == 302
    assert not AuthToken.objects.filter(user=victim).exists()
    assert kinds_about(victim)[-2:] == [events.USER_DISABLED, events.SESSIONS_ENDED]
    ended = AuditEvent.objects.get(kind=events.SESSIONS_ENDED, subject_id=victim.pk)
    assert (ended.actor_id, ended.detail) == (admin.pk, {"reason": "disabled", "sessions": 1, "tokens": 1})


def test_an_administrator_cannot_disable_themselves() -> None:
    admin, client = administrator()
    path = f"{STAFF}/{admin.pk}/disable"
    assert "Another administrator must disable it" in page(client, path)
    shown = refused(client, path, {})
    assert "You cannot disable your own account" in shown
    admin.refresh_from_db()
    assert admin.is_active
    assert client.get(STAFF).status_code == 200  # still signed in


def test_disabling_a_disabled_account_is_refused() -> None:
    _, client = administrator()
    gone = staff_user("gone", role=R.CALL_HANDLER, is_active=False)
    assert "already disabled" in refused(client, f"{STAFF}/{gone.pk}/disable", {})


# --- MFA reset with a second administrator's approval ----------------------------------------------------


def lost_phone() -> tuple[User, Client]:
    """A supervisor with an authenticator, recovery codes and a signed-in browser."""
    user, _ = staff_with_mfa("lost-phone", role=R.SUPERVISOR)
    return user, signed_in_client(user)


def test_an_mfa_reset_runs_only_when_a_second_administrator_approves_it() -> None:
    first, first_client = administrator("admin-a")
    second, second_client = administrator("admin-b")
    user, their_browser = lost_phone()
    detail = f"{STAFF}/{user.pk}"

    response = first_client.post(f"{detail}/mfa-reset", {"reason": "Phone dropped in the canal"})
    assert redirected_to(response) == detail
    shown = page(first_client, detail)
    assert "another administrator must approve it" in shown
    assert "Approve MFA reset" not in shown  # never to the one who asked
    reset_request = MfaResetRequest.objects.get(user=user)
    assert (reset_request.status, reset_request.requested_by) == (MfaResetRequest.Status.PENDING, first)
    assert SealedTOTPDevice.objects.filter(user=user).exists()  # nothing reset yet
    assert their_browser.get("/staff/").status_code == 200

    listing = page(second_client, STAFF)
    assert 'data-testid="pending-resets"' in listing and "Phone dropped in the canal" in listing
    assert "Approve MFA reset" in page(second_client, detail)

    # The one who asked cannot approve, whatever they send.
    shown = refused(first_client, f"{detail}/mfa-reset/approve", {"request": reset_request.pk}, back_to=detail)
    assert "another administrator must approve it" in shown
    assert SealedTOTPDevice.objects.filter(user=user).exists()

    response = second_client.post(f"{detail}/mfa-reset/approve", {"request": reset_request.pk})
    assert redirected_to(response) == f"{detail}/invitation"
    assert b"/staff/invitation/" not in response.content
    shown = page(second_client, response["Location"])
    assert "MFA reset for lost-phone approved" in shown
    link = shown.split('data-testid="invitation-link">')[1].split("</code>")[0]
    assert "/staff/invitation/" not in page(second_client, response["Location"])  # shown once

    reset_request.refresh_from_db()
    assert (reset_request.status, reset_request.decided_by) == (MfaResetRequest.Status.APPROVED, second)
    assert not SealedTOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCodes.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert not user.has_usable_password()
    assert their_browser.get("/staff/").status_code == 302
    assert Client().get(urlsplit(link).path).status_code == 200  # they enrol again
    assert kinds_about(user)[-4:] == [
        events.MFA_RESET_REQUESTED,
        events.MFA_RESET_APPROVED,
        events.SESSIONS_ENDED,
        events.INVITATION_ISSUED,
    ]
    approved = AuditEvent.objects.get(kind=events.MFA_RESET_APPROVED, subject_id=user.pk)
    assert (approved.actor_id, approved.detail) == (second.pk, {"request": reset_request.pk, "requested_by": first.pk})
    assert "canal" not in repr(list(AuditEvent.objects.values("detail")))  # the reason stays on the request


def test_a_pending_reset_can_be_cancelled_and_then_nothing_is_reset() -> None:
    first, first_client = administrator("admin-a")
    _, second_client = administrator("admin-b")
    user, their_browser = lost_phone()
    detail = f"{STAFF}/{user.pk}"
    reset_request = administration.mfa_reset_request(user=user, reason="Found the phone", acting_user=first)
    response = first_client.post(f"{detail}/mfa-reset/cancel", {"request": reset_request.pk})
    assert redirected_to(response) == detail
    assert "MFA reset request for lost-phone cancelled" in page(first_client, detail)
    reset_request.refresh_from_db()
    assert (reset_request.status, reset_request.decided_by) == (MfaResetRequest.Status.CANCELLED, first)

    shown = refused(second_client, f"{detail}/mfa-reset/approve", {"request": reset_request.pk}, back_to=detail)
    assert "no longer waiting" in shown
    assert SealedTOTPDevice.objects.filter(user=user, confirmed=True).exists()
    assert their_browser.get("/staff/").status_code == 200
    assert events.MFA_RESET_CANCELLED in kinds_about(user)
    assert events.MFA_RESET_APPROVED not in kinds_about(user)


@pytest.mark.parametrize("request_id", ["", "0", "abc", "99999999", "1e3", "9" * 40])
def test_an_approval_of_no_such_request_is_refused_on_the_accounts_page(request_id: str) -> None:
    _, client = administrator("admin-b")
    user, _ = lost_phone()
    shown = refused(
        client, f"{STAFF}/{user.pk}/mfa-reset/approve", {"request": request_id}, back_to=f"{STAFF}/{user.pk}"
    )
    assert "no longer waiting" in shown
    assert SealedTOTPDevice.objects.filter(user=user).exists()


def test_a_second_reset_request_is_refused_while_one_waits_and_a_reason_is_needed() -> None:
    first, client = administrator("admin-a")
    user, _ = lost_phone()
    path = f"{STAFF}/{user.pk}/mfa-reset"
    assert "Enter why their second factor needs resetting" in refused(client, path, {"reason": "   "})
    administration.mfa_reset_request(user=user, reason="Lost", acting_user=first)
    _, other = administrator("admin-b")
    shown = refused(other, path, {"reason": "Stolen"})
    assert "already waiting for approval" in shown
    assert MfaResetRequest.objects.filter(user=user).count() == 1


def test_the_user_whose_reset_it_is_cannot_approve_it() -> None:
    first = staff_user("admin-a", role=R.ADMINISTRATOR)
    target, client = administrator("admin-b")
    reset_request = administration.mfa_reset_request(user=target, reason="New phone", acting_user=first)
    shown = refused(
        client, f"{STAFF}/{target.pk}/mfa-reset/approve", {"request": reset_request.pk}, back_to=f"{STAFF}/{target.pk}"
    )
    assert "Another administrator must approve a reset of your own account" in shown


def test_the_database_refuses_an_approval_by_the_administrator_who_asked() -> None:
    first = staff_user("admin-a", role=R.ADMINISTRATOR)
    user, _ = lost_phone()
    reset_request = administration.mfa_reset_request(user=user, reason="Lost", acting_user=first)
    reset_request.status = MfaResetRequest.Status.APPROVED
    reset_request.decided_by = first
    reset_request.decided_at = reset_request.requested_at
    with pytest.raises(IntegrityError), transaction.atomic():
        reset_request.save()


def test_only_an_administrator_can_request_or_approve_through_the_services() -> None:
    supervisor = staff_user("super", role=R.SUPERVISOR)
    user, _ = lost_phone()
    with pytest.raises(services.StaffChangeRefused, match="Only an administrator"):
        administration.mfa_reset_request(user=user, reason="Lost", acting_user=supervisor)
    reset_request = administration.mfa_reset_request(
        user=user, reason="Lost", acting_user=staff_user("admin-a", role=R.ADMINISTRATOR)
    )
    with pytest.raises(services.StaffChangeRefused, match="Only an administrator"):
        administration.mfa_reset_approve(reset_request=reset_request, acting_user=supervisor)


# --- the authority inbox, now post/redirect/get ---------------------------------------------------------


def test_a_refused_referral_inbox_comes_back_by_redirect_with_a_400_and_a_set_one_shows_a_banner() -> None:
    _, client = administrator()
    path = f"/staff/admin/authorities/{ROTHERHAM}"
    shown = refused(client, path, {"referral_email": "not-an-address"})
    assert "Enter an email address in the correct format" in shown and 'value="not-an-address"' in shown
    assert page(client, path).count("govuk-error-summary") == 0  # a refresh shows the page afresh
    response = client.post(path, {"referral_email": "referrals@rotherham.gov.test"})
    assert redirected_to(response) == "/staff/admin/authorities"
    assert "Referral inbox for Rotherham set to referrals@rotherham.gov.test" in page(
        client, "/staff/admin/authorities"
    )
    assert LocalAuthority.objects.get(gss_code=ROTHERHAM).referral_email == "referrals@rotherham.gov.test"


def test_the_admin_menu_marks_the_current_page() -> None:
    _, client = administrator()
    html = page(client, STAFF)
    assert f'href="{STAFF}" aria-current="page">Staff' in html
    assert 'href="/staff/admin/authorities">Authorities' in html
    handler = staff_user("handler", role=R.CALL_HANDLER)
    assert f'href="{STAFF}" aria-current="true">Staff' in page(client, f"{STAFF}/{handler.pk}")


# --- bad input: never a 500 -----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.isolated
def test_bad_form_input_on_the_staff_forms_is_a_gov_uk_page() -> None:
    _, client = administrator()
    handler = staff_user("handler", role=R.CALL_HANDLER)
    from accounts.forms import MfaResetRequestForm, StaffAccessForm, StaffInviteForm

    invite = {"username": "fuzzed", "email": "f@helpline.test", "role": R.AUTHORITY_OFFICER, "authorities": ROTHERHAM}
    access = {"role": R.PARTNERSHIP, "authorities": "", "partnership": str(partnership_of_region(YORKSHIRE).pk)}
    forms_and_answers = [
        (f"{STAFF}/invite", invite, StaffInviteForm.base_fields),
        (f"{STAFF}/{handler.pk}/access", access, StaffAccessForm.base_fields),
        (f"{STAFF}/{handler.pk}/mfa-reset", {"reason": "Lost phone"}, MfaResetRequestForm.base_fields),
    ]
    for path, valid, fields in forms_and_answers:
        assert_every_variant_answered(client, path, form_variants(valid, fields))


@pytest.mark.slow
@pytest.mark.isolated
def test_bad_bytes_in_the_staff_list_query_string_are_a_page_or_a_form_error() -> None:
    _, client = administrator()
    for what, query, refusable in query_variants(["role"]):
        response = client.get(f"{STAFF}?{query}")
        assert_gov_uk_answer(response, f"{STAFF}: {what}", refused=refusable and query.startswith("role="))

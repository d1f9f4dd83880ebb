"""Administrators' changes to staff accounts: role and scope (confirmed first), invitations revoked or
re-issued, and the decisions that need a second administrator's approval: an MFA reset, and enabling a
disabled account again. Inviting and disabling are accounts.services.staff_invite and user_disable."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import events, policy, services
from accounts.models import Invitation, MfaResetRequest, SealedTOTPDevice, User, role_current
from accounts.notifications import approval_waiting_tell
from accounts.policy import Permission
from accounts.services import IssuedInvitation, StaffChangeRefused
from directory import lookup
from directory.models import LocalAuthority, Partnership


def _must_administer(acting_user: User) -> None:
    if not policy.may(acting_user, Permission.ADMINISTER):
        raise StaffChangeRefused("Only an administrator can change staff accounts.")


def access_version(user: User) -> str:
    """A short fingerprint of what the account may reach now: a confirmation page carries it, so a change
    confirmed after someone else changed the account is refused instead of undoing theirs."""
    detail = json.dumps(services.access_detail(user), sort_keys=True)
    return hashlib.sha256(detail.encode("utf-8")).hexdigest()[:16]


def _access_wanted(
    *, user: User, role: str, authority_codes: Sequence[str], partnership: Partnership | None, acting_user: User
) -> tuple[list[LocalAuthority | None], Partnership | None]:
    """(the authorities, the safeguarding partnership) the role keeps, or StaffChangeRefused saying why it
    cannot have them."""
    _must_administer(acting_user)
    if user.pk == acting_user.pk:
        raise StaffChangeRefused("You cannot change your own role or scope: ask another administrator.")
    authorities = (
        [lookup.authority_by_code(code) for code in authority_codes] if policy.scoped_by_authorities(role) else []
    )
    partnership = partnership if policy.scoped_by_partnership(role) else None
    problem = services.scope_problem(role=role, authorities=authorities, partnership=partnership)
    if problem:
        raise StaffChangeRefused(problem)
    return authorities, partnership


def staff_access_check(
    *,
    user: User,
    role: str,
    authority_codes: Sequence[str] = (),
    partnership: Partnership | None = None,
    acting_user: User,
) -> bool:
    """Whether the change may be made (StaffChangeRefused if not) and would change anything: what the
    administrator confirms next. Nothing is written."""
    role = role_current(role)
    authorities, partnership = _access_wanted(
        user=user, role=role, authority_codes=authority_codes, partnership=partnership, acting_user=acting_user
    )
    after = {
        "role": role,
        "authorities": sorted(found.gss_code for found in authorities if found is not None),
        "partnership": partnership.pk if partnership is not None else None,
    }
    return after != services.access_detail(user)


@transaction.atomic(durable=True)
def staff_access_change(
    *,
    user: User,
    role: str,
    authority_codes: Sequence[str] = (),
    partnership: Partnership | None = None,
    acting_user: User,
    version: str | None = None,
) -> None:
    """Give an account a role and the scope that role needs: authorities for an authority officer, a
    safeguarding partnership for a partnership member, nothing for the others (a scope left over from an
    earlier role is cleared).
    ``version``: the access_version the administrator confirmed against; refused if it has changed since."""
    role = role_current(role)
    authorities, partnership = _access_wanted(
        user=user, role=role, authority_codes=authority_codes, partnership=partnership, acting_user=acting_user
    )
    user = User.objects.select_for_update().get(pk=user.pk)
    if version is not None and version != access_version(user):
        raise StaffChangeRefused(
            f"{user.username}'s role or scope changed while you were confirming: check it and choose again."
        )
    before = services.access_detail(user)
    user.role = role
    user.partnership = partnership
    user.save(update_fields=["role", "partnership"])
    user.authorities.set([found for found in authorities if found is not None])
    after = services.access_detail(user)
    if after != before:
        events.auth_event(kind=events.ACCESS_CHANGED, user=user, actor=acting_user, detail={**after, "was": before})


# --- invitations -----------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def invitation_revoke(*, user: User, acting_user: User) -> int:
    """Stop the invitation link of ``user`` that is still waiting to be used (one administrator may)."""
    _must_administer(acting_user)
    user = User.objects.select_for_update().get(pk=user.pk)
    waiting = Invitation.objects.filter(
        user=user, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )
    if not waiting.exists():
        raise StaffChangeRefused(f"{user.username} has no invitation waiting to be used.")
    return services.invitations_revoke(user=user, acting_user=acting_user, reason="revoked")


def reissue_problem(*, user: User, latest: Invitation | None, enrolled: bool) -> str | None:
    """Why one administrator cannot re-issue ``user``'s invitation (``latest``, their newest), or None."""
    if not user.is_active:
        return f"{user.username}'s account is disabled: ask for it to be enabled again instead."
    if latest is None:
        return f"{user.username} was never invited. If they cannot sign in, request an MFA reset."
    if latest.used_at is not None or enrolled:
        return f"{user.username} has already used their invitation. If they cannot sign in, request an MFA reset."
    if latest.from_two_administrators:
        return (
            f"{user.username}'s invitation came from a decision two administrators made. Only a new MFA reset, "
            "which another administrator approves, can replace it."
        )
    return None


@transaction.atomic(durable=True)
def invitation_reissue(*, user: User, acting_user: User) -> IssuedInvitation:
    """A new link for a member of staff who never used their invitation (lost, expired or revoked): the old
    one stops working. An invitation made by an MFA reset or by enabling an account again is never re-issued
    here: that takes a new two-person decision (reissue_problem)."""
    _must_administer(acting_user)
    if user.pk == acting_user.pk:
        raise StaffChangeRefused("You cannot re-issue your own invitation: ask another administrator.")
    user = User.objects.select_for_update().get(pk=user.pk)
    latest = Invitation.objects.filter(user=user).order_by("-created_at", "-pk").first()
    enrolled = SealedTOTPDevice.objects.filter(user=user, confirmed=True).exists()
    problem = reissue_problem(user=user, latest=latest, enrolled=enrolled)
    if problem:
        raise StaffChangeRefused(problem)
    services.invitations_revoke(user=user, acting_user=acting_user, reason="reissued")
    return services.invitation_issue(user=user, acting_user=acting_user, origin=Invitation.Origin.INVITE)


# --- decisions of two administrators: MFA resets, and enabling a disabled account again -----------------

A = MfaResetRequest.Action
REQUESTED = {A.MFA_RESET: events.MFA_RESET_REQUESTED, A.RE_ENABLE: events.USER_ENABLE_REQUESTED}
APPROVED = {A.MFA_RESET: events.MFA_RESET_APPROVED, A.RE_ENABLE: events.USER_ENABLE_APPROVED}
CANCELLED = {A.MFA_RESET: events.MFA_RESET_CANCELLED, A.RE_ENABLE: events.USER_ENABLE_CANCELLED}
ALREADY_WAITING = {A.MFA_RESET: "A reset", A.RE_ENABLE: "A request to enable the account"}


def deciders(*, reset_request: MfaResetRequest) -> list[User]:
    """The administrators who may approve a waiting request: active, able to sign in, never the one who asked
    nor the account it is about."""
    return list(
        policy.holders(Permission.ADMINISTER)
        .exclude(pk__in=[reset_request.requested_by_id, reset_request.user_id])
        .filter(totpdevice__confirmed=True)
        .distinct()
        .order_by("pk")
    )


def _approval_request(*, user: User, reason: str, acting_user: User, action: str) -> MfaResetRequest:
    user = User.objects.select_for_update().get(pk=user.pk)
    if MfaResetRequest.objects.filter(user=user, status=MfaResetRequest.Status.PENDING).exists():
        raise StaffChangeRefused(f"{ALREADY_WAITING[A(action)]} for {user.username} is already waiting for approval.")
    try:
        with transaction.atomic():
            request = MfaResetRequest.objects.create(user=user, requested_by=acting_user, reason=reason, action=action)
    except IntegrityError as clash:  # another administrator asked at the same moment
        raise StaffChangeRefused(
            f"{ALREADY_WAITING[A(action)]} for {user.username} is already waiting for approval."
        ) from clash
    events.auth_event(kind=REQUESTED[A(action)], user=user, actor=acting_user, detail={"request": request.pk})
    recipients = [admin.email for admin in deciders(reset_request=request) if admin.email]
    approval_waiting_tell(request_id=request.pk, recipients=recipients)
    return request


@transaction.atomic(durable=True)
def mfa_reset_request(*, user: User, reason: str, acting_user: User) -> MfaResetRequest:
    """Ask for a reset of ``user``'s authenticator and recovery codes; nothing changes until another
    administrator approves it (mfa_reset_approve). The administrators who may approve it are emailed."""
    _must_administer(acting_user)
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        raise StaffChangeRefused(
            f"The account {user.username} is disabled: ask for it to be enabled again instead, which also "
            "gives them a new invitation."
        )
    return _approval_request(user=user, reason=reason, acting_user=acting_user, action=A.MFA_RESET)


@transaction.atomic(durable=True)
def user_enable_request(*, user: User, reason: str, acting_user: User) -> MfaResetRequest:
    """Ask for a disabled account to be enabled again. Once another administrator approves, it is active with
    no password, authenticator or recovery codes, and a new invitation to enrol with: a disabled account's
    old credentials never come back, and one administrator alone can never make themselves a way into
    someone else's account."""
    _must_administer(acting_user)
    if User.objects.filter(pk=user.pk, is_active=True).exists():
        raise StaffChangeRefused(f"The account {user.username} is already active.")
    return _approval_request(user=user, reason=reason, acting_user=acting_user, action=A.RE_ENABLE)


def _pending(reset_request: MfaResetRequest) -> MfaResetRequest:
    locked = MfaResetRequest.objects.select_for_update().select_related("user").get(pk=reset_request.pk)
    if locked.status != MfaResetRequest.Status.PENDING:
        raise StaffChangeRefused("This reset request is no longer waiting: it has been approved or cancelled.")
    return locked


@transaction.atomic(durable=True)
def mfa_reset_approve(*, reset_request: MfaResetRequest, acting_user: User) -> IssuedInvitation:
    """The second administrator's approval: the reset (or the enabling) runs now, and the user gets a new
    invitation to enrol again. The administrator who asked cannot approve, nor can the user it is about."""
    _must_administer(acting_user)
    reset_request = _pending(reset_request)
    action = A(reset_request.action)
    if reset_request.requested_by_id == acting_user.pk:
        raise StaffChangeRefused(
            "You asked for this reset, so another administrator must approve it."
            if action == A.MFA_RESET
            else "You asked for this account to be enabled, so another administrator must approve it."
        )
    user = User.objects.select_for_update().get(pk=reset_request.user_id)
    if user.pk == acting_user.pk:
        raise StaffChangeRefused("Another administrator must approve a reset of your own account.")
    if action == A.MFA_RESET and not user.is_active:
        raise StaffChangeRefused(f"The account {user.username} is disabled: cancel the request instead.")
    if action == A.RE_ENABLE and user.is_active:
        raise StaffChangeRefused(f"The account {user.username} is already active: cancel the request instead.")
    reset_request.status = MfaResetRequest.Status.APPROVED
    reset_request.decided_by = acting_user
    reset_request.decided_at = timezone.now()
    reset_request.save(update_fields=["status", "decided_by", "decided_at"])
    events.auth_event(
        kind=APPROVED[action],
        user=user,
        actor=acting_user,
        detail={"request": reset_request.pk, "requested_by": reset_request.requested_by_id},
    )
    if action == A.RE_ENABLE:
        user.is_active = True
        user.save(update_fields=["is_active"])
        events.auth_event(kind=events.USER_ENABLED, user=user, actor=acting_user, detail={"request": reset_request.pk})
        return services.mfa_reset_in_transaction(user=user, acting_user=acting_user, origin=Invitation.Origin.RE_ENABLE)
    return services.mfa_reset_in_transaction(user=user, acting_user=acting_user)


@transaction.atomic(durable=True)
def mfa_reset_cancel(*, reset_request: MfaResetRequest, acting_user: User) -> None:
    """Withdraw a request that is waiting (any administrator, the one who asked included)."""
    _must_administer(acting_user)
    reset_request = _pending(reset_request)
    reset_request.status = MfaResetRequest.Status.CANCELLED
    reset_request.decided_by = acting_user
    reset_request.decided_at = timezone.now()
    reset_request.save(update_fields=["status", "decided_by", "decided_at"])
    events.auth_event(
        kind=CANCELLED[A(reset_request.action)],
        user=reset_request.user,
        actor=acting_user,
        detail={"request": reset_request.pk},
    )

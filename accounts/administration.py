"""Administrators' changes to staff accounts: role and scope, and second-factor resets that need a second
administrator's approval. Inviting and disabling are accounts.services.staff_invite and user_disable."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import events, services
from accounts.models import MfaResetRequest, User
from accounts.services import IssuedInvitation, StaffChangeRefused
from directory import lookup


def _must_administer(acting_user: User) -> None:
    if acting_user.role != User.Role.ADMINISTRATOR or not acting_user.is_active:
        raise StaffChangeRefused("Only an administrator can change staff accounts.")


@transaction.atomic(durable=True)
def staff_access_change(
    *, user: User, role: str, authority_codes: Sequence[str] = (), area: str = "", acting_user: User
) -> None:
    """Give an account a role and the scope that role needs: authorities for an authority officer, a region
    for a board reviewer, nothing for the others (a scope left over from an earlier role is cleared)."""
    _must_administer(acting_user)
    if user.pk == acting_user.pk:
        raise StaffChangeRefused("You cannot change your own role or scope: ask another administrator.")
    authorities = (
        [lookup.authority_by_code(code) for code in authority_codes] if role == User.Role.AUTHORITY_OFFICER else []
    )
    area = area if role == User.Role.BOARD_REVIEWER else ""
    problem = services.scope_problem(role=role, authorities=authorities, area=area)
    if problem:
        raise StaffChangeRefused(problem)
    user = User.objects.select_for_update().get(pk=user.pk)
    before = services.access_detail(user)
    user.role = role
    user.area = area
    user.save(update_fields=["role", "area"])
    user.authorities.set([found for found in authorities if found is not None])
    after = services.access_detail(user)
    if after != before:
        events.auth_event(kind=events.ACCESS_CHANGED, user=user, actor=acting_user, detail={**after, "was": before})


@transaction.atomic(durable=True)
def mfa_reset_request(*, user: User, reason: str, acting_user: User) -> MfaResetRequest:
    """Ask for a reset of ``user``'s authenticator and recovery codes; nothing changes until another
    administrator approves it (mfa_reset_approve)."""
    _must_administer(acting_user)
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active:
        raise StaffChangeRefused(f"The account {user.username} is disabled: there is nothing to reset.")
    if MfaResetRequest.objects.filter(user=user, status=MfaResetRequest.Status.PENDING).exists():
        raise StaffChangeRefused(f"A reset for {user.username} is already waiting for approval.")
    try:
        with transaction.atomic():
            request = MfaResetRequest.objects.create(user=user, requested_by=acting_user, reason=reason)
    except IntegrityError as clash:  # another administrator asked at the same moment
        raise StaffChangeRefused(f"A reset for {user.username} is already waiting for approval.") from clash
    events.auth_event(kind=events.MFA_RESET_REQUESTED, user=user, actor=acting_user, detail={"request": request.pk})
    return request


def _pending(reset_request: MfaResetRequest) -> MfaResetRequest:
    locked = MfaResetRequest.objects.select_for_update().select_related("user").get(pk=reset_request.pk)
    if locked.status != MfaResetRequest.Status.PENDING:
        raise StaffChangeRefused("This reset request is no longer waiting: it has been approved or cancelled.")
    return locked


@transaction.atomic(durable=True)
def mfa_reset_approve(*, reset_request: MfaResetRequest, acting_user: User) -> IssuedInvitation:
    """The second administrator's approval: the reset runs now (accounts.services.mfa_reset), and the user
    gets a new invitation to enrol again. The administrator who asked cannot approve, nor can the user whose
    reset it is."""
    _must_administer(acting_user)
    reset_request = _pending(reset_request)
    if reset_request.requested_by_id == acting_user.pk:
        raise StaffChangeRefused("You asked for this reset, so another administrator must approve it.")
    user = reset_request.user
    if user.pk == acting_user.pk:
        raise StaffChangeRefused("Another administrator must approve a reset of your own account.")
    if not user.is_active:
        raise StaffChangeRefused(f"The account {user.username} is disabled: cancel the request instead.")
    reset_request.status = MfaResetRequest.Status.APPROVED
    reset_request.decided_by = acting_user
    reset_request.decided_at = timezone.now()
    reset_request.save(update_fields=["status", "decided_by", "decided_at"])
    events.auth_event(
        kind=events.MFA_RESET_APPROVED,
        user=user,
        actor=acting_user,
        detail={"request": reset_request.pk, "requested_by": reset_request.requested_by_id},
    )
    return services.mfa_reset_in_transaction(user=user, acting_user=acting_user)


@transaction.atomic(durable=True)
def mfa_reset_cancel(*, reset_request: MfaResetRequest, acting_user: User) -> None:
    """Withdraw a reset that is waiting (any administrator, the one who asked included)."""
    _must_administer(acting_user)
    reset_request = _pending(reset_request)
    reset_request.status = MfaResetRequest.Status.CANCELLED
    reset_request.decided_by = acting_user
    reset_request.decided_at = timezone.now()
    reset_request.save(update_fields=["status", "decided_by", "decided_at"])
    events.auth_event(
        kind=events.MFA_RESET_CANCELLED,
        user=reset_request.user,
        actor=acting_user,
        detail={"request": reset_request.pk},
    )

"""Reads about staff accounts for administrators: who has which access. Only administrators' views call these."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Invitation, MfaResetRequest, SealedTOTPDevice, User
from directory.models import LocalAuthority, NationalBody, Partnership


def staff_list(*, role: str = "") -> QuerySet[User]:
    """Every staff account (or those with ``role``), with its authorities and whether it has a confirmed
    authenticator and a reset waiting: a fixed number of queries, however many accounts there are."""
    users = (
        User.objects.order_by("username")
        .annotate(
            mfa_enrolled=Exists(SealedTOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
            mfa_reset_pending=Exists(
                MfaResetRequest.objects.filter(user=OuterRef("pk"), status=MfaResetRequest.Status.PENDING)
            ),
        )
        .select_related("partnership")
        .prefetch_related(Prefetch("authorities", queryset=LocalAuthority.objects.order_by("name")))
    )
    return users.filter(role=role) if role else users


def staff_member(*, user_id: int) -> User | None:
    """One account as staff_list shows it, or None."""
    found: User | None = staff_list().filter(pk=user_id).first()
    return found


def mfa_resets_pending() -> QuerySet[MfaResetRequest]:
    """Requests (MFA resets, accounts to enable again) waiting for a second administrator, oldest first."""
    return (
        MfaResetRequest.objects.filter(status=MfaResetRequest.Status.PENDING)
        .select_related("user", "requested_by")
        .order_by("requested_at")
    )


def mfa_reset_pending_for(*, user: User) -> MfaResetRequest | None:
    found: MfaResetRequest | None = mfa_resets_pending().filter(user=user).first()
    return found


def approvals_waiting_for(*, user: User) -> QuerySet[MfaResetRequest]:
    """The waiting requests ``user`` may approve: neither asked by them nor about their own account."""
    return mfa_resets_pending().exclude(Q(requested_by=user) | Q(user=user))


def invitation_latest(*, user: User) -> Invitation | None:
    """The account's newest invitation (what the account page says about it), with who made and revoked it."""
    found: Invitation | None = (
        Invitation.objects.filter(user=user)
        .select_related("created_by", "revoked_by")
        .order_by("-created_at", "-pk")
        .first()
    )
    return found


def invitation_waiting(*, user: User) -> Invitation | None:
    """The account's invitation whose link still works, if any."""
    found: Invitation | None = (
        Invitation.objects.filter(
            user=user, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    return found


def partnerships() -> list[Partnership]:
    """The safeguarding partnerships administrators have set up, one of which a partnership member belongs to."""
    return list(Partnership.objects.order_by("name"))


def partnership_list() -> QuerySet[Partnership]:
    """Every safeguarding partnership with its authorities and how many active members it has: two queries."""
    return (
        Partnership.objects.order_by("name")
        .annotate(active_members=Count("members", filter=Q(members__is_active=True)))
        .prefetch_related(Prefetch("authorities", queryset=LocalAuthority.objects.order_by("name")))
    )


def national_body_list() -> list[NationalBody]:
    """Every national body with how many referrals name it, in one query: the review team, the regulators and
    the review panel by name, then the police forces by name."""
    bodies = NationalBody.objects.annotate(referral_count=Count("referrals")).order_by("name")
    return sorted(bodies, key=lambda body: (body.kind == NationalBody.Kind.POLICE_FORCE, body.name))

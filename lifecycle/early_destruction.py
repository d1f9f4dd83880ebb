"""Destroying a case before its time, by two supervisors: one asks, with a reason from a short list (a case
filed in error, one holding a child's details that should not be here), and another approves or refuses. The
one who asked can never approve their own request (the database refuses it too), and may withdraw it.
Approval crypto-shreds the case's family at once (lifecycle.shredding). The request and each decision are
audit events naming both supervisors and the reason.

Only a closed case can be destroyed early: its outcome is recorded first, so the statistics stay true. A case
on legal hold, or sharing its content with one, cannot be."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from lifecycle.models import EarlyDestruction
from lifecycle.shredding import CaseHeld, Destroyed, family_of, shred_family
from triage import workflow
from triage.events import case_event
from triage.models import Case, LegalHold

S = EarlyDestruction.Status


class DestructionRefused(Exception):
    """The request or decision cannot be made now. The message says why, for the supervisor."""


def family_cases(case: Case) -> list[Case]:
    """The case and every case sharing its data key (a retaliation report filed through a check-in and its
    original): destroyed together, or not at all."""
    return list(
        Case.objects.filter(report__in=[report.pk for report in family_of(workflow.report_of(case))])
        .select_related("report")
        .order_by("pk")
    )


def destroyable_problem(case: Case) -> str:
    """Why ``case`` cannot be destroyed early now ("" when it can)."""
    if case.report is None:
        return "A national review case opened from a pattern alert is destroyed by the retention schedule only."
    destroyed = case.report.content_destroyed_on
    if destroyed is not None:
        return f"This case's content was already destroyed on {destroyed.day} {destroyed:%B %Y}."
    if case.status != Case.Status.CLOSED:
        return "Only a closed case can be destroyed early: close it first, with the outcome that fits."
    family = family_cases(case)
    held = [
        member.case_number
        for member in family
        if LegalHold.objects.filter(case=member, released_on__isnull=True).exists()
    ]
    if case.case_number in held:
        return "This case is on legal hold: it cannot be destroyed while the hold lasts."
    if held:
        return (
            f"Case {', '.join(held)} shares this case's content and is on legal hold: neither can be destroyed "
            "while the hold lasts."
        )
    still_open = [member.case_number for member in family if member.status != Case.Status.CLOSED]
    if still_open:
        return (
            f"Case {', '.join(still_open)} shares this case's content and is still open: close it first, or "
            "neither can be destroyed."
        )
    return ""


def _locked_case(case_id: int) -> Case:
    return Case.objects.select_for_update(of=("self",)).select_related("report").get(pk=case_id)


@transaction.atomic(durable=True)
def early_destruction_request(*, case: Case, reason: str, acting_user: User) -> EarlyDestruction:
    """Ask for ``case`` to be destroyed early; nothing is destroyed until another supervisor approves."""
    policy.require(acting_user, Permission.DESTROY_EARLY)
    if reason not in EarlyDestruction.Reason.values:
        raise DestructionRefused("Choose why the case should be destroyed early.")
    case = _locked_case(case.pk)
    problem = destroyable_problem(case)
    if problem:
        raise DestructionRefused(problem)
    waiting = "A request to destroy this case early is already waiting for a second supervisor."
    if EarlyDestruction.objects.filter(case=case, status=S.PENDING).exists():
        raise DestructionRefused(waiting)
    try:
        with transaction.atomic():
            request = EarlyDestruction.objects.create(
                case=case, reason=reason, requested_by=acting_user, requested_at=timezone.now()
            )
    except IntegrityError as clash:  # another supervisor asked at the same moment
        raise DestructionRefused(waiting) from clash
    case_event(
        kind="early_destruction_requested",
        case=case,
        actor=acting_user,
        detail={"request_id": request.pk, "reason": reason, "requested_by": acting_user.username},
    )
    return request


def _pending(request: EarlyDestruction) -> EarlyDestruction:
    locked = (
        EarlyDestruction.objects.select_for_update(of=("self",))
        .select_related("requested_by", "case__report")
        .get(pk=request.pk)
    )
    if locked.status != S.PENDING:
        raise DestructionRefused(f"This request is no longer waiting: it was {locked.get_status_display().lower()}.")
    return locked


def _decided(request: EarlyDestruction, status: str, acting_user: User) -> None:
    request.status = status
    request.decided_by = acting_user
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])


@transaction.atomic(durable=True)
def early_destruction_approve(*, request: EarlyDestruction, acting_user: User) -> Destroyed:
    """The second supervisor's approval: the case's content, and its family's, is destroyed now."""
    policy.require(acting_user, Permission.DESTROY_EARLY)
    request = _pending(request)
    if request.requested_by_id == acting_user.pk:
        raise DestructionRefused("You asked for this case to be destroyed, so another supervisor must approve it.")
    case = _locked_case(request.case_id)
    problem = destroyable_problem(case)
    if problem:
        raise DestructionRefused(problem)
    requester = request.requested_by
    _decided(request, S.APPROVED, acting_user)
    case_event(
        kind="early_destruction_approved",
        case=case,
        actor=acting_user,
        detail={
            "request_id": request.pk,
            "reason": request.reason,
            "requested_by": requester.username,
            "approved_by": acting_user.username,
        },
    )
    try:
        return shred_family(
            workflow.report_of(case),
            why="early",
            acting_users=(requester, acting_user),
            detail={"reason": request.reason, "request_id": request.pk},
        )
    except CaseHeld as held:  # a case of its family was put on hold meanwhile: nothing is decided
        raise DestructionRefused(
            "A case sharing this case's content was put on legal hold: it cannot be destroyed."
        ) from held


@transaction.atomic(durable=True)
def early_destruction_refuse(*, request: EarlyDestruction, acting_user: User) -> EarlyDestruction:
    """Another supervisor refuses: the case stays, on its retention schedule."""
    policy.require(acting_user, Permission.DESTROY_EARLY)
    request = _pending(request)
    if request.requested_by_id == acting_user.pk:
        raise DestructionRefused("You asked for this case to be destroyed: withdraw the request instead.")
    _decided(request, S.REFUSED, acting_user)
    case_event(
        kind="early_destruction_refused",
        case=request.case,
        actor=acting_user,
        detail={
            "request_id": request.pk,
            "reason": request.reason,
            "requested_by": request.requested_by.username,
            "refused_by": acting_user.username,
        },
    )
    return request


@transaction.atomic(durable=True)
def early_destruction_withdraw(*, request: EarlyDestruction, acting_user: User) -> EarlyDestruction:
    """The supervisor who asked withdraws their request."""
    policy.require(acting_user, Permission.DESTROY_EARLY)
    request = _pending(request)
    if request.requested_by_id != acting_user.pk:
        raise DestructionRefused("Only the supervisor who asked can withdraw the request: refuse it instead.")
    _decided(request, S.WITHDRAWN, acting_user)
    case_event(
        kind="early_destruction_withdrawn",
        case=request.case,
        actor=acting_user,
        detail={"request_id": request.pk, "reason": request.reason, "requested_by": acting_user.username},
    )
    return request

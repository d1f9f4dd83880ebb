"""The yearly review of legal holds, from the list of held cases: keep a hold for another year, or release it.
Supervisors and administrators alike (accounts.policy LEGAL_HOLD); placing a hold is a case action
(triage.case_actions.case_hold_place), taken from the case page or the list of cases due for destruction."""

from __future__ import annotations

from django.db import transaction

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from triage import retention
from triage.models import Case, LegalHold


class HoldRefused(Exception):
    """The hold cannot be reviewed or released now. The message says why."""


RELEASED = "This hold has already been released."


def _active(hold_id: int) -> LegalHold:
    """The hold, locked after its case (the order placing and releasing lock them in), if still active."""
    case_id = LegalHold.objects.filter(pk=hold_id).values_list("case_id", flat=True).first()
    if case_id is None:
        raise HoldRefused(RELEASED)
    list(Case.objects.select_for_update(of=("self",)).filter(pk=case_id).values_list("pk", flat=True))
    hold = LegalHold.objects.select_for_update(of=("self",)).select_related("case").get(pk=hold_id)
    if hold.released_on is not None:
        raise HoldRefused(RELEASED)
    return hold


@transaction.atomic(durable=True)
def legal_hold_keep(*, hold_id: int, acting_user: User) -> LegalHold:
    """The review decided the case must still be kept: its next review moves on a year (an audit event)."""
    policy.require(acting_user, Permission.LEGAL_HOLD)
    return retention.hold_review(hold=_active(hold_id), acting_user=acting_user)


@transaction.atomic(durable=True)
def legal_hold_release(*, hold_id: int, acting_user: User) -> LegalHold:
    """Release the hold (an audit event): the retention schedule applies to its case again."""
    policy.require(acting_user, Permission.LEGAL_HOLD)
    hold = _active(hold_id)
    released = retention.hold_release(case=hold.case, acting_user=acting_user)
    if released is None:
        raise HoldRefused(RELEASED)
    return released

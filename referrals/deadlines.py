"""A referral's clocks: acknowledgement and outcome, each with its second rung for national oversight.
They are triage.deadlines' Clock on the referral's own row and status, so "done", "overdue" and "due soon"
mean what they mean for every other clock. Their due dates are set when the referral is made."""

from __future__ import annotations

from datetime import datetime

from referrals.models import Referral
from triage import deadlines
from triage.deadlines import Clock, Deadline, case_deadlines

R = Referral.Status
AWAITING = frozenset({R.AWAITING_ACKNOWLEDGEMENT})
OPEN = frozenset(Referral.OPEN)

ACK = Clock("authority_acknowledgement", "Authority acknowledgement", "ack_due_at", AWAITING, "acknowledged_at")
ACK_ESCALATION = Clock(
    "authority_acknowledgement_escalation",
    "Authority acknowledgement (national oversight)",
    "ack_escalate_at",
    AWAITING,
    "acknowledged_at",
)
OUTCOME = Clock("authority_outcome", "Authority outcome", "outcome_due_at", OPEN, "outcome_at")
OUTCOME_ESCALATION = Clock(
    "authority_outcome_escalation",
    "Authority outcome (national oversight)",
    "outcome_escalate_at",
    OPEN,
    "outcome_at",
)
# The two an authority and the case page show.
REFERRAL_CLOCKS = (ACK, OUTCOME)


def clocks_start(referral: Referral, now: datetime) -> None:
    referral.ack_due_at = deadlines.authority_ack_due(now)
    referral.ack_escalate_at = deadlines.authority_ack_escalate(now)
    referral.outcome_due_at = deadlines.authority_outcome_due(now)
    referral.outcome_escalate_at = deadlines.authority_outcome_escalate(now)


def referral_deadlines(referral: Referral, now: datetime) -> list[Deadline]:
    """A referral's clocks; none for one passed on outside the service (nobody here answers it)."""
    if referral.status == Referral.Status.SENT:
        return []
    return case_deadlines(referral, now, REFERRAL_CLOCKS)

"""A referral's clocks: acknowledgement and outcome, each with its second rung for national oversight.
They are triage.deadlines' Clock on the referral's own row and status, so "done", "overdue" and "due soon"
mean what they mean for every other clock. Their due dates are set when the referral is made."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from referrals.models import Referral
from triage import deadlines
from triage.deadlines import QUESTION_ANSWER, Clock, Deadline, case_deadlines, question_deadline

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
# The same clocks and a question's, as the case page names them for the independent review team's referral.
REVIEW_CLOCKS = (replace(ACK, label="Review team acknowledgement"), replace(OUTCOME, label="Findings"))
REVIEW_QUESTION_ANSWER = replace(QUESTION_ANSWER, label="Answer to the review team's question")


def clocks_start(referral: Referral, now: datetime) -> None:
    referral.ack_due_at = deadlines.authority_ack_due(now)
    referral.ack_escalate_at = deadlines.authority_ack_escalate(now)
    referral.outcome_due_at = deadlines.authority_outcome_due(now)
    referral.outcome_escalate_at = deadlines.authority_outcome_escalate(now)


def referral_deadlines(referral: Referral, now: datetime) -> list[Deadline]:
    """A referral's clocks; none for one passed on outside the service (nobody here answers it)."""
    if referral.status == Referral.Status.SENT:
        return []
    return case_deadlines(referral, now, REVIEW_CLOCKS if referral.to_review else REFERRAL_CLOCKS)


def referral_question_deadline(referral: Referral, question: Any, now: datetime) -> Deadline:
    """The clock of one of the referral's questions, named for the review team on its referral."""
    return question_deadline(question, now, REVIEW_QUESTION_ANSWER if referral.to_review else QUESTION_ANSWER)

"""The referrals' sweeper: each referral's acknowledgement and outcome clocks, each with its ladder (the
supervisors first, then national oversight and the partnership of the referral's area), and the
authorities' questions the helpline has not answered in time. Run from triage's deadline sweeper
(triage.escalations.deadlines_sweep, through triage/ports.py). Each step is taken once per referral."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from referrals import deadlines
from referrals.models import AuthorityAction, Referral, ReferralEscalation
from triage.deadlines import Clock
from triage.events import case_event
from triage.models import Case
from triage.notifications import oversight_alert, supervisors_alert


@dataclass(frozen=True)
class Rule:
    step: str
    template: str
    clock: Clock
    national: bool = False  # the second rung: national oversight and the partnership; marked escalated

    def due(self, now: datetime) -> QuerySet[Referral]:
        return Referral.objects.filter(self.clock.overdue_q(now))


S = ReferralEscalation.Step
RULES = [
    Rule(S.ACK_OVERDUE, "authority_ack_overdue", deadlines.ACK),
    Rule(S.ACK_OVERDUE_NATIONAL, "authority_ack_overdue_national", deadlines.ACK_ESCALATION, national=True),
    Rule(S.OUTCOME_OVERDUE, "authority_outcome_overdue", deadlines.OUTCOME),
    Rule(S.OUTCOME_OVERDUE_NATIONAL, "authority_outcome_overdue_national", deadlines.OUTCOME_ESCALATION, national=True),
]


def referral_escalation_take(*, referral: Referral, rule: Rule, now: datetime) -> ReferralEscalation | None:
    """Take one step for one referral, once: the unique constraint decides between racing sweepers. The
    alerts name the referral (their occasion), so two referrals of one case are each alerted."""
    deadline = getattr(referral, rule.clock.due_field)
    case = referral.case
    detail: dict[str, object] = {
        "step": rule.step,
        "deadline": deadline.isoformat(),
        "missed_by_seconds": int((now - deadline).total_seconds()),
        "referral_id": referral.pk,
        "authority": referral.recipient_code,
    }
    occasion = f"referral-{referral.pk}"
    try:
        with transaction.atomic(durable=True):
            escalation = ReferralEscalation.objects.create(
                referral=referral, step=rule.step, deadline=deadline, created_at=now
            )
            case_event(kind="escalated", case=case, detail=detail)
            if rule.national:
                Referral.objects.filter(pk=referral.pk).update(escalated=True)
                Case.objects.filter(pk=case.pk).update(escalated=True)
                oversight_alert(case=case, template=rule.template, authority=referral.authority, occasion=occasion)
            else:
                supervisors_alert(case=case, template=rule.template, occasion=occasion)
    except IntegrityError:
        return None
    return escalation


def questions_overdue(*, now: datetime, limit: int = 500) -> int:
    """An authority's question not answered in 2 working days: the supervisors are alerted, once."""
    taken = 0
    overdue = AuthorityAction.objects.filter(
        kind=AuthorityAction.Kind.QUESTION, answered_at__isnull=True, answer_due_at__lt=now, overdue_alerted=False
    ).select_related("case")
    for question in overdue.order_by("answer_due_at", "id")[:limit]:
        with transaction.atomic(durable=True):
            if not AuthorityAction.objects.filter(pk=question.pk, overdue_alerted=False).update(overdue_alerted=True):
                continue  # another sweeper took it
            due = question.answer_due_at
            assert due is not None  # noqa: S101 - filtered on answer_due_at__lt
            case_event(
                kind="question_overdue",
                case=question.case,
                detail={"question_id": question.pk, "deadline": due.isoformat(), "referral_id": question.referral_id},
            )
            supervisors_alert(
                case=question.case, template="authority_question_overdue", occasion=f"question-{question.pk}"
            )
        taken += 1
    return taken


def referrals_sweep(now: datetime, limit: int = 500) -> int:
    taken = questions_overdue(now=now, limit=limit)
    for rule in RULES:
        referrals = (
            rule.due(now)
            .exclude(escalations__step=rule.step)
            .select_related("case__report", "authority", "body")
            .order_by("id")[:limit]
        )
        for referral in referrals:
            if referral_escalation_take(referral=referral, rule=rule, now=now):
                taken += 1
    return taken

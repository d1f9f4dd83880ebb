"""The deadline sweeper: finds cases whose clocks have run out and takes each escalation step once.

Deadlines live on the case; nothing waits in Celery. Each rule is a clock from triage.deadlines (whose
overdue query it uses), a moment to check it at, and a template for the alert.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.timetrail import day_start, reporter_paced
from reports.notifications import checkin_nudges
from triage import deadlines
from triage.deadlines import Clock
from triage.events import case_event
from triage.models import AuthorityAction, Case, Escalation
from triage.notifications import oversight_alert, supervisors_alert

FEEDBACK_WARNING = timedelta(days=14)


@dataclass(frozen=True)
class Rule:
    step: str
    template: str
    clock: Clock
    national: bool = False  # the second rung: national oversight and the partnership, case marked escalated
    # Check the clock this long before "now" would: a warning ahead of the deadline.
    ahead: timedelta = timedelta(0)

    @property
    def deadline_field(self) -> str:
        return self.clock.due_field

    def due(self, now: datetime) -> QuerySet[Case]:
        return Case.objects.filter(self.clock.overdue_q(now + self.ahead))


RULES = [
    Rule(step=Escalation.Step.TRIAGE_OVERDUE, template="triage_overdue", clock=deadlines.TRIAGE),
    Rule(step=Escalation.Step.ACK_OVERDUE, template="authority_ack_overdue", clock=deadlines.AUTHORITY_ACK),
    Rule(
        step=Escalation.Step.ACK_OVERDUE_NATIONAL,
        template="authority_ack_overdue_national",
        clock=deadlines.AUTHORITY_ACK_ESCALATION,
        national=True,
    ),
    Rule(step=Escalation.Step.OUTCOME_OVERDUE, template="authority_outcome_overdue", clock=deadlines.AUTHORITY_OUTCOME),
    Rule(
        step=Escalation.Step.OUTCOME_OVERDUE_NATIONAL,
        template="authority_outcome_overdue_national",
        clock=deadlines.AUTHORITY_OUTCOME_ESCALATION,
        national=True,
    ),
    Rule(
        step=Escalation.Step.FEEDBACK_DUE_SOON,
        template="feedback_due_soon",
        clock=deadlines.REPORTER_FEEDBACK,
        ahead=FEEDBACK_WARNING,
    ),
    Rule(step=Escalation.Step.FEEDBACK_OVERDUE, template="feedback_overdue", clock=deadlines.REPORTER_FEEDBACK),
]


def escalation_take(*, case: Case, rule: Rule, now: datetime) -> Escalation | None:
    """Take one step for one case, once: the unique constraint decides between racing sweepers.

    A missed triage deadline is counted from when the report was sent, so what this records of it keeps
    the day only (core.timetrail): the alert's time would say when the reporter was here."""
    deadline = getattr(case, rule.deadline_field)
    triage = rule.step == Escalation.Step.TRIAGE_OVERDUE
    detail: dict[str, object] = {"step": rule.step, "deadline": deadline.isoformat()}
    if triage:
        detail["deadline"] = day_start(deadline).isoformat()
    else:
        detail["missed_by_seconds"] = int((now - deadline).total_seconds())
    try:
        with transaction.atomic(durable=True), reporter_paced() if triage else nullcontext():
            escalation = Escalation.objects.create(
                case=case, step=rule.step, deadline=deadline, created_at=day_start(now) if triage else now
            )
            case_event(kind="escalated", case=case, detail=detail)
            if rule.national:
                Case.objects.filter(pk=case.pk).update(escalated=True)
                oversight_alert(case=case, template=rule.template)
            else:
                supervisors_alert(case=case, template=rule.template)
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
                detail={"question_id": question.pk, "deadline": due.isoformat()},
            )
            supervisors_alert(
                case=question.case, template="authority_question_overdue", occasion=f"question-{question.pk}"
            )
        taken += 1
    return taken


def deadlines_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    now = now or timezone.now()
    # The reporters' check-in nudges are reports' own (sent through notify); they ride on this sweep.
    taken = checkin_nudges() + questions_overdue(now=now, limit=limit)
    for rule in RULES:
        cases = rule.due(now).exclude(escalations__step=rule.step).select_related("report").order_by("id")[:limit]
        for case in cases:
            if escalation_take(case=case, rule=rule, now=now):
                taken += 1
    return taken

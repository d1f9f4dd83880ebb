"""The deadline sweeper: finds cases whose clocks have run out and takes each escalation step once.

Deadlines live on the case; nothing waits in Celery. Each rule is a query for cases at that step and a
template for the alert.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from triage.audit import event_record
from triage.models import Case, Escalation
from triage.services import oversight_alert, supervisors_alert

OPEN_TRIAGE = [Case.Status.NEW, Case.Status.IN_TRIAGE]
FEEDBACK_WARNING = timedelta(days=14)


@dataclass(frozen=True)
class Rule:
    step: str
    template: str
    due: Callable[[datetime], QuerySet[Case]]
    deadline_field: str
    national: bool = False  # the second rung: national oversight and the partnership, case marked escalated


def awaiting_ack(now: datetime, field: str) -> QuerySet[Case]:
    return Case.objects.filter(
        status=Case.Status.REFERRED, authority_acknowledged_at__isnull=True, **{f"{field}__lt": now}
    )


def awaiting_outcome(now: datetime, field: str) -> QuerySet[Case]:
    return Case.objects.filter(status=Case.Status.REFERRED, authority_outcome_at__isnull=True, **{f"{field}__lt": now})


RULES = [
    Rule(
        step=Escalation.Step.TRIAGE_OVERDUE,
        template="triage_overdue",
        due=lambda now: Case.objects.filter(status__in=OPEN_TRIAGE, triage_due_at__lt=now),
        deadline_field="triage_due_at",
    ),
    Rule(
        step=Escalation.Step.ACK_OVERDUE,
        template="authority_ack_overdue",
        due=lambda now: awaiting_ack(now, "authority_ack_due_at"),
        deadline_field="authority_ack_due_at",
    ),
    Rule(
        step=Escalation.Step.ACK_OVERDUE_NATIONAL,
        template="authority_ack_overdue_national",
        due=lambda now: awaiting_ack(now, "authority_ack_escalate_at"),
        deadline_field="authority_ack_escalate_at",
        national=True,
    ),
    Rule(
        step=Escalation.Step.OUTCOME_OVERDUE,
        template="authority_outcome_overdue",
        due=lambda now: awaiting_outcome(now, "authority_outcome_due_at"),
        deadline_field="authority_outcome_due_at",
    ),
    Rule(
        step=Escalation.Step.OUTCOME_OVERDUE_NATIONAL,
        template="authority_outcome_overdue_national",
        due=lambda now: awaiting_outcome(now, "authority_outcome_escalate_at"),
        deadline_field="authority_outcome_escalate_at",
        national=True,
    ),
    Rule(
        step=Escalation.Step.FEEDBACK_DUE_SOON,
        template="feedback_due_soon",
        due=lambda now: Case.objects.filter(
            ~Q(status=Case.Status.CLOSED), reporter_feedback_due_at__lt=now + FEEDBACK_WARNING
        ),
        deadline_field="reporter_feedback_due_at",
    ),
    Rule(
        step=Escalation.Step.FEEDBACK_OVERDUE,
        template="feedback_overdue",
        due=lambda now: Case.objects.filter(~Q(status=Case.Status.CLOSED), reporter_feedback_due_at__lt=now),
        deadline_field="reporter_feedback_due_at",
    ),
]


def escalation_take(*, case: Case, rule: Rule, now: datetime) -> Escalation | None:
    """Take one step for one case, once: the unique constraint decides between racing sweepers."""
    deadline = getattr(case, rule.deadline_field)
    try:
        with transaction.atomic():
            escalation = Escalation.objects.create(case=case, step=rule.step, deadline=deadline, created_at=now)
            event_record(
                kind="escalated",
                case=case,
                detail={
                    "step": rule.step,
                    "deadline": deadline.isoformat(),
                    "missed_by_seconds": int((now - deadline).total_seconds()),
                },
            )
            if rule.national:
                Case.objects.filter(pk=case.pk).update(escalated=True)
                oversight_alert(case=case, template=rule.template)
            else:
                supervisors_alert(case=case, template=rule.template)
    except IntegrityError:
        return None
    return escalation


def checkin_nudges() -> int:
    """A content-free "we would like to check in" email to reporters who gave an address."""
    from reports.checkins import checkins_to_nudge
    from reports.models import RetaliationCheckin
    from triage.actions import email_queue

    sent = 0
    for checkin in checkins_to_nudge():
        case = Case.objects.filter(report=checkin.report).first()
        with transaction.atomic():
            RetaliationCheckin.objects.filter(pk=checkin.pk).update(nudged=True)
            if case is not None:
                email_queue(
                    case=case, recipient="reporter", template="reporter_checkin", occasion=f"checkin-{checkin.pk}"
                )
                sent += 1
    return sent


def deadlines_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    now = now or timezone.now()
    taken = checkin_nudges()
    for rule in RULES:
        cases = rule.due(now).exclude(escalations__step=rule.step).select_related("report").order_by("id")[:limit]
        for case in cases:
            if escalation_take(case=case, rule=rule, now=now):
                taken += 1
    return taken

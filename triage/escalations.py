"""The deadline sweeper: finds cases whose clocks have run out and takes each escalation step once (the
helpline's clocks here; each referral's through triage.ports, from referrals.escalations).

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
from triage.mailbox import unread_nudges
from triage.models import Case, Escalation
from triage.notifications import supervisors_alert
from triage.ports import referral_port

FEEDBACK_WARNING = timedelta(days=14)


@dataclass(frozen=True)
class Rule:
    step: str
    template: str
    clock: Clock
    # Check the clock this long before "now" would: a warning ahead of the deadline.
    ahead: timedelta = timedelta(0)

    @property
    def deadline_field(self) -> str:
        return self.clock.due_field

    def due(self, now: datetime) -> QuerySet[Case]:
        cases = Case.objects.filter(self.clock.overdue_q(now + self.ahead))
        if self.clock is deadlines.REPORTER_FEEDBACK:
            # A national review case has no reporter to give feedback to.
            cases = cases.exclude(kind=Case.Kind.PATTERN_REVIEW)
        return cases


RULES = [
    Rule(step=Escalation.Step.TRIAGE_OVERDUE, template="triage_overdue", clock=deadlines.TRIAGE),
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
            supervisors_alert(case=case, template=rule.template)
    except IntegrityError:
        return None
    return escalation


def deadlines_sweep(*, now: datetime | None = None, limit: int = 500) -> int:
    now = now or timezone.now()
    # The reporters' check-in nudges are reports' own (sent through notify), the unread-message nudges the
    # mailbox's (triage.mailbox) and the referrals' clocks (acknowledgement, outcome, the authority's
    # questions) the referrals app's; all ride on this sweep.
    taken = checkin_nudges() + unread_nudges(now=now, limit=limit) + referral_port().sweep(now, limit)
    for rule in RULES:
        cases = rule.due(now).exclude(escalations__step=rule.step).select_related("report").order_by("id")[:limit]
        for case in cases:
            if escalation_take(case=case, rule=rule, now=now):
                taken += 1
    return taken

"""The referrals' overdue clocks (core.metrics), added to triage's ``clocks_overdue`` gauge: an authority's
acknowledgement and outcome, and the helpline's answers to an authority's questions. Staff start and stop these
clocks (a referral is made by the helpline, a question asked by an authority), never a reporter, so they count
live (docs/adr/0008-metrics-and-the-time-trail.md)."""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone

from core.metrics import Sample, register_gauge
from referrals.deadlines import ACK, OUTCOME
from referrals.models import AuthorityAction, Referral
from triage.deadlines import QUESTION_ANSWER
from triage.metrics import OVERDUE, OVERDUE_HELP


def referral_clocks_overdue() -> Iterator[Sample]:
    now = timezone.now()
    referrals = Referral.objects.exclude(status=Referral.Status.SENT)
    for clock in (ACK, OUTCOME):
        yield (clock.key,), referrals.filter(clock.overdue_q(now)).count()
    questions = AuthorityAction.objects.filter(
        kind=AuthorityAction.Kind.QUESTION, answered_at__isnull=True, answer_due_at__lt=now
    )
    yield (QUESTION_ANSWER.key,), questions.count()


def register_referral_gauges() -> None:
    register_gauge(OVERDUE, OVERDUE_HELP, ("kind",), referral_clocks_overdue)

"""Every clock a case runs, defined once: when it is due, when it is done, and when it is overdue.

The due dates are set on the case when its clock starts (routing); a referral's on the referral when it is
made (referrals.deadlines defines its clocks with the Clock here). Whether a clock is done,
overdue or due soon is derived here and only here, both for one case (``deadline_state``) and as a query
(``overdue_q``), so every page, the API and the escalation sweeper agree.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import Any

from django.db.models import Q

from core.calendar import add_months, working_days_after
from core.timetrail import day_end, day_start
from reports.models import URGENT_TRIAGE
from triage.models import Case
from triage.workflow import IN_TRIAGE, OPEN

STANDARD_TRIAGE_WORKING_DAYS = 1
AUTHORITY_ACK_WORKING_DAYS = 1
AUTHORITY_OUTCOME_WORKING_DAYS = 45
# The ladder's second rung: national oversight and the partnership hear of it this much later.
AUTHORITY_ACK_ESCALATE_WORKING_DAYS = 3
AUTHORITY_OUTCOME_ESCALATE_WORKING_DAYS = 47
REPORTER_FEEDBACK_MONTHS = 3
# An authority's question to the helpline is answered within this.
QUESTION_ANSWER_WORKING_DAYS = 2
# A clock within this of its deadline is "due soon".
DUE_SOON = timedelta(hours=24)


def triage_due(submitted_at: datetime, *, urgent: bool) -> datetime:
    """An urgent clock runs from ``submitted_at`` (to the second: the urgent clock is the one precise time
    a report keeps). Otherwise the end of the next working day after the day it was sent: reports keep
    the day only (core.timetrail)."""
    if urgent:
        return submitted_at + URGENT_TRIAGE
    return day_end(working_days_after(day_start(submitted_at), STANDARD_TRIAGE_WORKING_DAYS))


def reporter_feedback_due(submitted_at: datetime) -> datetime:
    """The end of the day three calendar months after the report was sent."""
    return day_end(add_months(submitted_at, REPORTER_FEEDBACK_MONTHS))


def question_answer_due(asked_at: datetime) -> datetime:
    return working_days_after(asked_at, QUESTION_ANSWER_WORKING_DAYS)


def authority_ack_due(referred_at: datetime) -> datetime:
    return working_days_after(referred_at, AUTHORITY_ACK_WORKING_DAYS)


def authority_outcome_due(referred_at: datetime) -> datetime:
    return working_days_after(referred_at, AUTHORITY_OUTCOME_WORKING_DAYS)


def authority_ack_escalate(referred_at: datetime) -> datetime:
    return working_days_after(referred_at, AUTHORITY_ACK_ESCALATE_WORKING_DAYS)


def authority_outcome_escalate(referred_at: datetime) -> datetime:
    return working_days_after(referred_at, AUTHORITY_OUTCOME_ESCALATE_WORKING_DAYS)


@dataclass(frozen=True)
class Clock:
    """One deadline of a case (or of a referral, by the referral's status). It runs while the row is in one
    of ``running``; it is met once the row leaves them or, for a clock with ``met_field``, once that field
    is set."""

    key: str
    label: str
    due_field: str
    running: frozenset[str]
    met_field: str | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """What a row needs for deadline_state (for .values() queries)."""
        return ("status", self.due_field, *((self.met_field,) if self.met_field else ()))

    def overdue_q(self, now: datetime) -> Q:
        """Cases whose clock is still running and past its deadline at ``now``."""
        q = Q(status__in=self.running, **{f"{self.due_field}__lt": now})
        if self.met_field:
            q &= Q(**{f"{self.met_field}__isnull": True})
        return q


S = Case.Status
TRIAGE = Clock("triage", "Triage", "triage_due_at", IN_TRIAGE)
# Closing a case sends the reporter its feedback.
REPORTER_FEEDBACK = Clock("reporter_feedback", "Feedback to the reporter", "reporter_feedback_due_at", OPEN)
# One question's clock, on an AuthorityAction rather than the case (see question_deadline).
QUESTION_ASKED = "asked"
QUESTION_ANSWER = Clock(
    "question_answer", "Answer to the authority's question", "answer_due_at", frozenset({QUESTION_ASKED}), "answered_at"
)
# The helpline's clocks and the authority's, in the order pages list them.
HELPLINE_CLOCKS = (TRIAGE, REPORTER_FEEDBACK)
# A referral's own clocks are referrals.deadlines' (each referral shows them on the case page).
CASE_PAGE_CLOCKS = (TRIAGE, REPORTER_FEEDBACK)
NO_REPORTER_KIND = "pattern_review"  # triage.models.Case.Kind.PATTERN_REVIEW


def _value(case: Case | Mapping[str, Any], field: str) -> Any:
    return case.get(field) if isinstance(case, Mapping) else getattr(case, field)


def deadline_state(case: Case | Mapping[str, Any], clock: Clock, now: datetime) -> str:
    """ "done", "overdue", "due soon", "on time", "stopped" (the case left the clock's statuses without
    meeting it, e.g. closed before the authority acknowledged), or "" when the clock never started.
    ``case`` is a Case or a row of .values() with ``clock.fields``."""
    due = _value(case, clock.due_field)
    if not isinstance(due, datetime):
        return ""
    met = clock.met_field is not None and _value(case, clock.met_field) is not None
    if met:
        return "done"
    if _value(case, "status") not in clock.running:
        return "stopped" if clock.met_field else "done"
    if due < now:
        return "overdue"
    if due - now < DUE_SOON:
        return "due soon"
    return "on time"


def is_overdue(case: Case | Mapping[str, Any], now: datetime, clocks: tuple[Clock, ...] = HELPLINE_CLOCKS) -> bool:
    return any(deadline_state(case, clock, now) == "overdue" for clock in clocks)


def overdue_q(now: datetime, clocks: tuple[Clock, ...] = HELPLINE_CLOCKS) -> Q:
    """The query form of ``is_overdue``: any of the clocks running and past its deadline."""
    return reduce(operator.or_, (clock.overdue_q(now) for clock in clocks))


@dataclass(frozen=True)
class Deadline:
    clock: Clock
    due: datetime
    state: str


def case_deadlines(case: Any, now: datetime, clocks: tuple[Clock, ...] = CASE_PAGE_CLOCKS) -> list[Deadline]:
    """The started clocks of a case (or a referral) with their states, for its page and the API. A national
    review case opened from a pattern alert has no reporter, so no feedback to give one."""
    no_reporter = getattr(case, "kind", None) == NO_REPORTER_KIND
    return [
        Deadline(clock=clock, due=due, state=deadline_state(case, clock, now))
        for clock in clocks
        if isinstance(due := getattr(case, clock.due_field), datetime)
        and not (no_reporter and clock is REPORTER_FEEDBACK)
    ]


def question_deadline(question: Any, now: datetime, clock: Clock = QUESTION_ANSWER) -> Deadline:
    """The clock of one authority question (an AuthorityAction of kind "question"): 2 working days to
    answer it, done once the helpline has replied. ``clock`` is QUESTION_ANSWER, or the same named for
    its recipient."""
    row = {"status": QUESTION_ASKED, "answer_due_at": question.answer_due_at, "answered_at": question.answered_at}
    return Deadline(clock=clock, due=question.answer_due_at, state=deadline_state(row, clock, now))

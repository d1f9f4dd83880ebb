"""Case events in the audit trail: written with the case as subject, read back for its timeline."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.db.models import Q, QuerySet

from accounts.models import User
from audit.models import AuditEvent, Subject
from audit.trail import EventWritten, event_record, events_record
from core.timetrail import recorded_now
from triage.models import Case


def case_event(*, kind: str, case: Case, actor: User | None = None, detail: dict[str, object] | None = None) -> None:
    """Record one event about a case: codes and ids only, never what anybody wrote. Inside
    core.timetrail.reporter_paced() (what a reporter caused) it carries the day only."""
    event_record(kind=kind, subject=(Subject.CASE, case.pk), actor=actor, detail=detail, at=recorded_now())


def cases_event(
    *, kind: str, cases: Sequence[Case], actor: User | None = None, detail: Callable[[Case], dict[str, object]]
) -> None:
    """case_event for many cases at once (a bulk action's): one event each, ``detail(case)`` its detail,
    staged together so they join the audit chain in one batch (audit.trail.events_record)."""
    at = recorded_now()
    events_record(
        [
            EventWritten(kind=kind, subject=(Subject.CASE, case.pk), actor=actor, detail=detail(case), at=at)
            for case in cases
        ]
    )


def case_events(case: Case) -> QuerySet[AuditEvent]:
    """The events about this case (not about its report: see case_timeline_events)."""
    return AuditEvent.objects.filter(subject_kind=Subject.CASE, subject_id=case.pk)


def case_timeline_events(case: Case) -> QuerySet[AuditEvent]:
    """The case's events and its report's, e.g. the phone call that brought the report in (recorded
    before the case existed)."""
    if case.report_id is None:  # a national review case: no report, so only its own events
        return AuditEvent.objects.filter(subject_kind=Subject.CASE, subject_id=case.pk)
    return AuditEvent.objects.filter(
        Q(subject_kind=Subject.CASE, subject_id=case.pk) | Q(subject_kind=Subject.REPORT, subject_id=case.report_id)
    )

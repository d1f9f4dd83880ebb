"""Turning reports into cases: the route_report, reporter_replied and reporter_added_file kinds of outbox work.

All are idempotent: a report has one case, a message or a file is counted once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from core.identifiers import first_free, new_case_number
from core.timetrail import day_start, reporter_paced
from directory.models import LocalAuthority
from reports.models import Attachment, Message, Report
from triage import deadlines, flood, retention, routing
from triage.events import case_event, case_events
from triage.links import cases_link
from triage.models import Case, Queue
from triage.notifications import SUPERVISOR_FLAG, supervisors_alert
from triage.workflow import TRANSITIONS


def routing_facts(report: Report) -> routing.RoutingFacts:
    authority = report.local_authority
    return routing.RoutingFacts(
        child_at_immediate_risk=report.child_at_immediate_risk,
        concern_types=tuple(report.concern_types),
        authority_code=authority.gss_code if authority else None,
        about_authority_code=report.about_authority.gss_code if report.about_authority else None,
        region=authority.region if authority else None,
    )


@transaction.atomic
def report_route(*, report_id: int) -> Case:
    """Turn a report into a case in a queue, with its deadlines. Idempotent: a report has one case.
    Runs inside the outbox row's transaction (or its own when called alone). Everything it records is
    the reporter's doing, so it carries the day only (core.timetrail), but the urgent triage clock."""
    with reporter_paced():
        return _report_route(report_id=report_id)


def _report_route(*, report_id: int) -> Case:
    report = (
        Report.objects.select_for_update(of=("self",))
        .select_related("local_authority", "about_authority")
        .get(pk=report_id)
    )
    existing = Case.objects.filter(report=report).first()
    if existing is not None:
        return existing
    decision = routing.decide(routing_facts(report), regional_queues=frozenset(settings_regional_queues()))
    queue = queue_for(decision.queue_slug)
    authorities = {
        a.gss_code: a
        for a in LocalAuthority.objects.filter(
            gss_code__in=[c for c in (decision.refer_to_authority_code, decision.conflict_authority_code) if c]
        )
    }
    case = Case.objects.create(
        case_number=first_free(
            lambda: new_case_number(report.submitted_at.year),
            lambda number: Case.objects.filter(case_number=number).exists(),
        ),
        report=report,
        authority=authorities.get(decision.refer_to_authority_code or ""),
        conflict_authority=authorities.get(decision.conflict_authority_code or ""),
        independent_review=decision.independent_review,
        priority=Case.Priority.URGENT if decision.urgent else Case.Priority.STANDARD,
        queue=queue,
        created_at=day_start(),
        # The report's own urgent clock, started when it was sent (precise: the one clock that needs it).
        triage_due_at=report.urgent_triage_due_at
        if decision.urgent and report.urgent_triage_due_at
        else deadlines.triage_due(report.submitted_at, urgent=decision.urgent),
        reporter_feedback_due_at=deadlines.reporter_feedback_due(report.submitted_at),
    )
    report.status = Report.Status.ROUTED
    report.urgent_triage_due_at = None  # the case runs the clock now
    report.save(update_fields=["status", "urgent_triage_due_at"])
    # The helpline-sealed copy of the data key goes: it now sits under the open-cases key (core.keystore).
    retention.rehome(case)
    case_event(
        kind="case_routed",
        case=case,
        detail={
            "queue": queue.slug,
            "priority": case.priority,
            "authority": case.authority.gss_code if case.authority else None,
            "independent_review": case.independent_review,
        },
    )
    # One more arrival for the flood counter (Redis only, no id): during a flood the urgent alert waits for the
    # urgent digest instead of going at once (triage.flood).
    flooding = flood.arrival_noticed()
    if decision.urgent:
        supervisors_alert(case=case, template="urgent_case", digest=flood.urgent_digest_key(flooding))
    if decision.supervisor_flag:
        supervisors_alert(case=case, template=SUPERVISOR_FLAG)
    original_case = (
        Case.objects.filter(report_id=report.retaliation_of_id).first() if report.retaliation_of_id else None
    )
    if original_case is not None:
        cases_link(case=case, other=original_case, linked_by=None)
        case_event(kind="retaliation_reported", case=original_case, detail={"retaliation_case": case.case_number})
    return case


def report_route_handler(report_id: int) -> None:
    report_route(report_id=report_id)


def reporter_replied(message_id: int) -> None:
    """A reporter's message reaches their case: recorded on its timeline, and a case that was waiting
    for the reporter goes back to the helpline. A report not routed yet is routed first, so the message
    is never left off its case."""
    message = Message.objects.select_related("report").get(pk=message_id)
    case = _back_to_the_helpline(report_id=message.report_id)
    with reporter_paced():
        case_event(kind="reporter_message_received", case=case, detail={"message_id": message.pk, "kind": message.kind})


# A file the reporter added to their sent report without a message (reports.services.reporter_file_add).
REPORTER_FILE_ADDED = "reporter_file_added"


def reporter_added_file(attachment_id: int) -> None:
    """A file the reporter added without a message reaches their case as a message does: on its timeline
    (the day only, as everything a reporter causes; never the file's name), and a case that was waiting for
    the reporter goes back to the helpline. Counted once even if the work is done twice."""
    attachment = Attachment.objects.filter(pk=attachment_id, report__isnull=False).first()
    if attachment is None or attachment.report_id is None:
        return
    case = _back_to_the_helpline(report_id=attachment.report_id)
    if case_events(case).filter(kind=REPORTER_FILE_ADDED, detail__attachment_id=attachment.pk).exists():
        return
    with reporter_paced():
        case_event(kind=REPORTER_FILE_ADDED, case=case, detail={"attachment_id": attachment.pk})


def _back_to_the_helpline(*, report_id: int) -> Case:
    """The report's case, locked (routed first if it was not yet), moved back to the helpline if it was
    waiting for the reporter."""
    case = report_route(report_id=report_id)
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    transition = TRANSITIONS["reporter_replied"]
    if case.status in transition.allowed_from and transition.to:
        case.status = transition.to
        case.save(update_fields=["status"])
    # The reporter wrote or sent a file: a closed case's retention clock starts again.
    retention.rehome(case)
    return case


def queue_for(slug: str) -> Queue:
    if slug == "urgent":
        defaults = {"name": "Urgent", "kind": Queue.Kind.URGENT}
    elif slug == "national":
        defaults = {"name": "National triage", "kind": Queue.Kind.NATIONAL}
    else:
        region = next(
            (
                r
                for r in settings_regional_queues()
                if slug == routing.queue_slug(urgent=False, region=r, regional_queues=frozenset([r]))
            ),
            "",
        )
        defaults = {"name": f"{region} triage", "kind": Queue.Kind.REGIONAL, "region": region}
    queue, _ = Queue.objects.get_or_create(slug=slug, defaults=defaults)
    return queue


def settings_regional_queues() -> list[str]:
    return list(settings.REGIONAL_QUEUES)

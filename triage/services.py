"""Writes in triage: routing a report into a case, and the notifications that follow."""

from __future__ import annotations

import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import User
from reports.models import Report
from triage import notifications, routing
from triage.audit import event_record
from triage.models import Case, CaseLink, EmailRecord, LocalAuthority, OutboxMessage, Queue
from triage.outbox import outbox_add, outbox_claim, outbox_mark_processed

log = logging.getLogger(__name__)

CASE_NUMBER_ALPHABET = "ACDEFGHJKMNPQRTUVWXY234679"


def new_case_number(year: int) -> str:
    return f"{year}-" + "".join(secrets.choice(CASE_NUMBER_ALPHABET) for _ in range(6))


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
    """Turn a report into a case in a queue, with its deadlines. Idempotent: a report has one case."""
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
        case_number=_unique_case_number(report),
        report=report,
        authority=authorities.get(decision.refer_to_authority_code or ""),
        conflict_authority=authorities.get(decision.conflict_authority_code or ""),
        independent_review=decision.independent_review,
        priority=Case.Priority.URGENT if decision.urgent else Case.Priority.STANDARD,
        queue=queue,
        created_at=timezone.now(),
        triage_due_at=routing.triage_due(report.submitted_at, urgent=decision.urgent),
        reporter_feedback_due_at=routing.reporter_feedback_due(report.submitted_at),
    )
    report.status = Report.Status.ROUTED
    report.save(update_fields=["status"])
    event_record(
        kind="case_routed",
        case=case,
        detail={
            "queue": queue.slug,
            "priority": case.priority,
            "authority": case.authority.gss_code if case.authority else None,
            "independent_review": case.independent_review,
        },
    )
    if decision.urgent:
        supervisors_alert(case=case, template="urgent_case")
    original_case = (
        Case.objects.filter(report_id=report.retaliation_of_id).first() if report.retaliation_of_id else None
    )
    if original_case is not None:
        now = timezone.now()
        CaseLink.objects.get_or_create(case=case, other=original_case, defaults={"linked_by": None, "created_at": now})
        CaseLink.objects.get_or_create(case=original_case, other=case, defaults={"linked_by": None, "created_at": now})
        event_record(kind="retaliation_reported", case=original_case, detail={"retaliation_case": case.case_number})
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


def _unique_case_number(report: Report) -> str:
    year = report.submitted_at.year
    while True:
        number = new_case_number(year)
        if not Case.objects.filter(case_number=number).exists():
            return number


def supervisors_alert(*, case: Case, template: str) -> list[EmailRecord]:
    supervisors = User.objects.filter(role=User.Role.SUPERVISOR)
    return staff_alert(case=case, template=template, recipients=supervisors)


def oversight_alert(*, case: Case, template: str) -> list[EmailRecord]:
    """National oversight and the safeguarding partnership of the case's area (never for a case
    about that area's own council, which is never referred there in the first place)."""
    region = case.authority.region if case.authority else None
    recipients = User.objects.filter(role=User.Role.OVERSIGHT_ANALYST)
    if region and not case.independent_review:
        recipients = recipients | User.objects.filter(role=User.Role.BOARD_REVIEWER, area=region)
    return staff_alert(case=case, template=template, recipients=recipients)


def staff_alert(*, case: Case, template: str, recipients: QuerySet[User]) -> list[EmailRecord]:
    """Queue one email per active recipient; each is sent (once) by its own outbox row."""
    records = []
    for user in recipients.filter(is_active=True).exclude(email="").distinct().order_by("pk"):
        record, created = EmailRecord.objects.get_or_create(
            case=case, recipient=user.email, template=template, occasion="", defaults={"created_at": timezone.now()}
        )
        if created:
            outbox_add(kind=OutboxMessage.Kind.SEND_EMAIL, target_id=record.pk)
        records.append(record)
    if records:
        event_record(kind="staff_alerted", case=case, detail={"template": template, "emails": len(records)})
    return records


# --- processing the outbox --------------------------------------------------------------------------


def outbox_process(*, outbox_id: int) -> None:
    """Do one outbox row's work, once. A row whose lease another worker holds is left alone."""
    if not outbox_claim(outbox_id=outbox_id):
        return
    message = OutboxMessage.objects.get(pk=outbox_id)
    if message.kind == OutboxMessage.Kind.ROUTE_REPORT:
        with transaction.atomic():
            report_route(report_id=message.target_id)
            outbox_mark_processed(outbox_id=outbox_id)
    elif message.kind == OutboxMessage.Kind.SEND_EMAIL:
        notifications.email_deliver(email_id=message.target_id, outbox_id=outbox_id)
    else:
        log.error("outbox %s has an unknown kind %s", outbox_id, message.kind)

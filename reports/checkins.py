"""Retaliation check-ins: a reporter who opts in is asked at 1, 3 and 6 months whether anything has
happened to them since reporting. "Yes" opens a linked retaliation case in the helpline queue."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from core import crypto
from core.calendar import add_months
from core.identifiers import new_reference
from core.timetrail import day_start
from outbox.services import outbox_add
from reports.models import ENVELOPE_FIELDS, ConcernType, Report, RetaliationCheckin
from reports.outbox_kinds import ROUTE_REPORT

CHECKIN_MONTHS = (1, 3, 6)


@transaction.atomic(durable=True)
def checkins_opt_in(*, report: Report) -> list[RetaliationCheckin]:
    return [
        RetaliationCheckin.objects.get_or_create(
            report=report, months=months, defaults={"due_at": day_start(add_months(report.submitted_at, months))}
        )[0]
        for months in CHECKIN_MONTHS
    ]


@transaction.atomic(durable=True)
def checkins_opt_out(*, report: Report) -> int:
    """Stop the check-ins still to come (answered ones stay, with what they led to)."""
    deleted, _ = RetaliationCheckin.objects.filter(report=report, answer="").delete()
    return deleted


def checkins_remaining(*, report: Report) -> list[RetaliationCheckin]:
    """The check-ins still to come, for the reporter's page."""
    return list(RetaliationCheckin.objects.filter(report=report, answer="").order_by("due_at"))


def checkin_due(*, report: Report) -> RetaliationCheckin | None:
    """The earliest check-in that is due and unanswered, if any."""
    return RetaliationCheckin.objects.filter(report=report, due_at__lte=timezone.now(), answer="").first()


@sensitive_variables("data_key", "details")
@transaction.atomic(durable=True)
def checkin_answer(*, checkin: RetaliationCheckin, answer: str, details: str, data_key: bytes) -> Report | None:
    """Record the answer; "yes" files a retaliation report, sealed under the same key as the original so
    the reporter follows it with the same access code, and routed like any report."""
    checkin = RetaliationCheckin.objects.select_for_update().get(pk=checkin.pk)
    if checkin.answer:
        return None
    checkin.answer = answer
    checkin.answered_on = timezone.localdate()
    checkin.save(update_fields=["answer", "answered_on"])
    # Every later check-in that is already due is answered by this one.
    RetaliationCheckin.objects.filter(report=checkin.report, answer="", due_at__lte=timezone.now()).update(
        answer=answer, answered_on=timezone.localdate()
    )
    if answer != RetaliationCheckin.Answer.YES:
        return None
    original = checkin.report
    content = {
        "summary": f"Retaliation check-in at {checkin.months} months: the reporter says something has happened",
        "details": details,
        "organisation_name": "",
        "internal_response": "",
        "contact": crypto.open_content(data_key, bytes(original.content)).get("contact", {}),
    }
    report = Report.objects.create(
        **{
            field: getattr(original, field)
            for field in (
                "channel",
                "anonymity",
                "reporter_sector",
                "local_authority_id",
                "about_authority_id",
                "raised_internally",
                "has_contact_email",
                *ENVELOPE_FIELDS,
            )
        },
        reference=new_reference(),
        concern_types=[ConcernType.RETALIATION_AGAINST_STAFF],
        child_at_immediate_risk=False,
        submitted_at=day_start(),
        content=crypto.seal_content(data_key, content),
        retaliation_of=original,
    )
    outbox_add(kind=ROUTE_REPORT, target_id=report.pk)
    return report


def checkins_to_nudge() -> list[RetaliationCheckin]:
    return list(
        RetaliationCheckin.objects.filter(
            due_at__lte=timezone.now(),
            answer="",
            nudged=False,
            report__has_contact_email=True,
            # A report whose content was destroyed has no address left, and nothing to check in on.
            report__content_destroyed_on__isnull=True,
        ).select_related("report")[:500]
    )

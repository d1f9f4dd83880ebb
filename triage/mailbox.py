"""The mailbox's read state on the helpline's side: a gentle nudge when the reporter has not read the helpline's
last message 10 working days after the day it was sent.

The clock is the message's own day (``Message.sent_on``) and the calendar's working days (core.calendar); the
deadlines sweeper (triage.escalations) finds what is due, as it does every clock. Each nudge is taken once per
message (``Message.reporter_nudged``, set under the row's update): a step on the case's timeline and, for a
reporter who gave an address, a content-free email (reports.notifications). Reading, the nudge and its email
keep the day only: whether the reporter read, never when.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from core.calendar import working_days_after
from core.timetrail import reporter_paced
from reports.models import Message
from reports.notifications import unread_nudge_queue
from triage.events import case_event
from triage.models import Case

NUDGE_WORKING_DAYS = 10
# The case event of the nudge (its timeline step).
UNREAD_NUDGE = "reporter_unread_nudge"


def nudge_due(sent_on: date) -> datetime:
    """When a helpline message sent on ``sent_on`` and still unread earns its nudge: the end of the 10th working
    day after that day (core.calendar's rule for every clock counted in working days)."""
    return working_days_after(sent_on, NUDGE_WORKING_DAYS)


def latest_due_day(now: datetime) -> date:
    """The latest day a message can have been sent on for its clock to have run out at ``now``: clocks of
    later days run on (a clock never ends sooner for a later day)."""
    day = timezone.localdate(now)
    while nudge_due(day) >= now:
        day -= timedelta(days=1)
    return day


def unread_last_messages(now: datetime) -> QuerySet[Message]:
    """The helpline's last message of each report, unread by its reporter, not nudged about yet, whose 10
    working days have passed at ``now`` (an earlier helpline message is never nudged about once a later one
    was sent). None of a report whose content was destroyed, nor of one with no case."""
    later = Message.objects.filter(
        report_id=OuterRef("report_id"), direction=Message.Direction.FROM_HELPLINE, id__gt=OuterRef("id")
    )
    return Message.objects.filter(
        ~Exists(later),
        direction=Message.Direction.FROM_HELPLINE,
        read_by_reporter=False,
        reporter_nudged=False,
        sent_on__lte=latest_due_day(now),
        report__content_destroyed_on__isnull=True,
        report__case__isnull=False,
    )


def unread_nudge_take(message: Message) -> bool:
    """Take the nudge for one message, once: whoever marks it nudged first records the step and queues the
    email; a second sweeper, or a reporter who read it meanwhile, takes nothing."""
    with transaction.atomic(durable=True), reporter_paced():
        taken = Message.objects.filter(pk=message.pk, read_by_reporter=False, reporter_nudged=False).update(
            reporter_nudged=True
        )
        if not taken:
            return False
        case = Case.objects.select_related("report").get(report_id=message.report_id)
        emailed = unread_nudge_queue(report=message.report, message_id=message.pk)
        # Codes and ids only: never what was written, never when the reporter was (or was not) here.
        case_event(kind=UNREAD_NUDGE, case=case, detail={"message_id": message.pk, "emailed": emailed})
    return True


def unread_nudges(*, now: datetime | None = None, limit: int = 500) -> int:
    """Every nudge due at ``now`` (at most ``limit`` a sweep); how many were taken."""
    now = now or timezone.now()
    due = list(unread_last_messages(now).order_by("id")[:limit])
    return sum(1 for message in due if unread_nudge_take(message))

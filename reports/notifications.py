"""What reports tells a reporter, through notify: the check-in nudge and the unread-message nudge. And how
notify finds a reporter's address, which is kept only inside the sealed report and unsealed only to send.

Registered from ReportsConfig.ready. A reporter's email names nothing: it says something awaits and links to
the page where they enter their reference and access code.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.views.decorators.debug import sensitive_variables

from core import crypto, keystore
from notify.models import Notification
from notify.registry import register_resolver, register_templates
from notify.services import notification_queue
from reports.checkins import checkins_to_nudge
from reports.models import Report, RetaliationCheckin

# What a reporter's email is about, in notify's terms.
REPORT = "report"
CHECKIN_NUDGE = "reporter_checkin"
# The helpline's last message has waited unread for 10 working days (triage.mailbox).
UNREAD_NUDGE = "reporter_unread"
# The reporter's emails about their report (rather than its case): reports sends them.
REPORT_TEMPLATES = frozenset({CHECKIN_NUDGE, UNREAD_NUDGE})


@sensitive_variables("content")
def reporter_address(report_id: int) -> str:
    """The address the reporter gave, unsealed with the helpline's key (workers only); "" if they gave none,
    or if it was destroyed with the report's content (the email is then not sent)."""
    report = Report.objects.get(pk=report_id)
    if not report.has_contact_email or report.content_destroyed_on is not None:
        return ""
    data_key = keystore.data_key_of(report)
    content = crypto.open_content(data_key, bytes(report.content))
    contact = content.get("contact")
    return str(contact.get("email", "")) if isinstance(contact, dict) else ""


def reporter_context(notification: Notification | None = None) -> dict[str, object]:
    """The one page a reporter's email links to: where they enter their reference and access code."""
    return {"check_url": settings.SITE_URL.rstrip("/") + reverse("check_start", urlconf="reports.urls")}


def checkin_nudges() -> int:
    """A content-free "we would like to check in" email to each reporter with a check-in due who gave an
    address, once per check-in. Returns how many were queued."""
    sent = 0
    for checkin in checkins_to_nudge():
        with transaction.atomic(durable=True):
            if RetaliationCheckin.objects.filter(pk=checkin.pk, nudged=False).update(nudged=True):
                notification_queue(
                    recipient=Notification.REPORTER,
                    template=CHECKIN_NUDGE,
                    subject_kind=REPORT,
                    subject_id=checkin.report_id,
                    occasion=f"checkin-{checkin.pk}",
                )
                sent += 1
    return sent


def unread_nudge_queue(*, report: Report, message_id: int) -> bool:
    """A content-free "a message is waiting" email to a reporter who gave an address, once per helpline message
    (in the caller's transaction; notify sends it after commit, to the day as all reporter mail). Whether one
    was queued: none for a reporter without an address, or whose report's content was destroyed."""
    if not report.has_contact_email or report.content_destroyed_on is not None:
        return False
    notification_queue(
        recipient=Notification.REPORTER,
        template=UNREAD_NUDGE,
        subject_kind=REPORT,
        subject_id=report.pk,
        occasion=f"unread-{message_id}",
    )
    return True


def register_reporter_notifications() -> None:
    register_templates(sorted(REPORT_TEMPLATES), context=reporter_context)
    register_resolver(audience=Notification.REPORTER, subject_kind=REPORT, resolver=reporter_address)

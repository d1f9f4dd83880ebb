"""Content-free emails: who gets which (queueing), and sending them (delivery).

Each email is recorded once per occasion and sent by its own outbox row after the change that caused it
commits. Templated as subject / text / html, sent through anymail, tracking off. Each email says only
that something awaits and links to it. Helpline-internal emails may name the reporter's reference;
emails to authorities use the case number. Never content, names or other cases.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from anymail.message import AnymailMessage
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.notices import ApprovalWaiting
from core import crypto
from core.timetrail import day_start, is_day_only, recorded_now
from directory.models import LocalAuthority
from outbox.registry import Retry
from outbox.services import outbox_add
from triage.case_content import case_data_key
from triage.events import case_event
from triage.models import Case, EmailRecord

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# The outbox kind whose rows send one EmailRecord each.
SEND_EMAIL = "send_email"


# --- who gets which email ----------------------------------------------------------------------------


def email_queue(*, case: Case | None, recipient: str, template: str, occasion: str = "") -> EmailRecord:
    """Record one email, once per (case, recipient, template, occasion), and send it after commit. ``case``
    None: an email about no case (ADMIN_TEMPLATES)."""
    record, created = EmailRecord.objects.get_or_create(
        case=case,
        recipient=recipient,
        template=template,
        occasion=occasion,
        defaults={"created_at": day_start() if recipient == EmailRecord.REPORTER_RECIPIENT else recorded_now()},
    )
    if created:
        outbox_add(kind=SEND_EMAIL, target_id=record.pk)
    return record


def staff_alert(*, case: Case, template: str, recipients: QuerySet[User], occasion: str = "") -> list[EmailRecord]:
    """One email per active recipient with an address, and an event saying how many."""
    records = [
        email_queue(case=case, recipient=user.email, template=template, occasion=occasion)
        for user in recipients.filter(is_active=True).exclude(email="").distinct().order_by("pk")
    ]
    if records:
        case_event(kind="staff_alerted", case=case, detail={"template": template, "emails": len(records)})
    return records


def supervisors() -> QuerySet[User]:
    return User.objects.filter(role=User.Role.SUPERVISOR)


def supervisors_alert(*, case: Case, template: str, occasion: str = "") -> list[EmailRecord]:
    return staff_alert(case=case, template=template, recipients=supervisors(), occasion=occasion)


def oversight_alert(
    *, case: Case, template: str, authority: LocalAuthority | None = None, occasion: str = ""
) -> list[EmailRecord]:
    """National oversight and the safeguarding partnership of the area of ``authority`` (a referral's),
    else of the case's (never for a case about that area's own council, which is never referred there in
    the first place)."""
    authority = authority or case.authority
    region = authority.region if authority else None
    recipients = User.objects.filter(role=User.Role.OVERSIGHT_ANALYST)
    if region and not case.independent_review:
        recipients = recipients | User.objects.filter(role=User.Role.BOARD_REVIEWER, area=region)
    return staff_alert(case=case, template=template, recipients=recipients, occasion=occasion)


def helpline_tell(*, case: Case, template: str, occasion: str) -> None:
    """The supervisors and the case's assignee hear that the authority did something on the case."""
    recipients = set(supervisors().filter(is_active=True).exclude(email="").values_list("email", flat=True))
    if case.assignee and case.assignee.email:
        recipients.add(case.assignee.email)
    for recipient in sorted(recipients):
        email_queue(case=case, recipient=recipient, template=template, occasion=occasion)


def approval_waiting_tell(notice: ApprovalWaiting) -> None:
    """accounts.notices' sender (registered in TriageConfig.ready): each administrator who may approve a request
    (an MFA reset, an account to enable again) gets one email per request, in the transaction that made it."""
    for recipient in notice.recipients:
        email_queue(case=None, recipient=recipient, template=APPROVAL_WAITING, occasion=f"request-{notice.request_id}")


def reporter_tell(*, case: Case, template: str, occasion: str) -> None:
    """An email to the reporter, when they gave an address: it is unsealed only to send."""
    if case.report.has_contact_email:
        email_queue(case=case, recipient=EmailRecord.REPORTER_RECIPIENT, template=template, occasion=occasion)


# --- sending -----------------------------------------------------------------------------------------


def retry_delay(attempt: int) -> timedelta:
    """Growing delays between tries: 1, 2, 4, 8, 16 minutes."""
    return timedelta(minutes=2 ** max(attempt - 1, 0))


# Who reads each template decides what it may name and where it links: the reference stays inside the
# helpline; people outside it (authorities, boards, national oversight) see only the case number; a
# reporter's email names nothing at all. A template in none of these sets is read by helpline staff.
AUTHORITY_TEMPLATES = frozenset({"authority_referral", "authority_reply", "authority_update"})
# National oversight and the area's board: they may open no case, only the statistics that count it.
OVERSIGHT_TEMPLATES = frozenset({"authority_ack_overdue_national", "authority_outcome_overdue_national"})
OUTSIDE_HELPLINE_TEMPLATES = AUTHORITY_TEMPLATES | OVERSIGHT_TEMPLATES
REPORTER_TEMPLATES = frozenset({"reporter_update", "reporter_checkin"})
# Administrators, about staff accounts: no case at all; the link is the staff page that lists what waits.
APPROVAL_WAITING = "admin_approval_waiting"
ADMIN_TEMPLATES = frozenset({APPROVAL_WAITING})


def email_context(record: EmailRecord) -> dict[str, object]:
    """What a template may name, and the one page its reader can open: the referral for an authority, the
    statistics for oversight and boards, the case for helpline staff, the check page for a reporter.

    Paths are reversed in each app's own URLconf under the prefix helpline/urls.py mounts it at, not in
    ROOT_URLCONF: the worker that sends email (HELPLINE_ROLE=worker) serves no pages, so its ROOT_URLCONF
    has none of these routes. tests/triage/test_email_links.py resolves every link in the full URLconf."""

    def staff_link(urlconf: str, name: str, **kwargs: str) -> str:
        return f"{settings.STAFF_SITE_URL.rstrip('/')}/staff{reverse(name, urlconf=urlconf, kwargs=kwargs or None)}"

    case = record.case
    if record.template in ADMIN_TEMPLATES:
        return {"staff_url": staff_link("triage.urls", "admin_staff")}
    if record.template in REPORTER_TEMPLATES:
        return {"check_url": settings.SITE_URL.rstrip("/") + reverse("check_start", urlconf="reports.urls")}
    case_number = case.case_number if case else ""
    if record.template in AUTHORITY_TEMPLATES:
        referral_url = (
            staff_link("referrals.urls", "referral_detail", case_number=case_number)
            if case_number
            else staff_link("referrals.urls", "referral_list")
        )
        return {"case_number": case_number, "referral_url": referral_url}
    if record.template in OVERSIGHT_TEMPLATES:
        return {"case_number": case_number, "statistics_url": staff_link("oversight.urls", "statistics")}
    case_url = (
        staff_link("triage.urls", "case_detail", case_number=case_number)
        if case_number
        else staff_link("triage.urls", "case_list")
    )
    return {"case_number": case_number, "reference": case.report.reference if case else "", "case_url": case_url}


def email_address(record: EmailRecord) -> str:
    """The recipient; a reporter's address is unsealed here, only to send, and never stored."""
    if record.recipient != EmailRecord.REPORTER_RECIPIENT:
        return record.recipient
    if record.case is None:
        return ""  # reporter emails are always about a case; without one there is nobody to send to
    content = crypto.open_content(case_data_key(record.case), bytes(record.case.report.content))
    contact = content.get("contact")
    return str(contact.get("email", "")) if isinstance(contact, dict) else ""


def email_render(record: EmailRecord) -> AnymailMessage:
    context = email_context(record)
    base = f"emails/{record.template}"
    subject = render_to_string(f"{base}/subject.txt", context).strip()
    from_email = settings.DEFAULT_FROM_EMAIL
    if record.template in REPORTER_TEMPLATES:
        # A reporter's inbox must not give away the service: a neutral sender and subject (configurable).
        subject, from_email = settings.REPORTER_EMAIL_SUBJECT, settings.REPORTER_EMAIL_FROM
    message = AnymailMessage(
        subject=subject,
        body=render_to_string(f"{base}/body.txt", context),
        from_email=from_email,
        to=[email_address(record)],
        # The same id on every retry lets providers and mail servers recognise a repeat.
        headers={"Message-ID": f"<email-{record.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"},
    )
    message.attach_alternative(render_to_string(f"{base}/body.html", context), "text/html")
    # Anymail: no open or click tracking (it would record when and where a person reads).
    message.track_opens = False
    message.track_clicks = False
    return message


def email_deliver(email_id: int) -> Retry | None:
    """Send one recorded email (the SEND_EMAIL outbox handler). Failures are retried with growing delays,
    then marked failed for staff to see; either way the row is done once the record says so."""
    record = EmailRecord.objects.select_related("case__report").get(pk=email_id)
    if record.state in {EmailRecord.State.SENT, EmailRecord.State.FAILED}:
        return None
    attempt = record.attempts + 1
    try:
        message = email_render(record)
        message.send(fail_silently=False)
    except Exception as error:  # noqa: BLE001 - any provider failure is retried, never lost
        log.warning("email %s attempt %s failed: %s", record.pk, attempt, type(error).__name__)
        record.attempts = attempt
        if attempt >= MAX_ATTEMPTS:
            record.state = EmailRecord.State.FAILED
            record.next_attempt_at = None
        else:
            record.state = EmailRecord.State.RETRYING
            record.next_attempt_at = timezone.now() + retry_delay(attempt)
        record.save(update_fields=["state", "next_attempt_at", "attempts"])
        if record.next_attempt_at is None:
            return None
        return Retry(at=record.next_attempt_at, error=type(error).__name__)
    with transaction.atomic():
        record.state = EmailRecord.State.SENT
        record.attempts = attempt
        # The day only for mail to a reporter, or caused by one (an urgent report's alert): its time would
        # say when they were here. Other mail keeps the time it went.
        reporter_paced = record.recipient == EmailRecord.REPORTER_RECIPIENT or is_day_only(record.created_at)
        record.sent_at = day_start() if reporter_paced else timezone.now()
        status = getattr(message, "anymail_status", None)
        record.provider_message_id = (getattr(status, "message_id", None) or "")[:255] if status else ""
        record.save(update_fields=["state", "attempts", "sent_at", "provider_message_id"])
    return None

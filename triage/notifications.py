"""Content-free emails: templated as subject / text / html, sent through anymail, tracking off.

Each email says only that something awaits and links to it. Helpline-internal emails may name the
reporter's reference; emails to authorities use the case number. Never content, names or other cases.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from triage.models import EmailRecord
from triage.outbox import outbox_mark_processed, outbox_release

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6


def retry_delay(attempt: int) -> timedelta:
    """Growing delays between tries: 1, 2, 4, 8, 16 minutes."""
    return timedelta(minutes=2 ** max(attempt - 1, 0))


# Who reads each template decides what it may name: the reference stays inside the helpline; people
# outside it (authorities, boards, national oversight) see only the case number; a reporter's email
# names nothing at all.
OUTSIDE_HELPLINE_TEMPLATES = frozenset(
    {"authority_referral", "authority_ack_overdue_national", "authority_outcome_overdue_national"}
)
REPORTER_TEMPLATES = frozenset({"reporter_update", "reporter_checkin"})


def email_context(record: EmailRecord) -> dict[str, object]:
    case = record.case
    if record.template in REPORTER_TEMPLATES:
        return {"check_url": f"{settings.SITE_URL}/check"}
    staff_url = f"{settings.STAFF_SITE_URL}/staff/"
    context: dict[str, object] = {"case_number": case.case_number if case else "", "staff_url": staff_url}
    if record.template in OUTSIDE_HELPLINE_TEMPLATES:
        return {**context, "case_url": staff_url}
    return {
        **context,
        "reference": case.report.reference if case else "",
        "case_url": f"{staff_url}cases/{case.case_number}" if case else staff_url,
    }


def email_address(record: EmailRecord) -> str:
    """The recipient; a reporter's address is unsealed here, only to send, and never stored."""
    if record.recipient != EmailRecord.REPORTER_RECIPIENT:
        return record.recipient
    from reports import crypto
    from triage.actions import case_data_key

    assert record.case is not None  # noqa: S101 - reporter emails are always about a case
    content = crypto.open_content(case_data_key(record.case), bytes(record.case.report.content))
    contact = content.get("contact")
    return str(contact.get("email", "")) if isinstance(contact, dict) else ""


def email_render(record: EmailRecord) -> EmailMultiAlternatives:
    context = email_context(record)
    base = f"emails/{record.template}"
    subject = render_to_string(f"{base}/subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{base}/body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email_address(record)],
        # The same id on every retry lets providers and mail servers recognise a repeat.
        headers={"Message-ID": f"<email-{record.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"},
    )
    message.attach_alternative(render_to_string(f"{base}/body.html", context), "text/html")
    # Anymail: no open or click tracking (it would record when and where a person reads).
    message.track_opens = False  # type: ignore[attr-defined]
    message.track_clicks = False  # type: ignore[attr-defined]
    return message


def email_deliver(*, email_id: int, outbox_id: int) -> EmailRecord:
    """Send one recorded email. Failures are retried with growing delays, then marked failed for staff."""
    record = EmailRecord.objects.select_related("case__report").get(pk=email_id)
    if record.state in {EmailRecord.State.SENT, EmailRecord.State.FAILED}:
        outbox_mark_processed(outbox_id=outbox_id)
        return record
    attempt = record.attempts + 1
    try:
        message = email_render(record)
        message.send(fail_silently=False)
    except Exception as error:  # noqa: BLE001 - any provider failure is retried, never lost
        log.warning("email %s attempt %s failed: %s", record.pk, attempt, type(error).__name__)
        with transaction.atomic():
            if attempt >= MAX_ATTEMPTS:
                record.state = EmailRecord.State.FAILED
                record.next_attempt_at = None
                outbox_mark_processed(outbox_id=outbox_id)
            else:
                record.state = EmailRecord.State.RETRYING
                record.next_attempt_at = timezone.now() + retry_delay(attempt)
                outbox_release(outbox_id=outbox_id, retry_at=record.next_attempt_at, error=type(error).__name__)
            record.attempts = attempt
            record.save(update_fields=["state", "next_attempt_at", "attempts"])
        return record
    with transaction.atomic():
        record.state = EmailRecord.State.SENT
        record.attempts = attempt
        record.sent_at = timezone.now()
        status = getattr(message, "anymail_status", None)
        record.provider_message_id = (getattr(status, "message_id", None) or "")[:255] if status else ""
        record.save(update_fields=["state", "attempts", "sent_at", "provider_message_id"])
        outbox_mark_processed(outbox_id=outbox_id)
    return record

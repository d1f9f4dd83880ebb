"""Text messages (SMS) through GOV.UK Notify: queued once per occasion with their own outbox row, sent by a
worker after commit with the email's retries (notify.services), then followed to delivery through Notify's
status endpoint (GET /v2/notifications/{id}) by a second outbox row that polls until Notify settles.

What a text says is the Notify template's, by id; nothing is passed to it (no personalisation) and the
reference is the notification's own number, so no case content, case number or reporter's word can reach a
phone. A phone number is a member of staff's (or the duty manager's), never a reporter's.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from notifications_python_client.notifications import NotificationsAPIClient

from core.timetrail import day_start, is_day_only, recorded_now
from notify import services
from notify.models import Notification
from outbox.registry import Retry, register
from outbox.services import outbox_add

log = logging.getLogger(__name__)

SEND_SMS = "send_sms"
# Polls Notify for a sent text's delivery status until it is final.
SMS_STATUS = "sms_status"
# Notify's final statuses (https://docs.notifications.service.gov.uk/python.html#status-text-message).
DELIVERED = "delivered"
FAILURES = frozenset({"permanent-failure", "temporary-failure", "technical-failure"})
STATUS_POLL = timedelta(seconds=30)
# Asked for half an hour after sending at most: by then a page has fallen through past whoever it went to.
STATUS_POLL_FOR = timedelta(minutes=30)

# The one SMS template: an urgent page. Its Notify template (NOTIFY_PAGE_TEMPLATE_ID) reads exactly this.
PAGE = "urgent_page"
PAGE_TEXT = "Urgent concern waiting — sign in to the helpline workspace"


class NotConfigured(Exception):
    """No Notify API key or template id: nothing can be sent (the page fails and falls through)."""


def _template_id(template: str) -> str:
    ids = {PAGE: settings.NOTIFY_PAGE_TEMPLATE_ID}
    if template not in ids:
        raise services.UnknownTemplate(f"No SMS template {template!r}")
    return ids[template]


def client() -> NotificationsAPIClient:
    if not settings.NOTIFY_API_KEY:
        raise NotConfigured("NOTIFY_API_KEY is not set")
    # The package has no type hints (hence the ignores on its calls).
    return NotificationsAPIClient(  # type: ignore[no-untyped-call]
        settings.NOTIFY_API_KEY, base_url=settings.NOTIFY_BASE_URL, timeout=10
    )


def sms_queue(
    *, phone: str, template: str = PAGE, subject_kind: str = "", subject_id: int | None = None, occasion: str = ""
) -> Notification:
    """Record one text to ``phone``, once per (subject, phone, template, occasion), sent after commit."""
    _template_id(template)
    notification, created = Notification.objects.get_or_create(
        channel=Notification.Channel.SMS,
        subject_kind=subject_kind,
        subject_id=subject_id,
        recipient=phone,
        template=template,
        occasion=occasion,
        defaults={"created_at": recorded_now()},
    )
    if created:
        outbox_add(kind=SEND_SMS, target_id=notification.pk)
    return notification


def sms_deliver(notification_id: int) -> Retry | None:
    """Send one recorded text (the SEND_SMS outbox handler); failures retried as email's are."""
    notification = Notification.objects.get(pk=notification_id)
    if notification.state in {Notification.State.SENT, Notification.State.FAILED, Notification.State.CANCELLED}:
        return None
    attempt = notification.attempts + 1
    try:
        template_id = _template_id(notification.template)
        if not template_id:
            raise NotConfigured("NOTIFY_PAGE_TEMPLATE_ID is not set")
        # The reference is ours and says nothing: Notify returns it, and it makes a repeat recognisable.
        response = client().send_sms_notification(  # type: ignore[no-untyped-call]
            phone_number=notification.recipient, template_id=template_id, reference=f"sms-{notification.pk}"
        )
    except Exception as error:  # noqa: BLE001 - any provider failure is retried, never lost
        return services.attempt_failed(notification, attempt, type(error).__name__)
    with transaction.atomic():
        notification.state = Notification.State.SENT
        notification.attempts = attempt
        notification.sent_at = day_start() if is_day_only(notification.created_at) else timezone.now()
        notification.provider_message_id = str(response.get("id", ""))[:255]
        notification.delivery_status = "sending"
        notification.save(update_fields=["state", "attempts", "sent_at", "provider_message_id", "delivery_status"])
        if notification.provider_message_id:
            outbox_add(kind=SMS_STATUS, target_id=notification.pk)
    return None


def sms_status_check(notification_id: int) -> Retry | None:
    """Ask Notify how a sent text went (the SMS_STATUS outbox handler): again in a while until it is
    delivered or has failed. A failure marks the notification failed, which a page takes as "not reached"."""
    notification = Notification.objects.get(pk=notification_id)
    if notification.state != Notification.State.SENT or notification.delivery_status in FAILURES | {DELIVERED}:
        return None
    try:
        answer = client().get_notification_by_id(notification.provider_message_id)  # type: ignore[no-untyped-call]
        status = str(answer.get("status", ""))
    except Exception as error:  # noqa: BLE001 - Notify unreachable: ask again later
        status, error_name = "", type(error).__name__
    else:
        error_name = ""
    if status in FAILURES:
        log.warning("sms %s not delivered: %s", notification.pk, status)
        notification.state = Notification.State.FAILED
    if status:
        notification.delivery_status = status[:32]
    notification.save(update_fields=["state", "delivery_status"])
    # A text whose time keeps the day only (its page settled) is no longer followed either.
    polled_for = timezone.now() - notification.sent_at if notification.sent_at else STATUS_POLL_FOR
    if status in FAILURES | {DELIVERED} or polled_for >= STATUS_POLL_FOR:
        return None
    return Retry(at=timezone.now() + STATUS_POLL, error=error_name or f"status {status or 'unknown'}")


def sms_settle(*, subject_kind: str, subject_id: int) -> int:
    """The texts about one subject are no longer needed (a page answered, or its clock met): those not yet sent
    are cancelled, and all keep the day only. Their outbox rows find them settled and send nothing."""
    texts = list(
        Notification.objects.filter(channel=Notification.Channel.SMS, subject_kind=subject_kind, subject_id=subject_id)
    )
    for text in texts:
        if text.state in {Notification.State.QUEUED, Notification.State.RETRYING}:
            text.state = Notification.State.CANCELLED
        text.created_at = day_start(text.created_at)
        text.sent_at = day_start(text.sent_at) if text.sent_at else None
        text.next_attempt_at = None
    Notification.objects.bulk_update(texts, ["state", "created_at", "sent_at", "next_attempt_at"])
    return len(texts)


def register_outbox_handlers() -> None:
    # Each sends (or asks) over HTTP, then records what happened: their own transactions.
    register(SEND_SMS, sms_deliver, atomic=False)
    register(SMS_STATUS, sms_status_check, atomic=False)

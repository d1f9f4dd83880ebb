"""Queueing a notification once per occasion, and sending it through the outbox with retries.

A notification is recorded in the caller's transaction with its own outbox row, and sent by a worker after
that transaction commits: templated as subject / text / html, through anymail, tracking off. What a template
may name is decided by the app that registered it (notify.registry); every template says only that something
awaits and links to it: never what anybody wrote, never a reporter's reference.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from anymail.message import AnymailMessage
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from core.timetrail import bucket_ceil, day_start, is_day_only, recorded_now
from notify import registry
from notify.models import Notification
from outbox.registry import Retry, register
from outbox.services import outbox_add, outbox_add_many

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# The outbox kind whose rows send one email Notification each (the name it had when triage sent email).
SEND_EMAIL = "send_email"


class UnknownTemplate(Exception):
    pass


class UnknownDigest(Exception):
    pass


def notification_queue(
    *,
    recipient: str,
    template: str,
    subject_kind: str = "",
    subject_id: int | None = None,
    occasion: str = "",
    digest: str = "",
) -> Notification:
    """Record one email, once per (subject, recipient, template, occasion), and send it after commit.
    ``recipient`` is an address, or a placeholder (Notification.REPORTER) that a registered resolver turns
    into one only when it is sent. With ``digest`` (a key registered with notify.registry.register_digest)
    it is held instead, and counted in its recipient's next digest email (digests_send)."""
    if registry.template_for(template) is None:
        raise UnknownTemplate(f"No app registered the template {template!r}")
    if digest and registry.digest_for(digest) is None:
        raise UnknownDigest(f"No app registered the digest {digest!r}")
    if digest and is_placeholder(recipient):
        # A digest goes to an address it can be counted under; a reporter is never sent one.
        raise UnknownDigest("A digest needs a staff address, not a placeholder")
    defaults: dict[str, object] = {
        # A reporter's mail keeps the day only: its time would say when they were here (core.timetrail).
        "created_at": day_start() if recipient == Notification.REPORTER else recorded_now(),
    }
    if digest:
        defaults |= {"digest": digest, "state": Notification.State.HELD}
    notification, created = Notification.objects.get_or_create(
        channel=Notification.Channel.EMAIL,
        subject_kind=subject_kind,
        subject_id=subject_id,
        recipient=recipient,
        template=template,
        occasion=occasion,
        defaults=defaults,
    )
    if created and not digest:
        outbox_add(kind=SEND_EMAIL, target_id=notification.pk)
    return notification


def notifications_queue_many(*, template: str, emails: list[tuple[str, str, int, str]]) -> list[Notification]:
    """notification_queue for many emails of one template at once (a bulk action's): each (recipient, subject
    kind, subject id, occasion) once, in one read, one insert and one insert of outbox rows however many there
    are. Returns the notifications it recorded (not those there were already)."""
    if registry.template_for(template) is None:
        raise UnknownTemplate(f"No app registered the template {template!r}")
    wanted = list(dict.fromkeys(emails))
    if not wanted:
        return []
    existing = set(
        Notification.objects.filter(
            channel=Notification.Channel.EMAIL,
            template=template,
            subject_id__in={subject_id for _, _, subject_id, _ in wanted},
        ).values_list("recipient", "subject_kind", "subject_id", "occasion")
    )
    # A reporter's mail keeps the day only: its time would say when they were here (core.timetrail).
    now, today = recorded_now(), day_start()
    created = Notification.objects.bulk_create(
        [
            Notification(
                channel=Notification.Channel.EMAIL,
                subject_kind=subject_kind,
                subject_id=subject_id,
                recipient=recipient,
                template=template,
                occasion=occasion,
                created_at=today if recipient == Notification.REPORTER else now,
            )
            for recipient, subject_kind, subject_id, occasion in wanted
            if (recipient, subject_kind, subject_id, occasion) not in existing
        ]
    )
    outbox_add_many(kind=SEND_EMAIL, target_ids=[notification.pk for notification in created])
    return created


# --- digests -------------------------------------------------------------------------------------------
# What a digest records: the digest email (no subject; created and sent with the day only, as the alerts it
# collects were caused by reporters), and on each collected notification, which digest it went in. Its
# occasion is the first collected notification's id, so doing the same round twice makes no second email; it
# names no time, so no row says when within the day the collected alerts arrived.


def digest_count(notification: Notification) -> int:
    """How many notifications a digest email collected: what its template may say ("12 urgent concerns")."""
    return notification.collected.count()


def _digest_round(digest: registry.Digest) -> registry.DigestSent | None:
    """One digest email per recipient with anything held under ``digest``; None when nothing was held."""
    sent: list[int] = []
    collected = 0
    subjects: set[tuple[str, int | None]] = set()
    with transaction.atomic():
        held = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(digest=digest.key, state=Notification.State.HELD)
            .order_by("pk")
            .only("pk", "recipient", "subject_kind", "subject_id")
        )
        by_recipient: dict[str, list[Notification]] = {}
        for notification in held:
            by_recipient.setdefault(notification.recipient, []).append(notification)
        for recipient, notifications in sorted(by_recipient.items()):
            email, created = Notification.objects.get_or_create(
                channel=Notification.Channel.EMAIL,
                subject_kind="",
                subject_id=None,
                recipient=recipient,
                template=digest.template,
                occasion=f"digest-{notifications[0].pk}",
                defaults={"created_at": day_start()},
            )
            Notification.objects.filter(pk__in=[n.pk for n in notifications]).update(
                state=Notification.State.DIGESTED, in_digest=email
            )
            if created:
                outbox_add(kind=SEND_EMAIL, target_id=email.pk)
                sent.append(email.pk)
            collected += len(notifications)
            subjects.update((n.subject_kind, n.subject_id) for n in notifications)
        if not sent:
            return None
        round_sent = registry.DigestSent(
            key=digest.key, collected=collected, subjects=len(subjects), notification_ids=tuple(sent)
        )
        transaction.on_commit(lambda: _digest_listeners_call(round_sent))
    return round_sent


def _digest_listeners_call(round_sent: registry.DigestSent) -> None:
    for listener in registry.digest_listeners():
        try:
            listener(round_sent)
        except Exception as error:  # noqa: BLE001 - one listener's failure never stops the others
            log.warning("digest listener failed for %s (%s)", round_sent.key, type(error).__name__)


def digests_send() -> list[registry.DigestSent]:
    """Send every registered digest that has anything held: the beat task, every DIGEST_MINUTES. Idempotent:
    what a round collected is marked, so a second run sends nothing until more is held."""
    return [round_sent for digest in registry.digests() if (round_sent := _digest_round(digest)) is not None]


# --- sending -----------------------------------------------------------------------------------------


def retry_delay(attempt: int) -> timedelta:
    """Growing delays between tries: 1, 2, 4, 8, 16 minutes."""
    return timedelta(minutes=2 ** max(attempt - 1, 0))


def is_placeholder(recipient: str) -> bool:
    return "@" not in recipient


def notification_address(notification: Notification) -> str:
    """The address to send to: the recipient, or what the resolver for its placeholder finds (e.g. the
    reporter's address, unsealed here only to send and never stored). "" when there is nobody to send to."""
    if not is_placeholder(notification.recipient):
        return notification.recipient
    resolver = registry.resolver_for(audience=notification.recipient, subject_kind=notification.subject_kind)
    if resolver is None or notification.subject_id is None:
        return ""
    return resolver(notification.subject_id)


def notification_context(notification: Notification) -> dict[str, object]:
    template = registry.template_for(notification.template)
    if template is None:
        raise UnknownTemplate(f"No app registered the template {notification.template!r}")
    return template.context(notification)


def email_render(notification: Notification, address: str | None = None) -> AnymailMessage:
    """The email as it is sent (to ``address``, or to whoever notification_address finds)."""
    context = notification_context(notification)
    address = notification_address(notification) if address is None else address
    base = f"emails/{notification.template}"
    subject = render_to_string(f"{base}/subject.txt", context).strip()
    from_email = settings.DEFAULT_FROM_EMAIL
    if notification.recipient == Notification.REPORTER:
        # A reporter's inbox must not give away the service: a neutral sender and subject (configurable).
        subject, from_email = settings.REPORTER_EMAIL_SUBJECT, settings.REPORTER_EMAIL_FROM
    message = AnymailMessage(
        subject=subject,
        body=render_to_string(f"{base}/body.txt", context),
        from_email=from_email,
        to=[address],
        # The same id on every retry lets providers and mail servers recognise a repeat.
        headers={"Message-ID": f"<email-{notification.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"},
    )
    message.attach_alternative(render_to_string(f"{base}/body.html", context), "text/html")
    # Anymail: no open or click tracking (it would record when and where a person reads).
    message.track_opens = False
    message.track_clicks = False
    return message


def _settled(notification: Notification) -> None:
    template = registry.template_for(notification.template)
    if template is not None and template.settled is not None:
        template.settled(notification)


def _reporter_paced(notification: Notification) -> bool:
    """Mail to a reporter, or caused by one (its row was created with the day only)."""
    return notification.recipient == Notification.REPORTER or is_day_only(notification.created_at)


def attempt_failed(notification: Notification, attempt: int, error: str) -> Retry | None:
    """A send that failed: retried with growing delays (retry_delay), given up after MAX_ATTEMPTS (any channel)."""
    log.warning("notification %s attempt %s failed: %s", notification.pk, attempt, error)
    notification.attempts = attempt
    if attempt >= MAX_ATTEMPTS or error == "NoAddress":
        notification.state = Notification.State.FAILED
        notification.next_attempt_at = None
    else:
        notification.state = Notification.State.RETRYING
        retry_at = timezone.now() + retry_delay(attempt)
        # Mail to a reporter keeps no time of day: its retry waits for the next boundary of the time-trail
        # bucket, so the row (and the outbox row it is released to) never says when it failed. Staff mail a
        # reporter caused (the urgent alert) retries on time: it answers the urgent clock, exact while it runs.
        to_reporter = notification.recipient == Notification.REPORTER
        notification.next_attempt_at = bucket_ceil(retry_at) if to_reporter else retry_at
    notification.save(update_fields=["state", "next_attempt_at", "attempts"])
    if notification.next_attempt_at is None:
        _settled(notification)
        return None
    return Retry(at=notification.next_attempt_at, error=error)


def notification_deliver(notification_id: int) -> Retry | None:
    """Send one recorded email (the SEND_EMAIL outbox handler). Failures are retried with growing delays,
    then marked failed for staff to see; either way the row is done once the record says so."""
    notification = Notification.objects.get(pk=notification_id)
    if notification.state in {
        Notification.State.SENT,
        Notification.State.FAILED,
        Notification.State.CANCELLED,
        # Held for a digest, or sent in one: never on its own.
        Notification.State.HELD,
        Notification.State.DIGESTED,
    }:
        return None
    attempt = notification.attempts + 1
    try:
        address = notification_address(notification)
        if not address:
            # Nobody to send to (a reporter who gave no address): trying again would find nobody either.
            return attempt_failed(notification, attempt, "NoAddress")
        message = email_render(notification, address)
        message.send(fail_silently=False)
    except registry.NothingToSend:
        notification.state = Notification.State.CANCELLED
        notification.attempts = attempt
        notification.save(update_fields=["state", "attempts"])
        _settled(notification)
        return None
    except Exception as error:  # noqa: BLE001 - any provider failure is retried, never lost
        return attempt_failed(notification, attempt, type(error).__name__)
    with transaction.atomic():
        notification.state = Notification.State.SENT
        notification.attempts = attempt
        # The day only for mail to a reporter, or caused by one (an urgent report's alert): its time would
        # say when they were here. Other mail keeps the time it went.
        notification.sent_at = day_start() if _reporter_paced(notification) else timezone.now()
        status = getattr(message, "anymail_status", None)
        notification.provider_message_id = (getattr(status, "message_id", None) or "")[:255] if status else ""
        notification.save(update_fields=["state", "attempts", "sent_at", "provider_message_id"])
    _settled(notification)
    return None


def register_outbox_handler() -> None:
    # Sends an email, then records that it did: its own transactions.
    register(SEND_EMAIL, notification_deliver, atomic=False)


def sent_purge(*, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` records of email sent before ``before`` (oldest first), so the table does not
    grow without end. Email queued, retrying or failed is kept for an operator. How many were deleted."""
    sent = Notification.objects.filter(state=Notification.State.SENT, sent_at__lt=before)
    ids = list(sent.order_by("pk").values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    # What a sent digest collected goes with it (the digest said all there was to say about them).
    collected, _ = Notification.objects.filter(state=Notification.State.DIGESTED, in_digest_id__in=ids).delete()
    deleted, _ = sent.filter(pk__in=ids).delete()
    return deleted + collected

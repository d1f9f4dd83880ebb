"""The transactional outbox: work committed with the change that causes it, published after commit,
claimed with an expiring lease, re-sent by a sweeper. Publishing never fails the caller.

A row is a kind and a target id. The task that processes rows is published by name, and the handler for
a kind comes from outbox.registry, so this module imports neither tasks nor the apps that do the work.
"""

import logging
import time
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core.timetrail import day_start
from outbox.models import OutboxMessage
from outbox.registry import registration_for

log = logging.getLogger(__name__)

PROCESS_TASK = "outbox.process"


def outbox_add(*, kind: str, target_id: int) -> OutboxMessage:
    """Record work inside the caller's transaction; publish it once the transaction commits."""
    # The target is new in this transaction, so a plain insert; the unique constraint still guards.
    message = OutboxMessage.objects.create(kind=kind, target_id=target_id, created_at=day_start())
    outbox_id = message.pk
    transaction.on_commit(lambda: outbox_publish(outbox_id=outbox_id), robust=True)
    return message


def outbox_add_many(*, kind: str, target_ids: list[int]) -> list[OutboxMessage]:
    """outbox_add for many targets of one kind (a bulk action's): one insert, each row published after commit."""
    if not target_ids:
        return []
    messages = OutboxMessage.objects.bulk_create(
        [OutboxMessage(kind=kind, target_id=target_id, created_at=day_start()) for target_id in target_ids]
    )
    outbox_ids = [message.pk for message in messages]

    def publish_all() -> None:
        for outbox_id in outbox_ids:
            outbox_publish(outbox_id=outbox_id)

    transaction.on_commit(publish_all, robust=True)
    return messages


# After a failed publish this process stops trying for a while: each try against a dead broker costs
# a connection timeout, and the sweeper re-sends whatever was skipped once the broker is back.
PUBLISH_BACKOFF_SECONDS = 15.0
_publish_paused_until = 0.0


def outbox_publish(*, outbox_id: int) -> bool:
    """Send the task message. A broker outage is logged and left to the sweeper, never raised."""
    global _publish_paused_until
    if time.monotonic() < _publish_paused_until:
        return False
    try:
        current_app.send_task(PROCESS_TASK, args=(outbox_id,), retry=False)
    except Exception as error:  # noqa: BLE001 - any broker failure means "the sweeper will re-send"
        _publish_paused_until = time.monotonic() + PUBLISH_BACKOFF_SECONDS
        log.warning("outbox %s not published (%s); the sweeper will re-send it", outbox_id, type(error).__name__)
        return False
    return True


def outbox_publish_resume() -> None:
    """Try the broker again at the next publish (used when the broker is known to be back)."""
    global _publish_paused_until
    _publish_paused_until = 0.0


def outbox_claim(*, outbox_id: int) -> bool:
    """Take the lease on one row. Exactly one worker wins while the lease holds."""
    now = timezone.now()
    claimed = (
        OutboxMessage.objects.filter(pk=outbox_id, processed_at__isnull=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS), attempts=F("attempts") + 1)
    )
    return claimed == 1


# A row that a sweep finds unclaimed is re-sent from the sweep after: its publish has had at least one
# whole sweep interval (OUTBOX_SWEEP_SECONDS) to be picked up. Rows carry no creation time to compare.
RESEND_AT_SWEEP = 2


def outbox_due(*, limit: int = 500) -> list[int]:
    """Rows to re-send: never claimed and seen by earlier sweeps, or whose lease has expired."""
    now = timezone.now()
    return list(
        OutboxMessage.objects.filter(processed_at__isnull=True)
        .filter(Q(claimed_until__isnull=True, sweeps__gte=RESEND_AT_SWEEP) | Q(claimed_until__lt=now))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def outbox_sweep() -> int:
    # Count this sweep on every waiting row first, so a row is re-sent from the sweep after the one
    # that first found it.
    OutboxMessage.objects.filter(processed_at__isnull=True, claimed_until__isnull=True).update(sweeps=F("sweeps") + 1)
    due = outbox_due()
    for outbox_id in due:
        outbox_publish(outbox_id=outbox_id)
    return len(due)


def outbox_mark_processed(*, outbox_id: int) -> None:
    OutboxMessage.objects.filter(pk=outbox_id).update(processed_at=day_start(), claimed_until=None)


def outbox_release(*, outbox_id: int, retry_at: datetime, error: str) -> None:
    """Give the row back, to be picked up again by the sweeper once ``retry_at`` passes."""
    OutboxMessage.objects.filter(pk=outbox_id).update(claimed_until=retry_at, last_error=error[:255])


def outbox_process(*, outbox_id: int) -> None:
    """Do one row's work, once, with the handler registered for its kind. A row whose lease another
    worker holds is left alone; a kind nobody handles is logged and left for an operator."""
    if not outbox_claim(outbox_id=outbox_id):
        return
    message = OutboxMessage.objects.get(pk=outbox_id)
    registration = registration_for(message.kind)
    if registration is None:
        log.error("outbox %s has an unknown kind %s", outbox_id, message.kind)
        return
    if registration.atomic:
        with transaction.atomic(durable=True):
            retry = registration.handler(message.target_id)
            if retry is None:
                outbox_mark_processed(outbox_id=outbox_id)
    else:
        retry = registration.handler(message.target_id)
        if retry is None:
            outbox_mark_processed(outbox_id=outbox_id)
    if retry is not None:
        outbox_release(outbox_id=outbox_id, retry_at=retry.at, error=retry.error)


def processed_purge(*, before: datetime, limit: int) -> int:
    """Delete up to ``limit`` rows processed before ``before`` (oldest first), so the table does not grow
    without end. A row still waiting is never deleted. How many were deleted."""
    ids = list(
        OutboxMessage.objects.filter(processed_at__lt=before).order_by("pk").values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return 0
    deleted, _ = OutboxMessage.objects.filter(pk__in=ids, processed_at__lt=before).delete()
    return deleted

"""Housekeeping in the nightly run: old processed outbox rows and old sent email records are deleted, in
batches; work still waiting and email not sent are never."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from core.timetrail import day_start
from lifecycle import schedule
from notify.models import Notification
from outbox.models import OutboxMessage

pytestmark = pytest.mark.django_db

S = Notification.State


def _outbox(n: int, *, processed_days_ago: int | None, created_days_ago: int = 200) -> OutboxMessage:
    today = timezone.localdate()
    return OutboxMessage.objects.create(
        kind="test_kind",
        target_id=n,
        created_at=day_start(today - timedelta(days=created_days_ago)),
        processed_at=None if processed_days_ago is None else day_start(today - timedelta(days=processed_days_ago)),
    )


def _email(n: int, state: str, *, days_ago: int) -> Notification:
    at = timezone.now() - timedelta(days=days_ago)
    return Notification.objects.create(
        recipient=f"person{n}@helpline.test",
        template="urgent_case",
        subject_kind="case",
        subject_id=n,
        state=state,
        created_at=at,
        sent_at=at if state == S.SENT else None,
    )


def test_only_old_processed_outbox_rows_are_deleted_in_batches(settings: Any) -> None:
    settings.OUTBOX_RETENTION_DAYS = 90
    settings.PURGE_BATCH_SIZE = 2
    old = [_outbox(n, processed_days_ago=120) for n in range(5)]
    recent = _outbox(10, processed_days_ago=30)
    boundary = _outbox(11, processed_days_ago=90)
    waiting = _outbox(12, processed_days_ago=None, created_days_ago=400)

    run = schedule.retention_apply()

    assert run is not None and run.outbox_purged == 5
    left = set(OutboxMessage.objects.values_list("pk", flat=True))
    assert left == {recent.pk, boundary.pk, waiting.pk}
    assert not left & {row.pk for row in old}


def test_only_old_sent_email_records_are_deleted(settings: Any) -> None:
    settings.EMAIL_RECORD_RETENTION_DAYS = 90
    settings.PURGE_BATCH_SIZE = 2
    old_sent = [_email(n, S.SENT, days_ago=100) for n in range(3)]
    kept = [
        _email(10, S.SENT, days_ago=20),
        _email(11, S.QUEUED, days_ago=300),
        _email(12, S.RETRYING, days_ago=300),
        _email(13, S.FAILED, days_ago=300),
    ]

    run = schedule.retention_apply()

    assert run is not None and run.emails_purged == 3
    assert set(Notification.objects.values_list("pk", flat=True)) == {email.pk for email in kept}
    assert not Notification.objects.filter(pk__in=[email.pk for email in old_sent]).exists()


def test_the_periods_are_settings(settings: Any) -> None:
    settings.OUTBOX_RETENTION_DAYS = 400
    settings.EMAIL_RECORD_RETENTION_DAYS = 400
    _outbox(1, processed_days_ago=120)
    _email(1, S.SENT, days_ago=100)

    run = schedule.retention_apply()

    assert run is not None and (run.outbox_purged, run.emails_purged) == (0, 0)
    assert OutboxMessage.objects.count() == 1 and Notification.objects.count() == 1

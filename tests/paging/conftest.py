"""Paging tests: the fake Notify (tests/fake_notify.py), a rota, and the outbox run as the worker would."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from accounts.models import User
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from rota.models import Shift
from tests.factories import staff_user
from tests.fake_notify import fake_notify  # noqa: F401 - the fixture


def shift_make(person: User, role: str, starts_at: datetime, ends_at: datetime, phone: str, **extra: Any) -> Shift:
    return Shift.objects.create(
        person=person,
        role=role,
        starts_at=starts_at,
        ends_at=ends_at,
        phone=phone,
        created_by=extra.pop("created_by", None) or staff_user("rota-keeper"),
        **extra,
    )


def run_outbox(*kinds: str) -> int:
    """What the worker does now: every row of ``kinds`` (all kinds when none) due now, until none is left."""
    done = 0
    for _ in range(10):
        due = OutboxMessage.objects.filter(processed_at__isnull=True).exclude(claimed_until__gt=timezone.now())
        if kinds:
            due = due.filter(kind__in=kinds)
        pending = list(due.order_by("pk").values_list("pk", flat=True))
        if not pending:
            return done
        for outbox_id in pending:
            outbox_process(outbox_id=outbox_id)
            done += 1
    return done

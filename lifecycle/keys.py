"""Custody keys' life (core.keystore): made, retired when replaced, destroyed once nothing needs them.

- **The open-cases key is replaced every backup-retention period** (``BACKUP_RETENTION_DAYS``). A daily beat
  task (``open_key_rotate``) makes a fresh open key when the current one is that old, retires the old one,
  re-wraps its data keys under the new one in batches, and destroys a retired open key once
  ``retired_on + BACKUP_RETENTION_DAYS`` has passed and no row names it: by then no kept backup was taken
  while it was in use, so no backup still needs it to open an open case, and destroying it makes every older
  backup's copy under it undecryptable by staff.
- **A key suspected of compromise** is replaced at once (``custody_key_replace``, driven by
  ``manage.py rewrap_custody_key``): a new key of its kind (a new open or held key, a new key for the same
  month), the old one retired, its data keys re-wrapped (lifecycle.rotation), and the old one destroyed as
  soon as no row names it. A run that was stopped is finished by the next daily task.

Destroying takes the key's row FOR UPDATE and checks that no report names it in that transaction; wrapping
holds the row FOR SHARE (core.keystore), so no data key is ever left under a destroyed key. The material is
destroyed after the commit, and again by the daily task should that have failed.

Every creation, retirement and destruction is an audit event with ids and dates only. Keys made on first use
(an epoch key when the first case of its month closes) are recorded by the daily task, with their day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent, Subject
from audit.trail import event_record
from core import keystore
from core.models import CustodyKey
from lifecycle import shredlog
from reports.models import Report
from triage.models import CaseKey

KEY_CREATED = "custody_key_created"
KEY_RETIRED = "custody_key_retired"
KEY_DESTROYED = "custody_key_destroyed"

# Why a key was replaced or destroyed, as the events say.
SCHEDULE = "schedule"
COMPROMISE = "compromise"

# Re-wrapping a replaced open key's data keys: batches per daily run (the rest continues the next day, well
# before the key may be destroyed).
REWRAP_BATCH_SIZE = 500
REWRAP_BATCHES_PER_RUN = 400


class KeyNotFound(Exception):
    """No custody key has this id."""


def _event(kind: str, record: CustodyKey, **detail: object) -> None:
    event_record(kind=kind, detail={"key_id": record.key_id, "key_kind": record.kind, **detail})


def _created_event(record: CustodyKey, *, why: str) -> None:
    _event(KEY_CREATED, record, created_on=record.created_on.isoformat(), why=why)


def replacement_of(key_id: str) -> str:
    """The key that takes a retired key's place: the newest live key of its kind (of its month, for an epoch)."""
    kind = keystore.kind_of(key_id)
    if kind == keystore.EPOCH:
        return keystore.epoch_key_id(keystore.epoch_month_end(key_id))
    return keystore.open_key_id() if kind == keystore.OPEN else keystore.held_key_id()


@transaction.atomic(durable=True)
def custody_key_replace(key_id: str, *, why: str) -> str:
    """Retire ``key_id`` and make the key that replaces it: a fresh open or held key, or another key for the
    same month. Nothing is wrapped under a retired key again. Returns the replacement's id; for a key that
    was retired already, the key in its place now (so a run that was stopped can go on)."""
    record = CustodyKey.objects.select_for_update().filter(key_id=key_id).first()
    if record is None:
        raise KeyNotFound(f"There is no custody key {key_id!r}")
    if record.destroyed_on is not None:
        raise keystore.KeyDestroyed(f"Custody key {key_id!r} was destroyed on {record.destroyed_on}")
    if record.retired_on is not None:
        return replacement_of(key_id)
    month_of = keystore.epoch_month_end(key_id) if record.kind == keystore.EPOCH else None
    new_id = keystore.fresh_key_id(record.kind, month_of)
    today = timezone.localdate()
    # Retired first, so that the new key is the newest live one from here on.
    record.retired_on = today
    record.save(update_fields=["retired_on"])
    keystore.wrapping_key(new_id)
    _created_event(CustodyKey.objects.get(key_id=new_id), why=why)
    _event(KEY_RETIRED, record, retired_on=today.isoformat(), replaced_by=new_id, why=why)
    return new_id


def custody_key_destroy_unused(key_id: str, *, why: str) -> bool:
    """Destroy a custody key if no report names it (True), or leave it (False). Recorded, with an audit
    event, in one transaction; the material goes once that has committed."""
    with transaction.atomic(durable=True):
        record = CustodyKey.objects.select_for_update().filter(key_id=key_id).first()
        if record is None and keystore.store().load(key_id) is None:
            raise KeyNotFound(f"There is no custody key {key_id!r}")
        if record is None:
            # Material made with no record of it (a record lost with a restore): recorded as it goes.
            record = CustodyKey.objects.create(
                key_id=key_id, kind=keystore.kind_of(key_id), created_on=timezone.localdate()
            )
        if record.destroyed_on is None:
            if (
                Report.objects.filter(custody_key_id=key_id).exists()
                or CaseKey.objects.filter(custody_key_id=key_id).exists()
            ):
                return False
            record.destroyed_on = timezone.localdate()
            record.save(update_fields=["destroyed_on"])
            _event(KEY_DESTROYED, record, destroyed_on=record.destroyed_on.isoformat(), why=why)
            # Outside the database too, before the commit: a restore re-applies it (lifecycle.restore).
            shredlog.append([shredlog.KeyEntry(key_id, record.destroyed_on)])
    keystore.store().destroy(key_id)
    return True


def custody_keys_record_creation() -> int:
    """An audit event for every custody key made on first use and not yet recorded (with the day it was
    made). Returns how many."""
    # Key events are about no subject: the subject index narrows the search to such events.
    events = AuditEvent.objects.filter(subject_kind=Subject.NONE, kind=KEY_CREATED)
    recorded = set(events.values_list("detail__key_id", flat=True).order_by())
    missing = CustodyKey.objects.exclude(key_id__in=recorded).order_by("created_on", "key_id")
    count = 0
    for record in missing:
        with transaction.atomic(durable=True):
            _created_event(record, why="first_use")
        count += 1
    return count


def destroyed_material_removed() -> int:
    """Destroy the material of keys recorded as destroyed that is still in the key store (a destruction whose
    file removal failed after its commit). Returns how many."""
    keys = keystore.store()
    destroyed = set(
        CustodyKey.objects.filter(key_id__in=keys.key_ids(), destroyed_on__isnull=False).values_list(
            "key_id", flat=True
        )
    )
    for key_id in destroyed:
        keys.destroy(key_id)
    return len(destroyed)


# --- the open-cases key, replaced every backup-retention period --------------------------------------------


def _retention() -> timedelta:
    return timedelta(days=settings.BACKUP_RETENTION_DAYS)


def open_key_due(today: date) -> str | None:
    """The current open-cases key if it is due for replacement (made a backup-retention period ago or more)."""
    live = CustodyKey.objects.filter(kind=keystore.OPEN, retired_on__isnull=True, destroyed_on__isnull=True)
    if not live.exists():
        return None
    current = keystore.open_key_id()
    made = live.filter(key_id=current).values_list("created_on", flat=True).first()
    return current if made is not None and made + _retention() <= today else None


@dataclass
class OpenKeyOutcome:
    replaced: str = ""
    replaced_by: str = ""
    rewrapped: int = 0
    unreadable: list[int] = field(default_factory=list)
    destroyed: list[str] = field(default_factory=list)
    recorded: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "replaced": self.replaced,
            "replaced_by": self.replaced_by,
            "rewrapped": self.rewrapped,
            "unreadable": len(self.unreadable),
            "destroyed": self.destroyed,
            "recorded": self.recorded,
        }


def retired_for_compromise(key_ids: list[str]) -> set[str]:
    """Of these keys, those retired because they may have leaked (their retirement event says so)."""
    events = AuditEvent.objects.filter(subject_kind=Subject.NONE, kind=KEY_RETIRED, detail__why=COMPROMISE)
    return set(events.filter(detail__key_id__in=key_ids).values_list("detail__key_id", flat=True).order_by())


def open_key_rotate(*, batches: int = REWRAP_BATCHES_PER_RUN, batch_size: int = REWRAP_BATCH_SIZE) -> OpenKeyOutcome:
    """The daily work: replace the open-cases key when it is due; re-wrap what retired keys still hold (up to
    ``batches`` batches: a replaced open-cases key, or a key replaced after a suspected compromise whose
    rewrap_custody_key run did not finish); destroy a retired key that nothing names once its time has come
    (a replaced open-cases key a backup-retention period after, a compromised key at once); and record keys
    made on first use. Idempotent: a second run the same day finds nothing more to do."""
    from lifecycle.rotation import CustodyRewrap, run_batches

    outcome = OpenKeyOutcome()
    today = timezone.localdate()
    due = open_key_due(today)
    if due is not None:
        outcome.replaced = due
        outcome.replaced_by = custody_key_replace(due, why=SCHEDULE)
    retired = list(
        CustodyKey.objects.filter(retired_on__isnull=False, destroyed_on__isnull=True).order_by("retired_on", "key_id")
    )
    compromised = retired_for_compromise([record.key_id for record in retired])
    left = batches
    for record in retired:
        if left <= 0:
            break
        run = run_batches(CustodyRewrap(record.key_id), batch_size=batch_size, max_batches=left, passes=1)
        outcome.rewrapped += run.done
        outcome.unreadable += run.unreadable
        left -= run.batches
    for record in retired:
        if record.retired_on is None:
            continue
        why = COMPROMISE if record.key_id in compromised else SCHEDULE
        due_on: date = record.retired_on if why == COMPROMISE else record.retired_on + _retention()
        if due_on <= today and custody_key_destroy_unused(record.key_id, why=why):
            outcome.destroyed.append(record.key_id)
    outcome.recorded = custody_keys_record_creation()
    destroyed_material_removed()
    return outcome


@shared_task(name="lifecycle.keys.open_key_rotate")
def open_key_rotate_task() -> dict[str, object]:
    """The beat's daily run of open_key_rotate (workers only: they hold the custody keys)."""
    return open_key_rotate().as_dict()

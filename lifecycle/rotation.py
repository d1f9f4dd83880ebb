"""Key rotation while the service works: the helpline key pair, a custody key, the HMAC key.

Each rotation is a run of batches, one transaction each, over the rows that still need the old key, in id
order (keyset pagination). What is done is what the database says: a row moved is no longer selected, so a
run stopped anywhere (killed, or ``max_batches``) goes on where it stopped when started again, and a second
run finds nothing to do. A batch that fails part-way rolls back whole.

- **Helpline key pair** (``HelplineRotation``): re-seals the data keys still sealed to an older helpline key
  (reports not yet routed; a routed report's key sits under a custody key) to the configured public key,
  which must be the new one. Rows locked by routing are skipped (SKIP LOCKED): routing moves them to a
  custody key anyway, and whatever is left is taken by the next pass.
- **Custody key** (``CustodyRewrap``): re-wraps a retired custody key's data keys under the key that replaced
  it (lifecycle.keys), skipping locked rows the same way.
- **HMAC key** (``HmacRotation``): re-hashes organisation names, opened from the sealed content, under the
  current HMAC key. A batch takes whole organisations (every row with the same old hash, locked), so that
  pattern detection, which groups reports by hash, never sees one organisation split by the rotation. A
  report whose content was destroyed takes its organisation's new hash from one that can still be opened.

The reporter's access-code wrap is never touched: it opens the same data key before and after.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import nacl.exceptions
from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from core import crypto, keystore
from core.models import CustodyKey
from reports.models import Report
from triage.models import CaseKey

BATCH_SIZE = 500
# Passes over the rows: a later pass takes the rows an earlier one found locked.
PASSES = 3
PAUSE_SECONDS = 2.0


def _rows_update(rows: list[Report], columns: dict[str, str]) -> None:
    """Write ``columns`` (name: PostgreSQL type) of ``rows`` in one statement: an UPDATE from arrays, many times
    quicker than bulk_update's CASE per row. The names are this module's own."""
    if not rows:
        return
    table = Report._meta.db_table
    names = list(columns)
    assignments = ", ".join(f"{name} = v.{name}" for name in names)
    arrays = ", ".join(f"%s::{columns[name]}[]" for name in names)
    sql = (
        f"UPDATE {table} AS r SET {assignments} "  # noqa: S608 - table and column names are ours
        f"FROM unnest(%s::bigint[], {arrays}) AS v(id, {', '.join(names)}) WHERE r.id = v.id"
    )
    values: list[list[Any]] = [[row.pk for row in rows]]
    values += [[getattr(row, name) for row in rows] for name in names]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)


class RotationRefused(Exception):
    """The rotation cannot start as configured (the message says what to change)."""


@dataclass
class Batch:
    """What one batch did: rows moved, rows it could not open (ids: left as they were), and where the next
    batch starts (None when there was nothing left after ``after``)."""

    done: int = 0
    unreadable: list[int] = field(default_factory=list)
    cursor: Any = None
    # Destroyed reports given their organisation's new hash (HmacRotation): not counted in ``done``.
    stubs: int = 0


class Rotation(Protocol):
    description: str

    def pending(self) -> int:
        """Rows that still need the old key and that this rotation can move."""
        ...

    def batch(self, *, after: Any, size: int) -> Batch: ...


@dataclass
class Run:
    done: int = 0
    batches: int = 0
    unreadable: list[int] = field(default_factory=list)
    stopped: bool = False  # max_batches reached before the end
    remaining: int = 0  # rows still needing the old key when the run ended (busy or unreadable ones)


def run_batches(
    rotation: Rotation,
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int | None = None,
    passes: int = PASSES,
    pause_seconds: float = PAUSE_SECONDS,
    on_batch: Callable[[Batch], None] | None = None,
) -> Run:
    """Run ``rotation``'s batches until nothing is left, ``max_batches`` have run, or ``passes`` passes left
    only rows that were busy (locked) or cannot be opened."""
    run = Run()
    unreadable: set[int] = set()
    for number in range(passes):
        if number:
            time.sleep(pause_seconds)  # let the transactions that held rows finish
        after: Any = None
        while True:
            if max_batches is not None and run.batches >= max_batches:
                run.stopped = True
                run.unreadable = sorted(unreadable)
                run.remaining = rotation.pending()
                return run
            batch = rotation.batch(after=after, size=batch_size)
            if batch.cursor is None:
                break
            run.batches += 1
            run.done += batch.done
            unreadable.update(batch.unreadable)
            after = batch.cursor
            if on_batch is not None:
                on_batch(batch)
        run.remaining = rotation.pending()
        if run.remaining <= len(unreadable):
            break
    run.unreadable = sorted(unreadable)
    return run


# --- the helpline key pair ------------------------------------------------------------------------------


class HelplineRotation:
    """Re-seal every helpline-sealed data key to the key pair ``to_key_id`` (the configured public key)."""

    def __init__(self, to_key_id: str) -> None:
        self.to_key_id = to_key_id
        self.description = f"Re-sealing to helpline key {to_key_id}"

    def check(self) -> None:
        """Refuse unless new reports already go to the new key and this process can open what it seals."""
        ring = crypto.keyring()
        if ring.public_key_id != self.to_key_id:
            raise RotationRefused(
                f"HELPLINE_PUBLIC_KEY is key {ring.public_key_id!r}, not {self.to_key_id!r}: configure the new "
                "public key everywhere first (the public service too), so that new reports are sealed to it."
            )
        if self.to_key_id not in ring.private_keys:
            raise RotationRefused(
                f"HELPLINE_PRIVATE_KEYS has no private key {self.to_key_id!r}: add it (keeping the old ones) first."
            )
        probe = crypto.new_data_key()
        _, sealed = crypto.seal_key_for_helpline(probe)
        try:
            opened = crypto.open_key_as_helpline(self.to_key_id, sealed)
        except nacl.exceptions.CryptoError:
            opened = b""
        if opened != probe:
            raise RotationRefused(
                f"The private key {self.to_key_id!r} does not open what the public key seals: they are not a pair."
            )

    def _rows(self) -> QuerySet[Report]:
        return Report.objects.exclude(helpline_key_id="").exclude(helpline_key_id=self.to_key_id)

    def pending(self) -> int:
        return self._rows().count()

    def batch(self, *, after: Any, size: int) -> Batch:
        return helpline_rotate_batch(to_key_id=self.to_key_id, after=after or 0, size=size)


@transaction.atomic(durable=True)
def helpline_rotate_batch(*, to_key_id: str, after: int, size: int) -> Batch:
    """One batch: up to ``size`` reports after id ``after`` whose data key is sealed to another helpline key,
    re-sealed to ``to_key_id``. Rows another transaction holds (routing) are skipped."""
    rows = list(
        Report.objects.select_for_update(skip_locked=True, of=("self",))
        .exclude(helpline_key_id="")
        .exclude(helpline_key_id=to_key_id)
        .filter(pk__gt=after)
        .order_by("pk")
        .only("pk", "helpline_key_id", "helpline_sealed_key")[:size]
    )
    batch = Batch(cursor=rows[-1].pk if rows else None)
    moved = []
    for row in rows:
        try:
            data_key = crypto.open_key_as_helpline(row.helpline_key_id, bytes(row.helpline_sealed_key))
        except (crypto.KeyUnavailable, nacl.exceptions.CryptoError):
            batch.unreadable.append(row.pk)
            continue
        key_id, sealed = crypto.seal_key_for_helpline(data_key)
        if key_id != to_key_id:
            raise RotationRefused(f"The configured public key changed to {key_id!r} during the rotation")
        row.helpline_key_id, row.helpline_sealed_key = key_id, sealed
        moved.append(row)
    _rows_update(moved, {"helpline_key_id": "text", "helpline_sealed_key": "bytea"})
    batch.done = len(moved)
    return batch


# --- a custody key --------------------------------------------------------------------------------------


class CustodyRewrap:
    """Re-wrap the data keys under the retired custody key ``from_key_id`` under the key that replaced it."""

    def __init__(self, from_key_id: str) -> None:
        self.from_key_id = from_key_id
        self.description = f"Re-wrapping custody key {from_key_id}"

    def pending(self) -> int:
        return (
            Report.objects.filter(custody_key_id=self.from_key_id).count()
            + CaseKey.objects.filter(custody_key_id=self.from_key_id).count()
        )

    def batch(self, *, after: Any, size: int) -> Batch:
        return custody_rewrap_batch(from_key_id=self.from_key_id, after=after or 0, size=size)


@transaction.atomic(durable=True)
def custody_rewrap_batch(*, from_key_id: str, after: int, size: int) -> Batch:
    """One batch: up to ``size`` reports after id ``after`` whose data key is under ``from_key_id`` (a retired
    key), re-wrapped under the key in its place now. Rows another transaction holds are skipped."""
    from lifecycle.keys import replacement_of

    record = CustodyKey.objects.filter(key_id=from_key_id).first()
    if record is None or record.retired_on is None:
        raise RotationRefused(f"Custody key {from_key_id!r} is not retired: replace it first")
    target = replacement_of(from_key_id)
    if target == from_key_id:
        raise RotationRefused(f"No key has replaced custody key {from_key_id!r}")
    rows = list(
        Report.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(custody_key_id=from_key_id, pk__gt=after)
        .order_by("pk")
        .only("pk", "custody_key_id", "custody_wrapped_key")[:size]
    )
    batch = Batch(cursor=rows[-1].pk if rows else None)
    if not rows:
        # The reports are done: the few national review cases' own keys (triage.models.CaseKey) last.
        case_keys_rewrap(from_key_id=from_key_id, target=target, batch=batch)
        return batch
    old = keystore.load(from_key_id)
    new = keystore.wrapping_key(target)
    moved = []
    for row in rows:
        try:
            data_key = crypto.open_key_with(old, bytes(row.custody_wrapped_key))
        except nacl.exceptions.CryptoError:
            batch.unreadable.append(row.pk)
            continue
        row.custody_key_id, row.custody_wrapped_key = target, crypto.seal_key_with(new, data_key)
        moved.append(row)
    _rows_update(moved, {"custody_key_id": "text", "custody_wrapped_key": "bytea"})
    batch.done = len(moved)
    return batch


def case_keys_rewrap(*, from_key_id: str, target: str, batch: Batch) -> None:
    """Re-wrap every review case's own data key under ``from_key_id`` under ``target``, in the caller's
    transaction (there are a few: one per pattern alert turned into a case)."""
    keys = list(CaseKey.objects.select_for_update(skip_locked=True).filter(custody_key_id=from_key_id))
    if not keys:
        return
    old = keystore.load(from_key_id)
    new = keystore.wrapping_key(target)
    for key in keys:
        try:
            data_key = crypto.open_key_with(old, bytes(key.custody_wrapped_key))
        except nacl.exceptions.CryptoError:
            continue
        key.custody_key_id, key.custody_wrapped_key = target, crypto.seal_key_with(new, data_key)
        key.save(update_fields=["custody_key_id", "custody_wrapped_key"])
        batch.done += 1


# --- the HMAC key -----------------------------------------------------------------------------------------


class HmacRotation:
    """Re-hash every organisation hash made with another HMAC key under ``to_key_id`` (the current one)."""

    def __init__(self, to_key_id: str) -> None:
        self.to_key_id = to_key_id
        self.description = f"Re-hashing organisations under HMAC key {to_key_id}"

    def check(self) -> None:
        current = crypto.hmac_key_id()
        if current != self.to_key_id:
            raise RotationRefused(
                f"New hashes are made with HMAC key {current!r}, not {self.to_key_id!r}: put the new key first in "
                "HELPLINE_HMAC_KEYS everywhere (the public service too), keeping the old one after it."
            )

    def _live(self) -> QuerySet[Report]:
        # Destroyed reports cannot be opened: they follow their organisation's other reports (hmac_rotate_batch).
        return hmac_pending(self.to_key_id).filter(content_destroyed_on__isnull=True)

    def pending(self) -> int:
        return self._live().count()

    def batch(self, *, after: Any, size: int) -> Batch:
        return hmac_rotate_batch(to_key_id=self.to_key_id, after=after, size=size)


def hmac_pending(to_key_id: str) -> QuerySet[Report]:
    """Reports whose organisation hash was made with another HMAC key than ``to_key_id``."""
    return Report.objects.exclude(organisation_hash="").exclude(organisation_hash_key_id=to_key_id)


def _organisation_name(report: Report) -> str | None:
    """The organisation the report names ("" for none), or None when its content cannot be opened here."""
    try:
        content = crypto.open_content(keystore.data_key_of(report), bytes(report.content))
    except (crypto.KeyUnavailable, nacl.exceptions.CryptoError, ValueError):
        return None
    return str(content.get("organisation_name", "") or "")


@transaction.atomic(durable=True)
def hmac_rotate_batch(*, to_key_id: str, after: tuple[str, str] | None, size: int) -> Batch:
    """One batch: whole organisations (old key id and hash) after ``after``, about ``size`` reports in all,
    each report re-hashed from the organisation name in its own sealed content."""
    groups = (
        hmac_pending(to_key_id)
        .filter(content_destroyed_on__isnull=True)
        .values_list("organisation_hash_key_id", "organisation_hash")
        .annotate(reports=Count("id"))
        .order_by("organisation_hash_key_id", "organisation_hash")
    )
    if after is not None:
        key_id, digest = after
        groups = groups.filter(
            Q(organisation_hash_key_id__gt=key_id) | Q(organisation_hash_key_id=key_id, organisation_hash__gt=digest)
        )
    chosen: list[tuple[str, str]] = []
    total = 0
    for key_id, digest, reports in groups.iterator():
        if chosen and total + reports > size:
            break
        chosen.append((key_id, digest))
        total += reports
    batch = Batch(cursor=chosen[-1] if chosen else None)
    if not chosen:
        return batch
    wanted = set(chosen)
    rows = (
        hmac_pending(to_key_id)
        .filter(organisation_hash__in={digest for _, digest in chosen})
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    by_group: dict[tuple[str, str], list[Report]] = {}
    for row in rows:
        group = (row.organisation_hash_key_id, row.organisation_hash)
        if group in wanted:
            by_group.setdefault(group, []).append(row)
    moved: list[Report] = []
    stubs: list[Report] = []
    for members in by_group.values():
        new_hashes: Counter[str] = Counter()
        destroyed = []
        for row in members:
            if row.content_destroyed_on is not None:
                destroyed.append(row)
                continue
            name = _organisation_name(row)
            if name is None:
                batch.unreadable.append(row.pk)
                continue
            row.organisation_hash = crypto.organisation_hash(name, to_key_id) if name.strip() else ""
            row.organisation_hash_key_id = to_key_id if name.strip() else ""
            if row.organisation_hash:
                new_hashes[row.organisation_hash] += 1
            moved.append(row)
        if new_hashes:
            # What the organisation's other reports now carry: the stub still counts with them.
            common = new_hashes.most_common(1)[0][0]
            for row in destroyed:
                row.organisation_hash, row.organisation_hash_key_id = common, to_key_id
                stubs.append(row)
    _rows_update(moved + stubs, {"organisation_hash": "text", "organisation_hash_key_id": "text"})
    batch.done, batch.stubs = len(moved), len(stubs)
    return batch

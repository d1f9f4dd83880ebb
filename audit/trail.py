"""Writing and checking the audit trail: every action, every sign-in and every view of case content.

One chain for the whole table. Each row's hash covers the previous row's hash and the row's own fields,
so a removed, inserted or altered row breaks the chain at that point.

A plain hash only shows accidents, though: whoever can switch the trigger off can edit a row and recompute
every later hash. So rows are now MACed (chain_version 3): the hash is an HMAC-SHA256 under AUDIT_MAC_KEY,
which the database does not hold. Rows written before keep their plain hashes (versions 1 and 2) and the
first keyed row links to the last of them, so the old chain carries over.

That legacy chain ends at its carry-over point (audit.identity): recorded by migration 0003 and signed by the
first checkpoint. An unkeyed row after it, or any unkeyed row in a trail that never had legacy rows, can only
be a forgery: someone without the key rewriting rows, possibly every row from the first, so that no keyed
row is left to show the step back.

What the chain cannot show is a missing tail: deleting the newest rows leaves a shorter, intact chain.
Signed checkpoints of the head (audit.checkpoints) close that gap.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from audit import keys, staging
from audit.identity import CarryOver, trail_identity
from audit.models import AuditEvent, Subject

GENESIS_HASH = "0" * 64
# Writers take this lock just before they commit and hold it through the commit, so rows are chained in
# commit order (audit.staging).
_CHAIN_LOCK = 0x4353_4541  # "CSEA"
# 1: carried over from the case-only trail; 2: plain SHA-256 over every field; 3: the same payload, MACed.
UNKEYED_VERSIONS = (1, 2)
KEYED_VERSION = 3
CURRENT_VERSION = KEYED_VERSION
OUTSIDE_CARRY_OVER = "unkeyed row outside the carried-over legacy chain (rewritten without the key?)"


# The fields each row's hash covers, besides the hash itself.
HASHED_FIELDS = (
    "chain_version",
    "previous_hash",
    "subject_kind",
    "subject_id",
    "actor_id",
    "kind",
    "detail",
    "created_at",
)


def _payload(row: Mapping[str, Any]) -> bytes:
    """The canonical bytes a row's hash covers: JSON of its fields, the version first."""
    created_at = row["created_at"].isoformat()
    if row["chain_version"] == 1:
        # Rows carried over from the case-only trail keep the hash they were written with.
        case_id = row["subject_id"] if row["subject_kind"] == Subject.CASE else None
        fields: list[object] = [row["previous_hash"], case_id, row["actor_id"], row["kind"], row["detail"], created_at]
    else:
        fields = [row[name] for name in HASHED_FIELDS[:-1]] + [created_at]
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _plain_hash(row: Mapping[str, Any]) -> str:
    """How versions 1 and 2 were chained: anyone can recompute it."""
    return hashlib.sha256(_payload(row)).hexdigest()


def _row_mac(row: Mapping[str, Any], key: bytes) -> str:
    """How version 3 is chained: only a holder of AUDIT_MAC_KEY can compute it."""
    return hmac.new(key, _payload(row), hashlib.sha256).hexdigest()


def event_record(
    *,
    kind: str,
    subject: tuple[str, int] | None = None,
    actor: AbstractBaseUser | None = None,
    detail: dict[str, object] | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Append one event about ``subject`` (a kind from audit.models.Subject and an id), or about nothing
    in particular. ``detail`` holds codes and ids only, never anything a person wrote. ``at`` is the time
    to record, now by default; a caller recording what a reporter caused passes the day only (the trail
    is ordered by id, so events of one day keep their order).

    Inside a larger transaction the event is chained just before that transaction commits (audit.staging):
    until then the returned event has no id, and the chain's lock is not held.

    Without the MAC key (production misconfigured) this raises ImproperlyConfigured and the caller's
    transaction rolls back: an action that cannot be audited does not happen."""
    # One atomic block (events_record's), as before: outermost in autocommit, so chained at once there.
    return events_record([EventWritten(kind=kind, subject=subject, actor=actor, detail=detail, at=at)])[0]


@dataclass(frozen=True)
class EventWritten:
    """One event for events_record: as event_record's arguments."""

    kind: str
    subject: tuple[str, int] | None = None
    actor: AbstractBaseUser | None = None
    detail: dict[str, object] | None = None
    at: datetime | None = None


@transaction.atomic
def events_record(written: Sequence[EventWritten]) -> list[AuditEvent]:
    """event_record for many events at once (a bulk action's, one per case): staged together in one block,
    without a savepoint each, so they join the chain in one batch at the commit (one insert however many)."""
    key = keys.mac_key()  # now, so a missing key fails here, in the caller, and never at the commit
    now = timezone.now()
    staged = []
    for one in written:
        subject_kind, subject_id = one.subject if one.subject else (Subject.NONE, None)
        event = AuditEvent(
            chain_version=CURRENT_VERSION,
            subject_kind=subject_kind,
            subject_id=subject_id,
            actor_id=one.actor.pk if one.actor else None,
            kind=one.kind,
            detail=one.detail or {},
            created_at=one.at or now,
        )
        staged.append(staging.StagedEvent(event, key))
    connection = transaction.get_connection()
    if not staged:
        return []
    if staging.application_outermost(connection):
        chain_events(connection, staged)  # nothing else follows in this transaction: its commit is next
    else:
        for one_staged in staged:
            staging.stage(connection, one_staged)
    return [one_staged.event for one_staged in staged]


def chain_events(connection: BaseDatabaseWrapper, waiting: list[staging.StagedEvent]) -> None:
    """Link ``waiting`` to the head and insert them, under the chain's lock, which the transaction then holds
    until it commits: so rows are chained in commit order, and every id below a visible head is final.

    The head is read by a statement of its own after the lock is granted: under READ COMMITTED it then sees
    every row committed before, where one statement would have taken its snapshot before waiting."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        cursor.execute("SELECT row_hash FROM audit_event ORDER BY id DESC LIMIT 1")
        head = cursor.fetchone()
        previous = str(head[0]) if head else GENESIS_HASH
        values: list[Any] = []
        for staged in waiting:
            event = staged.event
            event.previous_hash = previous
            event.row_hash = previous = _row_mac(_fields(event), staged.key)
            values += [
                *(getattr(event, name) for name in _COLUMNS[:-3]),
                json.dumps(event.detail),
                event.previous_hash,
                event.row_hash,
            ]
        rows = ", ".join(["(%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)"] * len(waiting))
        cursor.execute(
            f"INSERT INTO audit_event ({', '.join(_COLUMNS)}) VALUES {rows} RETURNING id",  # noqa: S608 - constants only
            values,
        )
        ids = [row[0] for row in cursor.fetchall()]
    for staged, event_id in zip(waiting, ids, strict=True):
        staged.event.pk = event_id
        staged.event._state.adding = False
        staged.event._state.db = connection.alias
        staged.chained = True


# The columns chain_events inserts, detail and the two hashes last.
_COLUMNS = (
    "chain_version",
    "subject_kind",
    "subject_id",
    "actor_id",
    "kind",
    "created_at",
    "detail",
    "previous_hash",
    "row_hash",
)


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in HASHED_FIELDS}


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def _carried_subject_holds(row: Mapping[str, Any]) -> bool:
    """A carried-over row's hash covers a case subject but no other: any other subject must be exactly the
    one the migration derived from the row's (hashed) kind and detail, so it cannot be changed or cleared."""
    if row["subject_kind"] == Subject.CASE:
        return True
    detail = row["detail"]
    if row["kind"] == "report_taken_by_phone" and "report_id" in detail:
        expected: tuple[str, object] = (Subject.REPORT, detail["report_id"])
    else:
        expected = (Subject.NONE, None)
    return (row["subject_kind"], row["subject_id"]) == expected


def audit_verify() -> list[ChainBreak]:
    """Walk the chain; report every row whose hash or link does not hold, and every unkeyed row outside the
    carried-over legacy chain.

    The MAC key is read at the first keyed row only, so a trail that has none verifies without it. Whether
    the carry-over point itself is the one the first checkpoint signed is audit.checkpoints' to check."""
    identity = trail_identity()
    carry_over = identity.carry_over if identity else None
    breaks: list[ChainBreak] = []
    previous = GENESIS_HASH
    key: bytes | None = None
    carry_over_seen = False
    for row in AuditEvent.objects.order_by("id").values("id", "row_hash", *HASHED_FIELDS).iterator():
        if row["previous_hash"] != previous:
            breaks.append(ChainBreak(row["id"], "link to the previous row is broken (a row removed?)"))
        previous = row["row_hash"]
        version = row["chain_version"]
        if version == KEYED_VERSION:
            key = key or keys.mac_key()
            holds = hmac.compare_digest(_row_mac(row, key), row["row_hash"])
        elif version in UNKEYED_VERSIONS and not carried_over(row["id"], carry_over):
            breaks.append(ChainBreak(row["id"], OUTSIDE_CARRY_OVER))
            continue
        elif version in UNKEYED_VERSIONS:
            holds = _plain_hash(row) == row["row_hash"]
        else:
            holds = False
        if not holds:
            breaks.append(ChainBreak(row["id"], "row contents do not match its hash (altered?)"))
        elif version == 1 and not _carried_subject_holds(row):
            breaks.append(ChainBreak(row["id"], "row subject does not match its hash (altered?)"))
        if carry_over and row["id"] == carry_over.event_id:
            carry_over_seen = True
            if row["row_hash"] != carry_over.row_hash:
                breaks.append(
                    ChainBreak(row["id"], "the legacy chain's head differs from its recorded carry-over point")
                )
    if carry_over and not carry_over_seen:
        breaks.append(ChainBreak(carry_over.event_id, "the legacy chain's head (its carry-over point) is missing"))
    return breaks


def carried_over(event_id: int, carry_over: CarryOver | None) -> bool:
    """Whether an unkeyed row may be there: only up to the legacy chain's recorded head."""
    return carry_over is not None and event_id <= carry_over.event_id

"""The trail's identity and its carry-over point: the one row of ``audit_trail`` (migration 0003).

Checkpoints name the trail they belong to by ``trail_id``, so a sink is only ever matched against this trail,
never another database's (or an earlier incarnation of this one). The id lives in its own table, written
once by the migration, so emptying audit_event does not reset it; if the row is gone, or names another trail,
while the sink holds checkpoints of this database, that is a break (audit.checkpoints).

The carry-over point is the head of the unkeyed (version 1 and 2) chain the keyed chain continues, or None
for a trail that never had unkeyed events. Without it, a trail rewritten as unkeyed from its first event
would verify: nothing would say a keyed chain had ever existed. The migration records it; the first
checkpoint signs it; audit.trail refuses every unkeyed event after it.

The table has no Django model on purpose: Django's test flush empties every model's table, and the trail's
identity must survive that as it survives a TRUNCATE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection


@dataclass(frozen=True)
class CarryOver:
    """The last unkeyed event of the legacy chain."""

    event_id: int
    row_hash: str


@dataclass(frozen=True)
class TrailIdentity:
    trail_id: str
    carry_over: CarryOver | None
    first_seen_at: datetime | None  # when the checkpointer first saw events; None until it has


def trail_identity() -> TrailIdentity | None:
    """The trail's record, or None if it is missing (removed by someone who could bypass its triggers)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT trail_id::text, carry_over_event_id, carry_over_hash, first_seen_at FROM audit_trail")
        row = cursor.fetchone()
    if row is None:
        return None
    trail_id, carry_id, carry_hash, first_seen_at = row
    carry_over = CarryOver(int(carry_id), str(carry_hash)) if carry_id is not None else None
    return TrailIdentity(trail_id=str(trail_id), carry_over=carry_over, first_seen_at=first_seen_at)


def trail_mark_seen(at: datetime) -> None:
    """The checkpointer saw events: note when, once (the table's trigger allows this one change)."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_trail SET first_seen_at = %s WHERE first_seen_at IS NULL", [at])

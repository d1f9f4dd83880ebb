"""The append-only, hash-chained audit trail of every action and every view of case content."""

import hashlib
import json
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from triage.models import Case, CaseEvent

GENESIS_HASH = "0" * 64
# One chain for the whole table: writers take this lock for the rest of their transaction.
_CHAIN_LOCK = 0x4353_4541  # "CSEA"


def _row_hash(
    *,
    previous_hash: str,
    case_id: int | None,
    actor_id: int | None,
    kind: str,
    detail: dict[str, object],
    created_at: str,
) -> str:
    payload = json.dumps(
        [previous_hash, case_id, actor_id, kind, detail, created_at], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@transaction.atomic
def event_record(
    *, kind: str, case: Case | None = None, actor: User | None = None, detail: dict[str, object] | None = None
) -> CaseEvent:
    """Append one event. ``detail`` holds codes and ids only, never anything a person wrote."""
    detail = detail or {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    last = CaseEvent.objects.order_by("-id").values_list("row_hash", flat=True).first()
    previous = last or GENESIS_HASH
    created_at = timezone.now()
    row_hash = _row_hash(
        previous_hash=previous,
        case_id=case.pk if case else None,
        actor_id=actor.pk if actor else None,
        kind=kind,
        detail=detail,
        created_at=created_at.isoformat(),
    )
    return CaseEvent.objects.create(
        case=case,
        actor=actor,
        kind=kind,
        detail=detail,
        created_at=created_at,
        previous_hash=previous,
        row_hash=row_hash,
    )


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def audit_verify() -> list[ChainBreak]:
    """Walk the chain; report every row whose hash or link does not hold."""
    breaks: list[ChainBreak] = []
    previous = GENESIS_HASH
    rows = CaseEvent.objects.order_by("id").values_list(
        "id", "case_id", "actor_id", "kind", "detail", "created_at", "previous_hash", "row_hash"
    )
    for event_id, case_id, actor_id, kind, detail, created_at, previous_hash, row_hash in rows.iterator():
        if previous_hash != previous:
            breaks.append(ChainBreak(event_id, "link to the previous row is broken (a row removed?)"))
        expected = _row_hash(
            previous_hash=previous_hash,
            case_id=case_id,
            actor_id=actor_id,
            kind=kind,
            detail=detail,
            created_at=created_at.isoformat(),
        )
        if expected != row_hash:
            breaks.append(ChainBreak(event_id, "row contents do not match its hash (altered?)"))
        previous = row_hash
    return breaks

"""Writing and checking the audit trail: every action, every sign-in and every view of case content.

One chain for the whole table. Each row's hash covers the previous row's hash and the row's own fields,
so a removed, inserted or altered row breaks the chain at that point.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent, Subject

GENESIS_HASH = "0" * 64
# Writers take this lock for the rest of their transaction, so rows are chained in commit order.
_CHAIN_LOCK = 0x4353_4541  # "CSEA"
CURRENT_VERSION = 2


def _row_hash(
    *,
    version: int,
    previous_hash: str,
    subject_kind: str,
    subject_id: int | None,
    actor_id: int | None,
    kind: str,
    detail: dict[str, object],
    created_at: str,
) -> str:
    if version == 1:
        # Rows carried over from the case-only trail keep the hash they were written with.
        case_id = subject_id if subject_kind == Subject.CASE else None
        fields: list[object] = [previous_hash, case_id, actor_id, kind, detail, created_at]
    else:
        fields = [version, previous_hash, subject_kind, subject_id, actor_id, kind, detail, created_at]
    payload = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@transaction.atomic
def event_record(
    *,
    kind: str,
    subject: tuple[str, int] | None = None,
    actor: AbstractBaseUser | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEvent:
    """Append one event about ``subject`` (a kind from audit.models.Subject and an id), or about nothing
    in particular. ``detail`` holds codes and ids only, never anything a person wrote."""
    detail = detail or {}
    subject_kind, subject_id = subject if subject else (Subject.NONE, None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
    previous = AuditEvent.objects.order_by("-id").values_list("row_hash", flat=True).first() or GENESIS_HASH
    created_at = timezone.now()
    actor_id = actor.pk if actor else None
    return AuditEvent.objects.create(
        subject_kind=subject_kind,
        subject_id=subject_id,
        actor_id=actor_id,
        kind=kind,
        detail=detail,
        created_at=created_at,
        chain_version=CURRENT_VERSION,
        previous_hash=previous,
        row_hash=_row_hash(
            version=CURRENT_VERSION,
            previous_hash=previous,
            subject_kind=subject_kind,
            subject_id=subject_id,
            actor_id=actor_id,
            kind=kind,
            detail=detail,
            created_at=created_at.isoformat(),
        ),
    )


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str


def _carried_subject_holds(subject_kind: str, subject_id: int | None, detail: dict[str, object]) -> bool:
    """A carried-over row's hash covers a case subject but not another kind: such a subject must be the
    one its (hashed) detail names, as the migration set it."""
    if subject_kind in (Subject.NONE, Subject.CASE):
        return True
    return detail.get(f"{subject_kind}_id") == subject_id


def audit_verify() -> list[ChainBreak]:
    """Walk the chain; report every row whose hash or link does not hold."""
    breaks: list[ChainBreak] = []
    previous = GENESIS_HASH
    rows = AuditEvent.objects.order_by("id").values_list(
        "id",
        "chain_version",
        "subject_kind",
        "subject_id",
        "actor_id",
        "kind",
        "detail",
        "created_at",
        "previous_hash",
        "row_hash",
    )
    for (
        event_id,
        version,
        subject_kind,
        subject_id,
        actor_id,
        kind,
        detail,
        created_at,
        previous_hash,
        row_hash,
    ) in rows.iterator():
        if previous_hash != previous:
            breaks.append(ChainBreak(event_id, "link to the previous row is broken (a row removed?)"))
        expected = _row_hash(
            version=version,
            previous_hash=previous_hash,
            subject_kind=subject_kind,
            subject_id=subject_id,
            actor_id=actor_id,
            kind=kind,
            detail=detail,
            created_at=created_at.isoformat(),
        )
        if expected != row_hash or version not in (1, CURRENT_VERSION):
            breaks.append(ChainBreak(event_id, "row contents do not match its hash (altered?)"))
        elif version == 1 and not _carried_subject_holds(subject_kind, subject_id, detail):
            breaks.append(ChainBreak(event_id, "row subject does not match its hash (altered?)"))
        previous = row_hash
    return breaks

"""Every audit test gets its own keys and checkpoint file, so none depends on var/ or on another test."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import pytest
from django.db import connection

from audit import keys
from audit.models import AuditEvent
from audit.trail import GENESIS_HASH, event_record

FIELDS = ("chain_version", "previous_hash", "subject_kind", "subject_id", "actor_id", "kind", "detail", "created_at")


@pytest.fixture(autouse=True)
def audit_keys(settings: Any, tmp_path: Any) -> dict[str, str]:
    material = keys.generate_key_material()
    settings.AUDIT_MAC_KEY = material["mac"]
    settings.AUDIT_SIGNING_KEY = material["signing"]
    settings.AUDIT_DEV_KEY_FILE = str(tmp_path / "dev-audit-keys.json")
    settings.AUDIT_CHECKPOINT_PATH = str(tmp_path / "checkpoints.jsonl")
    return material


def record(count: int, kind: str = "content_viewed") -> list[AuditEvent]:
    return [event_record(kind=kind, detail={"n": n}) for n in range(count)]


def payload(row: Mapping[str, Any]) -> bytes:
    """The canonical payload of a version 2 or 3 row, written out again here rather than imported, so the
    tests also pin the format: the version first, then every field, created_at as ISO 8601."""
    fields = [row[name] for name in FIELDS[:-1]] + [row["created_at"].isoformat()]
    return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode("utf-8")


def plain_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(payload(row)).hexdigest()


def mac(row: Mapping[str, Any], key_b64: str) -> str:
    return hmac.new(keys.decode_key("test", key_b64), payload(row), hashlib.sha256).hexdigest()


def superuser_sql(sql: str, params: list[object]) -> None:
    """What a database superuser can do: switch the triggers off for the transaction and change rows."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = 'replica'")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = 'origin'")


def rewrite_chain_from(
    first_id: int, changes: dict[str, Any], *, version: int, mac_key: str = "", last_id: int | None = None
) -> None:
    """Edit one event, then recompute the chain from it to the head (or to ``last_id``), as an attacker
    would: with plain SHA-256 (no key), or with the MAC key if they have stolen it."""
    previous = (
        AuditEvent.objects.filter(id__lt=first_id).order_by("-id").values_list("row_hash", flat=True).first()
        or GENESIS_HASH
    )
    rows = AuditEvent.objects.filter(id__gte=first_id).order_by("id").values("id", *FIELDS)
    if last_id is not None:
        rows = rows.filter(id__lte=last_id)
    for row in rows:
        if row["id"] == first_id:
            row.update(changes)
        row["chain_version"], row["previous_hash"] = version, previous
        row_hash = mac(row, mac_key) if mac_key else plain_hash(row)
        superuser_sql(
            "UPDATE audit_event SET detail = %s, chain_version = %s, previous_hash = %s, row_hash = %s WHERE id = %s",
            [json.dumps(row["detail"]), version, previous, row_hash, row["id"]],
        )
        previous = row_hash

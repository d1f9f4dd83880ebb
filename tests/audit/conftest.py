"""Every audit test gets its own keys and checkpoint file, so none depends on var/ or on another test."""

from __future__ import annotations

import hashlib
import hmac
import json
import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from audit import keys
from audit.models import AuditEvent
from audit.trail import GENESIS_HASH, event_record

MIGRATION_0003 = Path(__file__).resolve().parents[2] / "audit" / "migrations" / "0003_trail_record_and_alerts.py"
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


def insert_unkeyed(version: int, previous: str, kind: str, **fields: Any) -> AuditEvent:
    """A row as the unkeyed trail wrote it (or as a forger without the key would)."""
    row: dict[str, Any] = {
        "chain_version": version,
        "previous_hash": previous,
        "subject_kind": "",
        "subject_id": None,
        "actor_id": None,
        "kind": kind,
        "detail": {},
        "created_at": timezone.now(),
        **fields,
    }
    if version == 1:
        case_id = row["subject_id"] if row["subject_kind"] == "case" else None
        old = [previous, case_id, None, kind, row["detail"], row["created_at"].isoformat()]
        row_hash = hashlib.sha256(json.dumps(old, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    else:
        row_hash = plain_hash(row)
    return AuditEvent.objects.create(**row, row_hash=row_hash)


def superuser_sql(sql: str, params: list[object]) -> None:
    """What a database superuser can do: switch the triggers off for the transaction and change rows."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = 'replica'")
        cursor.execute(sql, params)
        cursor.execute("SET LOCAL session_replication_role = 'origin'")


def rewrite_chain_from(
    first_id: int,
    changes: dict[str, Any],
    *,
    version: int,
    mac_key: str = "",
    last_id: int | None = None,
    edit_id: int | None = None,
) -> None:
    """Edit one event (``first_id``, or ``edit_id`` further on), then recompute the chain from ``first_id`` to
    the head (or to ``last_id``), as an attacker would: with plain SHA-256 (no key), or with the MAC key if
    they have stolen it."""
    previous = (
        AuditEvent.objects.filter(id__lt=first_id).order_by("-id").values_list("row_hash", flat=True).first()
        or GENESIS_HASH
    )
    rows = AuditEvent.objects.filter(id__gte=first_id).order_by("id").values("id", *FIELDS)
    if last_id is not None:
        rows = rows.filter(id__lte=last_id)
    for row in rows:
        if row["id"] == (edit_id or first_id):
            row.update(changes)
        row["chain_version"], row["previous_hash"] = version, previous
        row_hash = mac(row, mac_key) if mac_key else plain_hash(row)
        superuser_sql(
            "UPDATE audit_event SET detail = %s, chain_version = %s, previous_hash = %s, row_hash = %s WHERE id = %s",
            [json.dumps(row["detail"]), version, previous, row_hash, row["id"]],
        )
        previous = row_hash


def carry_over_as_migrated() -> None:
    """Record the carry-over point as migration 0003 does on a database that already has unkeyed rows (the
    test database was migrated empty, so its record says "never had any"): with its own query, triggers off
    for this test's transaction only."""
    legacy_head = runpy.run_path(str(MIGRATION_0003))["LEGACY_HEAD"]
    update = "UPDATE audit_trail SET (carry_over_event_id, carry_over_hash) = (SELECT id, row_hash FROM ({}) AS h)"
    superuser_sql(update.format(legacy_head), [])


def superuser_truncate() -> None:
    """TRUNCATE audit_event as a superuser would, with the triggers off (the guard of migration 0002 too).

    The events were inserted in this test's own transaction, and PostgreSQL refuses TRUNCATE on a table with
    pending deferred foreign-key checks: run them first, as the commit before a real attack would have."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    superuser_sql("TRUNCATE audit_event", [])


def sink_lines(settings: Any) -> list[str]:
    return Path(settings.AUDIT_CHECKPOINT_PATH).read_text().splitlines()


def verify_fails(capsys: pytest.CaptureFixture[str]) -> str:
    """Run verify_audit, expect exit 1, return what it wrote to stderr."""
    capsys.readouterr()
    with pytest.raises(CommandError, match="broken"):
        call_command("verify_audit")
    return capsys.readouterr().err


def verify_passes(capsys: pytest.CaptureFixture[str]) -> str:
    """Run verify_audit, expect success, return what it wrote to stdout."""
    capsys.readouterr()
    call_command("verify_audit")
    return capsys.readouterr().out

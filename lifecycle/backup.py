"""Backups that restore: ``pg_dump`` of the database and a signed manifest of what it holds.

A backup is a directory of two files: ``database.dump`` (``pg_dump --format=custom``) and ``manifest.json``.
Attachments are rows (reports.AttachmentChunk: sealed chunks, never files on disk), so the dump holds them;
the manifest adds a SHA-256 of each attachment's sealed stream, so a restore can show every file came back
whole. The manifest also records the row count of every table, the audit chain's head and the trail's id,
the key ids rows name (never any key), the migrations applied, and each file's size and SHA-256; it is
signed with the service signing key (core.signing), which the staff tier holds and the audit checkpointer
does not need.

Every figure in the manifest is read in the very snapshot ``pg_dump`` dumps (an exported snapshot of a
repeatable-read transaction), so the counts and the head describe the dump exactly, however busy the
service is. The directory is written under a temporary name and renamed into place when complete: a
backup is whole, or absent.

What a backup never holds: private keys (the helpline's, the custody keys, the signing keys), which are
escrowed separately (docs/backup.md), and the shred log, which lives apart from backups so that a restore
can re-apply it (lifecycle.restore).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.checkpoints import chain_head
from audit.identity import trail_identity
from core import signing
from core.models import CustodyKey
from reports.models import Attachment, AttachmentChunk

FORMAT = "helpline-backup/1"
DUMP = "database.dump"
MANIFEST = "manifest.json"
# Columns naming the key a value was sealed, wrapped or hashed with, by what kind of key they name.
HELPLINE_KEY_COLUMN = "helpline_key_id"
CUSTODY_KEY_COLUMN = "custody_key_id"
_READ_SIZE = 1 << 20


class BackupRefused(Exception):
    """A backup that cannot be written, or one that must not be restored: the message says why, plainly."""


# --- what the database holds ----------------------------------------------------------------------------


def tables() -> list[str]:
    """The ordinary tables of the application's schema (materialized views are rebuilt from them, so they
    are not counted: a stale view would differ after the restore refreshes it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        )
        return [str(row[0]) for row in cursor.fetchall()]


def row_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    with connection.cursor() as cursor:
        for table in tables():
            cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - a catalog name, quoted
            counts[table] = int(cursor.fetchone()[0])
    return counts


def migrations_applied() -> list[list[str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
        return [[str(app), str(name)] for app, name in cursor.fetchall()]


def key_ids_in_use() -> dict[str, Any]:
    """The key ids rows name, by column (every ``*key_id`` text column of the schema, so a keyed hash that
    gains a key id later is listed too), grouped by kind, and the custody keys' records (ids and dates)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND column_name LIKE '%%key_id' AND data_type IN ('character varying', 'text')"
            " AND table_name <> %s ORDER BY table_name, column_name",
            [CustodyKey._meta.db_table],
        )
        columns = [(str(table), str(column)) for table, column in cursor.fetchall()]
        by_column: dict[str, list[str]] = {}
        for table, column in columns:
            quoted = connection.ops.quote_name(column)
            cursor.execute(
                f"SELECT DISTINCT {quoted} FROM {connection.ops.quote_name(table)}"  # noqa: S608 - catalog names, quoted
                f" WHERE {quoted} <> '' ORDER BY 1"
            )
            values = [str(row[0]) for row in cursor.fetchall()]
            if values:
                by_column[f"{table}.{column}"] = values

    def of_kind(match: str) -> list[str]:
        return sorted({value for name, values in by_column.items() if name.endswith(match) for value in values})

    custody_keys = [
        {
            "key_id": key.key_id,
            "kind": key.kind,
            "created_on": key.created_on.isoformat(),
            "retired_on": key.retired_on.isoformat() if key.retired_on else None,
            "destroyed_on": key.destroyed_on.isoformat() if key.destroyed_on else None,
        }
        for key in CustodyKey.objects.order_by("key_id")
    ]
    return {
        "helpline": of_kind(f".{HELPLINE_KEY_COLUMN}"),
        "custody": of_kind(f".{CUSTODY_KEY_COLUMN}"),
        "hmac": sorted(
            {value for name, values in by_column.items() if "hmac" in name or "hash_key" in name for value in values}
        ),
        "by_column": by_column,
        "custody_keys": custody_keys,
    }


def attachment_digests() -> dict[str, dict[str, Any]]:
    """For every attachment, the SHA-256 of its sealed stream: its header, then each chunk (generation,
    index, length and bytes) in order. A missing, reordered, cut or altered chunk changes it."""
    digests: dict[str, dict[str, Any]] = {}
    for attachment_id, header in Attachment.objects.order_by("id").values_list("id", "header").iterator(2000):
        digest = hashlib.sha256(b"header" + struct.pack(">Q", len(header)) + bytes(header))
        digests[str(attachment_id)] = {"chunks": 0, "sha256": digest}
    chunks = AttachmentChunk.objects.order_by("attachment_id", "generation", "index").values_list(
        "attachment_id", "generation", "index", "data"
    )
    for attachment_id, generation, index, data in chunks.iterator(200):
        entry = digests[str(attachment_id)]
        raw = bytes(data)
        entry["sha256"].update(struct.pack(">HIQ", generation, index, len(raw)) + raw)
        entry["chunks"] += 1
    return {key: {"chunks": entry["chunks"], "sha256": entry["sha256"].hexdigest()} for key, entry in digests.items()}


def audit_head() -> dict[str, Any]:
    head = chain_head()
    identity = trail_identity()
    return {
        "trail_id": identity.trail_id if identity else "",
        "last_event_id": head.last_event_id,
        "row_hash": head.row_hash,
        "event_count": head.event_count,
    }


def database_facts() -> dict[str, Any]:
    """What a manifest records of the database, and what a restore checks against it."""
    head = audit_head()
    return {
        "trail_id": head["trail_id"],
        "audit_head": head,
        "migrations": migrations_applied(),
        "row_counts": row_counts(),
        "keys": key_ids_in_use(),
        "attachments": attachment_digests(),
    }


# --- files ------------------------------------------------------------------------------------------------


def file_digest(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(_READ_SIZE):
            digest.update(block)
            size += len(block)
    return {"bytes": size, "sha256": digest.hexdigest()}


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def canonical(body: dict[str, Any]) -> bytes:
    """The bytes the manifest's signature covers: its JSON without the signature, keys sorted."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def libpq_env(password: str) -> dict[str, str]:
    """The environment for pg_dump and pg_restore: the password, if any, never on their command line."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
    if password:
        env["PGPASSWORD"] = password
    return env


def tool_version(tool: str) -> str:
    done = subprocess.run(  # noqa: S603 - PostgreSQL's own client tools
        [tool, "--version"], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


# --- writing a backup ---------------------------------------------------------------------------------------


def _owner_credentials() -> dict[str, str]:
    """pg_dump connects as the schema's owner (MIGRATION_DATABASE_URL), which reads every table whatever the
    runtime role is granted, to the database the service uses."""
    owner = settings.DATABASE_OWNER
    return {
        "host": str(owner["HOST"]),
        "port": str(owner["PORT"]),
        "user": str(owner["USER"]),
        "password": str(owner["PASSWORD"] or ""),
        "name": str(connection.settings_dict["NAME"]),
    }


def _pg_dump(path: Path, snapshot: str) -> None:
    db = _owner_credentials()
    args = ["pg_dump", "--format=custom", f"--snapshot={snapshot}", "--no-password", f"--file={path}"]
    args += ["--host", db["host"], "--port", db["port"], "--username", db["user"], "--dbname", db["name"]]
    env = libpq_env(db["password"])
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)  # noqa: S603 - pg_dump, our arguments
    if result.returncode != 0:
        raise BackupRefused(f"pg_dump failed: {result.stderr.strip()}")


def _new_directory(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BackupRefused(f"{out} already exists and is not empty: each backup goes into a new directory")


def backup_write(out: Path) -> dict[str, Any]:
    """Write a backup into the new directory ``out`` and return its manifest. The database is read in one
    snapshot, shared with pg_dump; nothing appears at ``out`` until every file is written and synced."""
    out = out.absolute()
    _new_directory(out)
    if connection.in_atomic_block:
        raise BackupRefused("A backup reads one snapshot of its own: run it outside any transaction")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        taken_at = timezone.now()
        with transaction.atomic(durable=True), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cursor.fetchone()
            facts = database_facts()
            _pg_dump(work / DUMP, str(snapshot))
        body: dict[str, Any] = {
            "format": FORMAT,
            "taken_at": taken_at.isoformat(),
            "keep_until": (timezone.localdate(taken_at) + timedelta(days=settings.BACKUP_RETENTION_DAYS)).isoformat(),
            "database": {"name": connection.settings_dict["NAME"], "server_version": str(server_version)},
            "pg_dump": tool_version("pg_dump"),
            **facts,
            "files": {DUMP: file_digest(work / DUMP)},
        }
        manifest = {**body, "signed": signing.sign(canonical(body))}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        for name in (DUMP, MANIFEST):
            _fsync(work / name)
        _fsync(work)
        if out.exists():
            out.rmdir()  # empty (checked above): rename needs the name free
        os.rename(work, out)
        _fsync(out.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


# --- reading one back -----------------------------------------------------------------------------------


def manifest_read(folder: Path) -> dict[str, Any]:
    """The backup's manifest, once its signature is shown to hold; BackupRefused otherwise."""
    path = folder / MANIFEST
    if not folder.is_dir():
        raise BackupRefused(f"{folder} is not a directory: give the backup's directory")
    if not path.is_file():
        raise BackupRefused(f"{folder} has no {MANIFEST}: it is not a backup, or not a complete one")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupRefused(f"{MANIFEST} cannot be read as JSON: it was cut short or altered") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused(f"{MANIFEST} is not a manifest of this service's backups (format {FORMAT})")
    signed = manifest.get("signed")
    body = {key: value for key, value in manifest.items() if key != "signed"}
    if not isinstance(signed, dict) or not signing.verify(canonical(body), signed):
        raise BackupRefused(
            f"{MANIFEST}'s signature does not hold: it was altered, or signed by a service key this process "
            "does not know (SERVICE_VERIFY_KEYS)"
        )
    return manifest


def files_check(folder: Path, manifest: dict[str, Any]) -> Iterator[str]:
    """Check every file the manifest lists, by size and SHA-256, before anything is restored; yields what
    was checked, raises BackupRefused on the first file that does not match."""
    files = manifest.get("files")
    if not isinstance(files, dict) or DUMP not in files:
        raise BackupRefused(f"{MANIFEST} lists no {DUMP}")
    for name, expected in sorted(files.items()):
        path = folder / name
        if Path(name).name != name:
            raise BackupRefused(f"{MANIFEST} names a file outside the backup: {name!r}")
        if not path.is_file():
            raise BackupRefused(f"{name} is missing from the backup")
        found = file_digest(path)
        if found["bytes"] != expected.get("bytes"):
            raise BackupRefused(
                f"{name} is {found['bytes']} bytes, but the manifest says {expected.get('bytes')}: the file was "
                "cut short or added to"
            )
        if found["sha256"] != expected.get("sha256"):
            raise BackupRefused(f"{name} does not match the SHA-256 its manifest records: the file was altered")
        yield f"{name}: {found['bytes']} bytes, SHA-256 as the manifest records"

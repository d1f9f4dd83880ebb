"""Restoring a backup (lifecycle.backup) into a new, empty database, and showing it came back whole.

In order, and stopping at the first thing that is wrong:

1. Before anything touches the target: the manifest's signature holds, every file has the size and SHA-256
   the manifest records, the shred log verifies, the backup's migrations are all known to this code, this
   process holds the helpline private keys the backup's reports name, and the target database is empty.
   A cut or altered backup is refused here, and the target is left as it was.
2. ``pg_restore --single-transaction --exit-on-error``: all of it, or nothing.
3. With the service's own code pointed at the target (``target_database``): the runtime role's grants; then
   the row count of every table, the audit chain's head and the trail's id, every attachment's sealed
   stream, the migrations, and a sample of reports opened with the configured keys, all against the
   manifest. If any differs, the target is emptied again: a restored database is whole and verified, or
   it is not there.
4. The shred log is re-applied (``shred_log_reapply``): every case destroyed since the backup is destroyed
   again, before the service ever starts on the database. Then every key the rows still name must be
   loadable (or recorded as destroyed), as the service checks when it starts.

The restored database keeps the trail's id, so the audit checkpoint sink still matches it. If the sink
recorded events after the backup's head, they are lost with the restore; the checkpointer records that as a
restore epoch (``manage.py audit_restore_epoch``), which the restore says when it is needed.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import nacl.exceptions
import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from audit.checkpoints import checkpoint_sink, latest_signed_head
from core import crypto, keystore
from core.models import CustodyKey
from core.roles import runtime_grants
from lifecycle import shredlog
from lifecycle.backup import DUMP, BackupRefused, database_facts, files_check, libpq_env, manifest_read
from lifecycle.shredding import CaseHeld, shred_family, shred_review_case
from reports.checks import missing_private_key_ids
from reports.models import Message, Report
from triage import retention
from triage.models import Case

SAMPLE_SIZE = 20
# The fields of a Django database setting that say which database, and as whom.
_CONNECTION_FIELDS = ("NAME", "USER", "PASSWORD", "HOST", "PORT")
Say = Callable[[str], None]


class RestoreFailed(Exception):
    """The restore stopped: the message says why, and what state the target was left in."""


# --- the target database ----------------------------------------------------------------------------------


def target_from_url(url: str) -> dict[str, str]:
    """The connection fields of a postgres:// URL (as DATABASE_URL is written)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"} or not parts.path.strip("/"):
        raise BackupRefused("--database-url must be a postgres:// URL naming the database to restore into")
    return {
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or "postgres"),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
    }


def _conninfo(target: dict[str, str]) -> str:
    return psycopg.conninfo.make_conninfo(
        host=target["HOST"],
        port=target["PORT"],
        user=target["USER"],
        password=target["PASSWORD"] or None,
        dbname=target["NAME"],
    )


@contextlib.contextmanager
def target_database(target: dict[str, str]) -> Iterator[None]:
    """Point this process's database connection at ``target`` for the block, so that the service's own code
    (shredding, the audit trail, the key checks) runs against the restored database and nothing else."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.in_atomic_block:
        raise RestoreFailed("The restore changes which database this process uses: run it outside any transaction")
    saved = {name: connection.settings_dict[name] for name in _CONNECTION_FIELDS}
    connection.close()
    connection.settings_dict.update(target)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def objects_in(target: dict[str, str]) -> int:
    """How many relations and functions the target's own schemas hold: 0 for a new database."""
    try:
        with psycopg.connect(_conninfo(target), autocommit=True) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                "        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
                "        AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%')"
                "     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                "        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))"
            ).fetchone()
    except psycopg.OperationalError as error:
        raise BackupRefused(f"Cannot connect to the target database {target['NAME']}: {error}") from error
    return int(row[0]) if row else 0


def _empty(target: dict[str, str]) -> None:
    """Put the target back as a new database has it: an empty public schema."""
    with psycopg.connect(_conninfo(target), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public AUTHORIZATION pg_database_owner")
        conn.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")


def _pg_restore(folder: Path, target: dict[str, str]) -> None:
    # Ownership and grants are the target's own: its objects belong to the role restoring them (the owner),
    # and the runtime role is granted its privileges afterwards, as migrate does (core.roles).
    args = ["pg_restore", "--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges", "--no-password"]
    args += ["--host", target["HOST"], "--port", target["PORT"], "--username", target["USER"]]
    args += ["--dbname", target["NAME"], str(folder / DUMP)]
    env = libpq_env(target["PASSWORD"])
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)  # noqa: S603 - pg_restore, our arguments
    if result.returncode != 0:
        raise RestoreFailed(
            f"pg_restore failed, and restored nothing (one transaction): {result.stderr.strip()[-2000:]}"
        )


# --- before restoring -------------------------------------------------------------------------------------


def known_migrations() -> set[tuple[str, str]]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known |= set(migration.replaces or ())
    return known


def pending_migrations() -> list[str]:
    """The migrations of this code the connected database has not applied."""
    from django.db import connection

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def prechecks(folder: Path, target: dict[str, str], say: Say) -> tuple[dict[str, Any], list[shredlog.ShredEntry]]:
    """Everything that can be checked before the target is touched; BackupRefused on the first problem."""
    manifest = manifest_read(folder)
    say(
        f"Manifest signed by service key {manifest['signed']['key_id']}: backup of {manifest['database']['name']} "
        f"taken {manifest['taken_at']}, trail {manifest['trail_id']}."
    )
    for checked in files_check(folder, manifest):
        say(checked)
    if date.fromisoformat(manifest["keep_until"]) < timezone.localdate():
        say(
            f"Warning: this backup was due for deletion on {manifest['keep_until']} (BACKUP_RETENTION_DAYS): "
            "reports under open-cases keys replaced since may no longer open."
        )
    unknown = {(app, name) for app, name in manifest["migrations"]} - known_migrations()
    if unknown:
        names = ", ".join(f"{app}.{name}" for app, name in sorted(unknown)[:5])
        raise BackupRefused(
            f"The backup has migrations this version of the service does not have ({names}): restore it with "
            "the version that took it"
        )
    missing = set(manifest["keys"]["helpline"]) - crypto.loaded_private_key_ids()
    if missing:
        raise BackupRefused(
            f"The backup's reports are sealed to helpline keys this process does not hold: {sorted(missing)}. "
            "Restore them from escrow into HELPLINE_PRIVATE_KEYS first"
        )
    try:
        entries = shredlog.entries()
    except shredlog.ShredLogDamaged as error:
        raise BackupRefused(f"The shred log cannot be trusted, so it cannot be re-applied: {error}") from error
    say(f"The shred log ({shredlog.log_path()}) holds {len(entries)} entries, each signed and in sequence.")
    found = objects_in(target)
    if found:
        raise BackupRefused(
            f"The target database {target['NAME']} is not empty ({found} tables, sequences or functions): a backup "
            "is restored only into a new, empty database"
        )
    say(f"The target database {target['NAME']} on {target['HOST']} is empty.")
    return manifest, entries


# --- after restoring ---------------------------------------------------------------------------------------


def differences(manifest: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """Where the restored database differs from what the manifest recorded."""
    problems = []
    if found["trail_id"] != manifest["trail_id"]:
        problems.append(f"the trail id is {found['trail_id'] or 'missing'}, the manifest says {manifest['trail_id']}")
    if found["audit_head"] != manifest["audit_head"]:
        problems.append(f"the audit chain's head is {found['audit_head']}, the manifest says {manifest['audit_head']}")
    expected, counted = manifest["row_counts"], found["row_counts"]
    for table in sorted(set(expected) | set(counted)):
        if expected.get(table) != counted.get(table):
            problems.append(f"table {table} has {counted.get(table)} rows, the manifest says {expected.get(table)}")
    if found["migrations"] != manifest["migrations"]:
        problems.append("the migrations applied differ from the manifest's")
    wanted, hashed = manifest["attachments"], found["attachments"]
    for attachment in sorted(set(wanted) | set(hashed), key=int):
        if wanted.get(attachment) != hashed.get(attachment):
            problems.append(f"attachment {attachment}'s sealed chunks differ from the manifest's SHA-256")
    if found["keys"] != manifest["keys"]:
        problems.append("the key ids the rows name differ from the manifest's")
    return problems


def _opens(report: Report) -> str:
    """Why the report's content and messages do not open with the configured keys (never what they hold); an
    empty string if they open."""
    try:
        key = keystore.data_key_of(report)
        crypto.open_content(key, bytes(report.content))
        for body in Message.objects.filter(report=report).exclude(body=b"").values_list("body", flat=True)[:3]:
            crypto.open_text(key, bytes(body))
    except crypto.KeyUnavailable as error:
        return str(error)
    except (nacl.exceptions.CryptoError, ValueError):
        return "its key does not open it"
    return ""


def sample_check(skip_references: set[str], size: int = SAMPLE_SIZE) -> tuple[int, list[str]]:
    """Open a sample of reports (one under each key rows name, then others spread over the table); destroyed
    reports, and those the shred log destroys, are skipped. Returns how many opened and the failures."""
    candidates = Report.objects.filter(content_destroyed_on__isnull=True).exclude(reference__in=skip_references)
    chosen: dict[int, Report] = {}
    for column in ("custody_key_id", "helpline_key_id"):
        for key_id in candidates.exclude(**{column: ""}).values_list(column, flat=True).distinct():
            first = candidates.filter(**{column: key_id}).order_by("id").first()
            if first is not None:
                chosen[first.pk] = first
    wanted = max(size - len(chosen), 0)
    ids = list(candidates.exclude(pk__in=chosen).order_by("id").values_list("id", flat=True))
    spread = ids[:: max(len(ids) // wanted, 1)][:wanted] if wanted else []
    chosen.update({report.pk: report for report in Report.objects.filter(pk__in=spread)})
    failures = []
    for report in chosen.values():
        why = _opens(report)
        if why:
            failures.append(f"report {report.pk} (key {report.custody_key_id or report.helpline_key_id}): {why}")
    return len(chosen) - len(failures), failures


@dataclass
class Reapplied:
    destroyed: list[str] = field(default_factory=list)  # case numbers (or "report N" when never routed)
    already: int = 0  # destroyed in the backup already
    absent: int = 0  # not in this backup: sent after it was taken
    mismatched: list[str] = field(default_factory=list)  # a report of that reference, but another case number
    held: list[str] = field(default_factory=list)  # on legal hold in the backup: not destroyed
    keys: list[str] = field(default_factory=list)  # custody keys destroyed since the backup: recorded so again


def _review_case_reapply(entry: shredlog.ShredEntry, done: Reapplied) -> None:
    """A national review case's line (no report, no reference): matched by its case number alone."""
    case = Case.objects.filter(case_number=entry.case_number, report__isnull=True).first()
    if case is None:
        done.absent += 1
        return
    if retention.content_destroyed_on(case) is not None:
        done.already += 1
        return
    try:
        shred_review_case(case, why="shred_log_reapplied", destroyed_on=entry.destroyed_on, log=False)
    except CaseHeld:
        done.held.append(case.case_number)
        return
    done.destroyed.append(case.case_number)


def shred_log_reapply(entries: list[shredlog.ShredEntry]) -> Reapplied:
    """Destroy again every case of the shred log that this database holds and has not destroyed: matched by
    its report's reference and its case number both. Each is audited (content_destroyed, why
    "shred_log_reapplied"), with the day the log gives; the log holds it already, so it is not written
    again."""
    done = Reapplied()
    for entry in entries:
        if not entry.reference and entry.case_number:
            _review_case_reapply(entry, done)
            continue
        report = Report.objects.filter(reference=entry.reference).first()
        if report is None:
            done.absent += 1
            continue
        case = Case.objects.filter(report=report).only("case_number").first()
        name = case.case_number if case else f"report {report.pk}"
        if (case.case_number if case else "") != entry.case_number:
            done.mismatched.append(entry.case_number or f"unrouted report {report.pk}")
            continue
        if report.content_destroyed_on is not None:
            done.already += 1
            continue
        try:
            shred_family(
                report,
                why="shred_log_reapplied",
                destroyed_on=entry.destroyed_on,
                log=False,
            )
        except CaseHeld:
            done.held.append(name)
            continue
        done.destroyed.append(name)
    done.keys = keys_reapply(shredlog.keys_destroyed())
    return done


def keys_reapply(entries: list[shredlog.KeyEntry]) -> list[str]:
    """Record as destroyed every custody key the shred log says was destroyed and the backup's records do not
    (a backup taken before): without it the service would refuse to start for a key it can never load again,
    and the reports still under it (if any) open only with their reporters' access codes."""
    recorded = []
    for entry in entries:
        record = CustodyKey.objects.filter(key_id=entry.key_id).first()
        if record is not None and record.destroyed_on is not None:
            continue
        CustodyKey.objects.update_or_create(
            key_id=entry.key_id,
            defaults={"destroyed_on": entry.destroyed_on},
            create_defaults={
                "kind": keystore.kind_of(entry.key_id),
                "created_on": entry.destroyed_on,
                "destroyed_on": entry.destroyed_on,
            },
        )
        keystore.store().destroy(entry.key_id)
        recorded.append(entry.key_id)
    return recorded


def reapplied_lines(done: Reapplied) -> list[str]:
    lines = [
        f"Shred log re-applied: {len(done.destroyed)} destroyed again"
        + (f" ({', '.join(done.destroyed)})" if done.destroyed else "")
        + f", {done.already} already destroyed in the backup, {done.absent} not in this backup."
    ]
    if done.keys:
        lines.append(f"Custody keys destroyed since the backup, recorded so again: {', '.join(done.keys)}.")
    if done.mismatched:
        lines.append(
            f"Warning: {len(done.mismatched)} shred log entries name a report whose case here has another number, "
            f"and were not applied: {', '.join(done.mismatched)}."
        )
    return lines


def held_failure(done: Reapplied) -> RestoreFailed:
    return RestoreFailed(
        f"{len(done.held)} case(s) the shred log destroyed are on legal hold in this backup, so their content is "
        f"still here: {', '.join(done.held)}. The service must not start on it yet: a supervisor releases each hold "
        "(it was released before the case was destroyed), then run manage.py reapply_shred_log against it."
    )


# --- the whole restore ---------------------------------------------------------------------------------------


def restore(folder: Path, database_url: str, say: Say) -> Reapplied:
    """Restore the backup in ``folder`` into the empty database at ``database_url``, verify it and re-apply
    the shred log, saying what it does. BackupRefused before anything is touched; RestoreFailed after."""
    target = target_from_url(database_url)
    manifest, entries = prechecks(folder, target, say)
    _pg_restore(folder, target)
    say("Restored with pg_restore, in one transaction.")
    try:
        with target_database(target):
            verified = _verify(manifest, entries, say)
    except BaseException:
        _empty(target)
        raise
    if not verified:
        _empty(target)
        raise RestoreFailed("The target database was emptied again: nothing unverified is left in it.")
    with target_database(target):
        pending = pending_migrations()
        if pending:
            raise RestoreFailed(
                f"Restored and verified, but this version of the service has {len(pending)} migration(s) the backup "
                "has not, and the shred log must be re-applied with the schema this code expects. Before the service "
                "starts: run manage.py migrate against the restored database, then manage.py reapply_shred_log."
            )
        done = shred_log_reapply(entries)
        for line in reapplied_lines(done):
            say(line)
        if done.held:
            raise held_failure(done)
        missing = missing_private_key_ids()
    if missing:
        raise RestoreFailed(
            f"Reports are sealed to keys this process cannot load: {sorted(missing)}. The service would refuse to "
            "start: restore the escrowed custody keys into CUSTODY_KEY_DIR (or HELPLINE_PRIVATE_KEYS) first."
        )
    say("Every key the reports name is loaded, or recorded as destroyed.")
    _audit_advice(folder, manifest, say)
    return done


def _verify(manifest: dict[str, Any], entries: list[shredlog.ShredEntry], say: Say) -> bool:
    from django.db import connection

    if runtime_grants(connection):
        say("The runtime role was granted its privileges.")
    problems = differences(manifest, database_facts())
    opened, failures = sample_check({entry.reference for entry in entries})
    problems += failures
    for problem in problems:
        say(f"Does not match: {problem}")
    if problems:
        return False
    head = manifest["audit_head"]
    say(
        f"Verified against the manifest: the row counts of {len(manifest['row_counts'])} tables, the audit chain's "
        f"head (event {head['last_event_id']}, {head['event_count']} events) and trail id, "
        f"{len(manifest['attachments'])} attachments' sealed chunks, {len(manifest['migrations'])} migrations, and "
        f"the key ids the rows name."
    )
    say(f"A sample of {opened} reports opens with the configured keys.")
    return True


def _audit_advice(folder: Path, manifest: dict[str, Any], say: Say) -> None:
    head = manifest["audit_head"]["last_event_id"]
    epoch = (
        f"manage.py audit_restore_epoch --manifest {folder / 'manifest.json'} (with DATABASE_URL naming the restored "
        "database)"
    )
    sink = checkpoint_sink()
    try:
        latest = latest_signed_head(manifest["trail_id"], sink=sink)
    except OSError:
        latest = None
    if latest is None:
        say(
            f"This process finds no checkpoint of this trail in the audit sink ({sink.describe()}): if the "
            f"checkpointer's sink records events after event {head}, they are lost, and before the service starts "
            f"the checkpointer must record the restore: {epoch}. verify_audit says whether it is needed."
        )
    elif latest.last_event_id > head:
        say(
            f"The audit sink recorded events of this trail after the backup's head (up to event "
            f"{latest.last_event_id}): they are lost. Before the service starts, the checkpointer must record the "
            f"restore: {epoch}."
        )
    else:
        say("The audit sink has no checkpoint of this trail after the backup's head: no restore epoch is needed.")

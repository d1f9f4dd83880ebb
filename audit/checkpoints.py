"""Signed checkpoints of the audit chain's head, kept outside the database.

The chain shows an edited or removed row, but not a removed *tail*: delete the newest rows and what is
left is a shorter chain that still verifies. So every AUDIT_CHECKPOINT_SECONDS (beat runs the task
``audit.tasks.checkpoint``) and on demand (``manage.py audit_checkpoint``) the head is written down: the
last event's id and hash and how many events there are up to it, signed with the Ed25519 key
AUDIT_SIGNING_KEY, appended as one JSON line to a sink the database cannot reach (a file by default).

``verify_audit`` then checks the latest checkpoint against the table: a tail removed before that
checkpoint, or rows rewritten by someone holding the MAC key, no longer match it. Rows written since the
last checkpoint are protected by the chain alone, so the interval bounds what can vanish unnoticed.

A checkpoint names its database, so checkpoints of the development database and of throwaway test
databases written to the same local file never get in each other's way.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import nacl.exceptions
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from nacl.signing import VerifyKey

from audit import keys
from audit.models import AuditEvent

FORMAT = "helpline-audit-checkpoint/1"
SIGNED_FIELDS = ("format", "database", "last_event_id", "row_hash", "event_count", "created_at", "key_id")


# --- sinks ----------------------------------------------------------------------------------------


class CheckpointSink(Protocol):
    """Where checkpoints go: somewhere a database superuser cannot rewrite.

    A file on the host by default; a write-once bucket or a remote log could be configured later by
    returning another implementation from ``checkpoint_sink``."""

    def append(self, line: str) -> None:
        """Store one line durably before returning."""

    def lines(self) -> Iterator[str]:
        """Every stored line, oldest first."""

    def describe(self) -> str:
        """Where the lines are, for messages."""


class FileSink:
    """Checkpoints as JSON lines appended to a file (make it append-only: ``chattr +a``, or ship it off)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, line: str) -> None:
        """Append under an exclusive lock and fsync, so a checkpoint reported written survives a crash.

        If a crash cut the previous write short, the new line starts on a line of its own rather than
        being glued to the fragment."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            size = os.fstat(descriptor).st_size
            data = line.encode("utf-8") + b"\n"
            if size and os.pread(descriptor, 1, size - 1) != b"\n":
                data = b"\n" + data
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        if created:
            # The new file's name must be durable too, not only its contents.
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def lines(self) -> Iterator[str]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            for line in handle:
                yield line.rstrip("\n")

    def describe(self) -> str:
        return str(self.path)


def checkpoint_sink() -> CheckpointSink:
    """The configured sink: AUDIT_CHECKPOINT_PATH."""
    return FileSink(Path(settings.AUDIT_CHECKPOINT_PATH))


# --- checkpoints ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    database: str
    last_event_id: int
    row_hash: str
    event_count: int
    created_at: str
    key_id: str
    signature: str = ""
    format: str = FORMAT

    def signed_bytes(self) -> bytes:
        """The canonical JSON of every field but the signature: what the signature covers."""
        fields = {name: getattr(self, name) for name in SIGNED_FIELDS}
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")

    def to_line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        """Parse one line; ValueError if it is not a well-formed checkpoint."""
        data: Any = json.loads(line)
        if not isinstance(data, dict) or set(data) != {*SIGNED_FIELDS, "signature"}:
            raise ValueError("not a checkpoint")
        if data["format"] != FORMAT:
            raise ValueError("unknown checkpoint format")
        types = {"last_event_id": int, "event_count": int}
        for name in (*SIGNED_FIELDS, "signature"):
            expected = types.get(name, str)
            if not isinstance(data[name], expected) or isinstance(data[name], bool):
                raise ValueError(f"{name} is not a {expected.__name__}")
        return cls(**data)


def _database_name() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        row = cursor.fetchone()
    return str(row[0]) if row else ""


def checkpoint_write(*, sink: CheckpointSink | None = None) -> Checkpoint | None:
    """Sign the chain's current head and append it to the sink; None if there are no events yet.

    The head and the count come from one statement, so they describe one moment. No lock is taken:
    writers chain in commit order under their advisory lock, so every id below a visible head is final."""
    signing = keys.signing_key()  # first: a missing key fails before anything is read
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_database(), head.id, head.row_hash,"
            " (SELECT count(*) FROM audit_event WHERE id <= head.id)"
            " FROM audit_event AS head ORDER BY head.id DESC LIMIT 1"
        )
        head = cursor.fetchone()
    if head is None:
        return None
    database, last_id, row_hash, count = head
    unsigned = Checkpoint(
        database=str(database),
        last_event_id=int(last_id),
        row_hash=str(row_hash),
        event_count=int(count),
        created_at=timezone.now().isoformat(),
        key_id=keys.key_id(signing.verify_key),
    )
    signature = keys.b64(signing.sign(unsigned.signed_bytes()).signature)
    signed = Checkpoint(**{**asdict(unsigned), "signature": signature})
    (sink or checkpoint_sink()).append(signed.to_line())
    return signed


# --- checking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointProblem:
    where: str  # "event 42" or "checkpoint line 7": what verify_audit prints before the reason
    reason: str


@dataclass
class CheckpointReport:
    sink: str
    latest: Checkpoint | None = None  # the latest checkpoint of this database whose signature holds
    latest_line: int = 0
    events_since: int = 0  # written after it: protected by the chain alone
    other_databases: int = 0
    problems: list[CheckpointProblem] = field(default_factory=list)


def _signature_holds(checkpoint: Checkpoint, verify: VerifyKey) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature.encode("ascii"), validate=True)
        verify.verify(checkpoint.signed_bytes(), signature)
    except (nacl.exceptions.BadSignatureError, ValueError):  # also bad base64 and a signature of the wrong size
        return False
    return True


def checkpoint_verify(*, verify_key: str = "", sink: CheckpointSink | None = None) -> CheckpointReport:
    """Check every checkpoint of this database in the sink, then the table against the latest.

    Every line of this database signed with our key must verify (an edited line is reported wherever
    it is). Lines signed by another key are older keys' (after a rotation) and are skipped, unless the
    newest line is one of them. The latest good checkpoint's event must exist with the same hash, and the
    number of events up to it must be the number it counted."""
    sink = sink or checkpoint_sink()
    report = CheckpointReport(sink=sink.describe())
    database = _database_name()
    verify: VerifyKey | None = None
    newest_line = 0
    newest_key = ""
    for number, line in enumerate(sink.lines(), start=1):
        if not line.strip():
            continue
        try:
            checkpoint = Checkpoint.from_line(line)
        except ValueError:
            where = f"checkpoint line {number}"
            report.problems.append(CheckpointProblem(where, "not a readable checkpoint (altered, or cut short?)"))
            continue
        if checkpoint.database != database:
            report.other_databases += 1
            continue
        if verify is None:
            try:
                verify = keys.verify_key(verify_key)
            except ImproperlyConfigured as exc:
                report.problems.append(CheckpointProblem(f"checkpoint line {number}", f"cannot be checked: {exc}"))
                return report
        newest_line, newest_key = number, checkpoint.key_id
        if checkpoint.key_id != keys.key_id(verify):
            continue
        if not _signature_holds(checkpoint, verify):
            reason = "signature does not verify (the line was altered?)"
            report.problems.append(CheckpointProblem(f"checkpoint line {number}", reason))
            continue
        report.latest, report.latest_line = checkpoint, number
    if verify is not None and newest_key != keys.key_id(verify):
        reason = f"signed by {newest_key}, but the verify key is {keys.key_id(verify)}: it cannot be checked"
        report.problems.append(CheckpointProblem(f"checkpoint line {newest_line}", reason))
    if report.latest is None and report.other_databases and settings.PRODUCTION and not report.problems:
        reason = f"no checkpoint of database {database!r}, but {report.other_databases} of others (wrong sink?)"
        report.problems.append(CheckpointProblem("checkpoints", reason))
    if report.latest is not None:
        _check_table(report, report.latest, report.latest_line)
    return report


def _check_table(report: CheckpointReport, checkpoint: Checkpoint, line: int) -> None:
    event_id = checkpoint.last_event_id
    row_hash = AuditEvent.objects.filter(id=event_id).values_list("row_hash", flat=True).first()
    if row_hash is None:
        reason = f"named by checkpoint line {line} ({checkpoint.created_at}) but missing (events removed?)"
        report.problems.append(CheckpointProblem(f"event {event_id}", reason))
    elif row_hash != checkpoint.row_hash:
        reason = f"its hash differs from checkpoint line {line}'s ({checkpoint.created_at}): altered and re-chained?"
        report.problems.append(CheckpointProblem(f"event {event_id}", reason))
    count = AuditEvent.objects.filter(id__lte=event_id).count()
    if count != checkpoint.event_count:
        reason = (
            f"counted {checkpoint.event_count} events up to event {event_id}, the table now has {count} "
            "(events removed or inserted?)"
        )
        report.problems.append(CheckpointProblem(f"checkpoint line {line}", reason))
    report.events_since = AuditEvent.objects.filter(id__gt=event_id).count()

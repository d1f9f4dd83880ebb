"""Signed checkpoints of the audit chain's head, kept outside the database.

The chain shows an edited or removed row, but not a removed *tail*: delete the newest rows and what is
left is a shorter chain that still verifies. So every AUDIT_CHECKPOINT_SECONDS (beat runs the task
``audit.tasks.checkpoint``) and on demand (``manage.py audit_checkpoint``) the head is written down: the
last event's id and hash and how many events there are up to it, signed with the Ed25519 key
AUDIT_SIGNING_KEY, appended as one JSON line to a sink the database cannot reach (a file by default).

A checkpoint is only worth something if the next one cannot quietly forget it. So before it signs, the
checkpointer checks that the new head *extends* the previous checkpoint: that checkpoint's event is still
there with the same hash, every link from it to the new head holds, and the count grew by exactly the
events in between. Otherwise a deleted tail, or a TRUNCATE, would be signed over at the next run and the
trail would verify again. It checks with what it holds, the signing key: MAC checks stay in
``verify_audit`` (docs/deploy.md keeps the MAC key away from the checkpointer). On a break it signs no
checkpoint, appends a signed *break* line saying why, and raises an alert (audit.alerts).

Lines name their trail (audit.identity), so a sink is matched against this trail only, whatever database
names it shares; and each links to the trail's line before it, so a line removed from the middle of the
sink shows. Every line also carries the trail's carry-over point (where its unkeyed legacy chain ends), so
the first checkpoint signs it and every later one repeats it unchanged.

``verify_audit`` checks every checkpoint of the trail against the table in one ordered pass over the
events, and the sink's lines against each other. Rows written since the last checkpoint are protected by
the chain alone, so the interval bounds what can vanish unnoticed.

Lines of format /1, written before trails had ids, are still read: as legacy checkpoints of the database
they name, checked like the others.

A legitimate restore to an earlier point (lifecycle.restore) looks like a deleted tail, and the events written
after it reuse the lost events' ids. On request (``manage.py audit_restore_epoch``) the checkpointer writes a
*restore* line naming the backup's head, once that head is vouched for (an earlier checkpoint of this trail
names the same event, hash and count, or the caller checked the backup manifest's signature) and the table
continues from it. Lines before a restore epoch are then checked only up to its head, the trail goes on from
it as from a checkpoint, and ``verify_audit`` always says which events the restore lost.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import nacl.exceptions
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from nacl.signing import SigningKey, VerifyKey

from audit import keys
from audit.alerts import alert_raise
from audit.identity import CarryOver, TrailIdentity, trail_identity, trail_mark_seen
from audit.models import AuditEvent
from audit.trail import GENESIS_HASH, KEYED_VERSION, UNKEYED_VERSIONS, carried_over

FORMAT = "helpline-audit-checkpoint/2"
LEGACY_FORMAT = "helpline-audit-checkpoint/1"
LEGACY_SIGNED_FIELDS = ("format", "database", "last_event_id", "row_hash", "event_count", "created_at", "key_id")
SIGNED_FIELDS = (
    *LEGACY_SIGNED_FIELDS,
    "kind",
    "trail_id",
    "carry_over_event_id",
    "carry_over_hash",
    "previous_line",
    "reason",
)
CHECKPOINT = "checkpoint"
BREAK = "break"
# A restore epoch: the database was restored from a backup whose signed manifest named this head. Lines before
# it are checked only up to its head; the chain continues from it (ids after it may be reused).
RESTORE = "restore"
# Only one checkpointer at a time, so two lines never link to the same line before them.
_CHECKPOINT_LOCK = 0x4353_4543  # "CSEC"


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


# --- lines ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """One signed line of the sink: a checkpoint of the head, a head the checkpointer refused to sign (kind
    "break", with its reason), or a restore epoch (kind "restore": the head of the backup the database was
    restored from, and in ``reason`` which backup and what vouched for its head). A legacy line (format /1)
    has only the fields up to key_id."""

    database: str
    last_event_id: int  # the head: for a break, the head it refused (0 if there were no events)
    row_hash: str
    event_count: int
    created_at: str
    key_id: str
    trail_id: str = ""
    carry_over_event_id: int | None = None
    carry_over_hash: str = ""
    previous_line: str = ""  # line_digest of the trail's line before this one; "" for its first line
    kind: str = CHECKPOINT
    reason: str = ""
    signature: str = ""
    format: str = FORMAT

    @property
    def legacy(self) -> bool:
        return self.format == LEGACY_FORMAT

    @property
    def is_break(self) -> bool:
        return self.kind == BREAK

    @property
    def is_restore(self) -> bool:
        return self.kind == RESTORE

    @property
    def carry_over(self) -> CarryOver | None:
        if self.carry_over_event_id is None:
            return None
        return CarryOver(self.carry_over_event_id, self.carry_over_hash)

    def _fields(self) -> tuple[str, ...]:
        return LEGACY_SIGNED_FIELDS if self.legacy else SIGNED_FIELDS

    def signed_bytes(self) -> bytes:
        """The canonical JSON of every field but the signature: what the signature covers."""
        fields = {name: getattr(self, name) for name in self._fields()}
        return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")

    def to_line(self) -> str:
        data = {name: getattr(self, name) for name in (*self._fields(), "signature")}
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        """Parse one line; ValueError if it is not a well-formed line of a known format."""
        data: Any = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not a checkpoint")
        names = {FORMAT: SIGNED_FIELDS, LEGACY_FORMAT: LEGACY_SIGNED_FIELDS}.get(str(data.get("format")))
        if names is None:
            raise ValueError("unknown checkpoint format")
        if set(data) != {*names, "signature"}:
            raise ValueError("not a checkpoint")
        types: dict[str, tuple[type, ...]] = {
            "last_event_id": (int,),
            "event_count": (int,),
            "carry_over_event_id": (int, type(None)),
        }
        for name in (*names, "signature"):
            expected = types.get(name, (str,))
            if not isinstance(data[name], expected) or isinstance(data[name], bool):
                raise ValueError(f"{name} is not a {expected[0].__name__}")
        if data.get("kind", CHECKPOINT) not in (CHECKPOINT, BREAK, RESTORE):
            raise ValueError("unknown kind of line")
        return cls(**data)


def line_digest(line: str) -> str:
    """What the next line of the trail links to."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


class SinkLine(NamedTuple):
    number: int  # 1-based, as messages print it
    text: str
    checkpoint: Checkpoint


def _lines(sink: CheckpointSink) -> Iterator[SinkLine | int]:
    """Every readable line of the sink, and the number of every unreadable one."""
    for number, text in enumerate(sink.lines(), start=1):
        if not text.strip():
            continue
        try:
            yield SinkLine(number, text, Checkpoint.from_line(text))
        except ValueError:
            yield number


OURS, FOREIGN, OTHER = "ours", "foreign", "other"


def _belonging(checkpoint: Checkpoint, database: str, trail_id: str) -> str:
    """Whose line: this trail's (a legacy line by its database's name), a line of this database's name under
    another trail (it was replaced), or another database's (development and tests share a local sink)."""
    if checkpoint.legacy:
        return OURS if checkpoint.database == database else OTHER
    if checkpoint.trail_id == trail_id:
        return OURS
    return FOREIGN if checkpoint.database == database else OTHER


def _signature_holds(checkpoint: Checkpoint, verify: VerifyKey) -> bool:
    try:
        signature = base64.b64decode(checkpoint.signature.encode("ascii"), validate=True)
        verify.verify(checkpoint.signed_bytes(), signature)
    except (nacl.exceptions.BadSignatureError, ValueError):  # also bad base64 and a signature of the wrong size
        return False
    return True


def _database_name() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        row = cursor.fetchone()
    return str(row[0]) if row else ""


# --- writing --------------------------------------------------------------------------------------


class TrailBroken(Exception):
    """The checkpointer refused to sign: the trail does not extend its last checkpoint. The break is in the
    sink and the alert raised by the time this is raised."""


@dataclass(frozen=True)
class Head:
    database: str
    last_event_id: int  # 0 when there are no events
    row_hash: str
    event_count: int


@dataclass
class TrailHistory:
    """What the checkpointer needs from the sink about this trail."""

    last_line: str = ""  # digest of its last line, which the next links to
    previous: SinkLine | None = None  # its latest checkpoint (a legacy one counts, and so does a restore epoch)
    break_recorded: bool = False  # its last line is a break already: one is enough
    foreign: SinkLine | None = None  # a line of this database's name under another trail


def _head() -> Head:
    """The head and the count up to it, from one statement, so they describe one moment. No lock is needed:
    writers chain in commit order under their advisory lock, so every id below a visible head is final."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_database(), head.id, head.row_hash,"
            " (SELECT count(*) FROM audit_event WHERE id <= head.id)"
            " FROM (SELECT 1) AS one LEFT JOIN LATERAL"
            " (SELECT id, row_hash FROM audit_event ORDER BY id DESC LIMIT 1) AS head ON true"
        )
        database, last_id, row_hash, count = cursor.fetchone() or ("", None, None, 0)
    return Head(str(database), int(last_id or 0), str(row_hash or ""), int(count or 0))


def _history(sink: CheckpointSink, database: str, trail_id: str) -> TrailHistory:
    history = TrailHistory()
    for line in _lines(sink):
        if isinstance(line, int):
            continue  # unreadable: verify_audit reports it; it is nobody's line
        belonging = _belonging(line.checkpoint, database, trail_id)
        if belonging == FOREIGN and history.foreign is None:
            history.foreign = line
        if belonging != OURS:
            continue
        history.last_line = line_digest(line.text)
        history.break_recorded = line.checkpoint.is_break
        if not line.checkpoint.is_break:
            history.previous = line
    return history


@contextlib.contextmanager
def _checkpointer_lock() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [_CHECKPOINT_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [_CHECKPOINT_LOCK])


def checkpoint_write(*, sink: CheckpointSink | None = None) -> Checkpoint | None:
    """Sign the chain's current head and append it to the sink, if it extends the previous checkpoint; None
    if there is nothing to sign yet. Raises TrailBroken, after recording the break and raising the alert,
    if it does not."""
    signing = keys.signing_key()  # first: a missing key fails before anything is read
    sink = sink or checkpoint_sink()
    with _checkpointer_lock():
        identity = trail_identity()
        head = _head()
        history = _history(sink, head.database, identity.trail_id if identity else "")
        if identity is not None and head.event_count:
            trail_mark_seen(timezone.now())
        nothing_yet = not head.event_count and history.previous is None and history.foreign is None
        if nothing_yet and (identity is not None or not history.last_line):
            return None
        refusal = _refusal(identity, head, history, signing.verify_key)
        line = _line(signing, identity, head, history, refusal[1] if refusal else "")
        if refusal is None:
            sink.append(line.to_line())
            return line
        fingerprint, reason = refusal
        alert_raise(fingerprint=fingerprint, reason=reason)
        if not history.break_recorded:
            sink.append(line.to_line())
        raise TrailBroken(reason)


def _line(
    signing: SigningKey,
    identity: TrailIdentity | None,
    head: Head,
    history: TrailHistory,
    reason: str,
    kind: str = "",
) -> Checkpoint:
    carry_over = identity.carry_over if identity else None
    unsigned = Checkpoint(
        database=head.database,
        last_event_id=head.last_event_id,
        row_hash=head.row_hash,
        event_count=head.event_count,
        created_at=timezone.now().isoformat(),
        key_id=keys.key_id(signing.verify_key),
        trail_id=identity.trail_id if identity else "",
        carry_over_event_id=carry_over.event_id if carry_over else None,
        carry_over_hash=carry_over.row_hash if carry_over else "",
        previous_line=history.last_line,
        kind=kind or (BREAK if reason else CHECKPOINT),
        reason=reason,
    )
    return replace(unsigned, signature=keys.b64(signing.sign(unsigned.signed_bytes()).signature))


def chain_head() -> Head:
    """The chain's head and the number of events up to it, as a checkpoint would sign it: what a backup's
    manifest records (read in the backup's own snapshot)."""
    return _head()


def latest_signed_head(trail_id: str, *, sink: CheckpointSink | None = None) -> Checkpoint | None:
    """The newest checkpoint or restore epoch of this trail in the sink, unchecked: for advice only (whether a
    restored database needs a restore epoch). verify_audit is what checks it."""
    latest = None
    for line in _lines(sink or checkpoint_sink()):
        if isinstance(line, SinkLine) and line.checkpoint.trail_id == trail_id and not line.checkpoint.is_break:
            latest = line.checkpoint
    return latest


@dataclass(frozen=True)
class BackupHead:
    """The chain's head as a backup's manifest recorded it."""

    trail_id: str
    last_event_id: int
    row_hash: str
    event_count: int


class RestoreEpochRefused(Exception):
    """The checkpointer did not write the restore epoch, for the reason given; nothing was written."""


def restore_epoch_write(
    *, head: BackupHead, source: str, manifest_signed_by: str = "", sink: CheckpointSink | None = None
) -> Checkpoint:
    """Write a restore epoch: the database was restored from a backup whose chain head was ``head``. The
    checkpointer accepts it only if that head is vouched for, by an earlier checkpoint of this trail naming the
    same event, hash and count, or by the backup's signed manifest (``manifest_signed_by``: the key id of the
    service key the caller checked the manifest's signature with; "" if it did not). The table must then
    continue from that head (the event there, with that hash and count, and every link after it), and the
    trail with the epoch must verify: every earlier checkpoint up to the head still matches. A head older
    than a checkpoint the table still extends is refused: nothing was lost. ``source`` names the backup."""
    signing = keys.signing_key()
    sink = sink or checkpoint_sink()
    verify = signing.verify_key
    with _checkpointer_lock():
        identity = trail_identity()
        if identity is None:
            raise RestoreEpochRefused("the database has no trail record (audit_trail): it is not a restored backup")
        if head.trail_id != identity.trail_id:
            raise RestoreEpochRefused(
                f"the backup is of trail {head.trail_id}, but this database's trail is {identity.trail_id}"
            )
        current = _head()
        history = _history(sink, current.database, identity.trail_id)
        if history.foreign is not None:
            raise RestoreEpochRefused(
                f"checkpoint line {history.foreign.number} is of this database under another trail "
                f"({history.foreign.checkpoint.trail_id or '(none)'})"
            )
        ours = [
            line
            for line in _lines(sink)
            if isinstance(line, SinkLine) and _belonging(line.checkpoint, current.database, identity.trail_id) == OURS
        ]
        vouched_by = _vouched_by(head, ours, verify, manifest_signed_by)
        restored = Head(current.database, head.last_event_id, head.row_hash, head.event_count)
        as_line = Checkpoint(
            database=restored.database,
            last_event_id=restored.last_event_id,
            row_hash=restored.row_hash,
            event_count=restored.event_count,
            created_at="",
            key_id="",
        )
        problem = _walk(identity.carry_over, current, as_line, "the backup's head")
        if problem:
            raise RestoreEpochRefused(f"this database does not continue from the backup's head: {problem}")
        previous = history.previous
        if (
            previous is not None
            and previous.checkpoint.last_event_id > head.last_event_id
            and not _extension_problem(identity, current, previous, verify)
        ):
            raise RestoreEpochRefused(
                f"nothing was lost: the trail still extends checkpoint line {previous.number} (event "
                f"{previous.checkpoint.last_event_id}), newer than the backup's head (event {head.last_event_id})"
            )
        reason = f"{source}; its head vouched for by {vouched_by}"
        line = _line(signing, identity, restored, history, reason, kind=RESTORE)
        text = line.to_line()
        # The trail as verify_audit will read it with the epoch: it must hold, or the epoch is not written.
        trial = CheckpointReport(sink=sink.describe(), trail_id=identity.trail_id)
        number = max((ours_line.number for ours_line in ours), default=0) + 1
        targets = _check_lines(trial, [*ours, SinkLine(number, text, line)], verify, identity)
        _check_table(trial, _since_restores(trial, targets))
        if trial.problems:
            found = "; ".join(f"{problem.where}: {problem.reason}" for problem in trial.problems)
            raise RestoreEpochRefused(f"with the epoch, the trail would still not verify: {found}")
        sink.append(text)
        return line


def _vouched_by(head: BackupHead, ours: list[SinkLine], verify: VerifyKey, manifest_signed_by: str) -> str:
    """What shows the backup's head was once the trail's real head; RestoreEpochRefused if nothing does."""
    wanted = (head.last_event_id, head.row_hash, head.event_count)
    matching = [
        line.number
        for line in ours
        if not line.checkpoint.is_break
        and line.checkpoint.key_id == keys.key_id(verify)
        and _signature_holds(line.checkpoint, verify)
        and (line.checkpoint.last_event_id, line.checkpoint.row_hash, line.checkpoint.event_count) == wanted
    ]
    vouchers = [f"checkpoint line {matching[-1]}"] if matching else []
    if manifest_signed_by:
        vouchers.append(f"the manifest's signature (service key {manifest_signed_by})")
    if not vouchers:
        raise RestoreEpochRefused(
            f"the backup's head (event {head.last_event_id}, {head.event_count} events) matches no checkpoint of "
            "this trail, and its manifest's signature was not verified"
        )
    return " and ".join(vouchers)


def _refusal(
    identity: TrailIdentity | None, head: Head, history: TrailHistory, verify: VerifyKey
) -> tuple[str, str] | None:
    """(what broke, why) if the head must not be signed: the alert's fingerprint and the reason."""
    if identity is None:
        return "trail-record-missing", "the database has no trail record (audit_trail): removed or replaced?"
    if history.foreign is not None:
        other = history.foreign.checkpoint
        reason = (
            f"checkpoint line {history.foreign.number} is of database {other.database} under trail "
            f"{other.trail_id or '(none)'}, not this database's trail {identity.trail_id}: its trail record "
            "was replaced (or, in development, the database re-created: then move the sink aside)"
        )
        return f"foreign-trail:{other.trail_id}", reason
    previous = history.previous
    fingerprint = line_digest(previous.text) if previous else f"first:{identity.trail_id}"
    reason = _extension_problem(identity, head, previous, verify)
    if reason and previous and previous.checkpoint.legacy:
        reason += (
            f"; line {previous.number} is a legacy line (format /1), matched by the database's name only: for a "
            "re-created development database, move the sink aside"
        )
    return (fingerprint, reason) if reason else None


def _extension_problem(identity: TrailIdentity, head: Head, previous: SinkLine | None, verify: VerifyKey) -> str:
    """Why the head does not extend the previous checkpoint (from the first event, if there is none); "" if
    it does. One ordered pass over the events from that checkpoint's to the head."""
    if previous is None:
        return _walk(identity.carry_over, head, None, "")
    checkpoint = previous.checkpoint
    if checkpoint.key_id == keys.key_id(verify) and not _signature_holds(checkpoint, verify):
        return f"checkpoint line {previous.number}, the latest, does not verify (the sink was altered?)"
    if not checkpoint.legacy and checkpoint.carry_over != identity.carry_over:
        return (
            f"the trail record's carry-over point differs from the one checkpoint line {previous.number} signed "
            "(the record was rewritten?)"
        )
    if not head.event_count:
        return (
            f"there are no events, but checkpoint line {previous.number} counted {checkpoint.event_count} up to "
            f"event {checkpoint.last_event_id} (emptied?)"
        )
    return _walk(identity.carry_over, head, checkpoint, f"checkpoint line {previous.number}")


def _walk(carry_over: CarryOver | None, head: Head, checkpoint: Checkpoint | None, named: str) -> str:
    """Why the table from ``checkpoint``'s event (``named`` so in messages) to ``head`` does not extend it;
    "" if it does."""
    start = checkpoint.last_event_id if checkpoint else 0
    rows = (
        AuditEvent.objects.filter(id__gte=start, id__lte=head.last_event_id)
        .order_by("id")
        .values_list("id", "previous_hash", "row_hash", "chain_version")
    )
    expected_link = GENESIS_HASH
    walked = 0
    for event_id, previous_hash, row_hash, version in rows.iterator(chunk_size=2000):
        if checkpoint is not None and walked == 0:
            if event_id != checkpoint.last_event_id:
                break
            if row_hash != checkpoint.row_hash:
                return f"event {event_id}'s hash differs from {named}'s (altered and re-chained?)"
        elif previous_hash != expected_link:
            return f"event {event_id} does not link to the event before it (events removed or inserted?)"
        problem = _legacy_problem(event_id, row_hash, version, carry_over)
        if problem:
            return problem
        expected_link = row_hash
        walked += 1
    if checkpoint is not None and walked == 0:
        return f"event {checkpoint.last_event_id}, named by {named}, is missing (events removed?)"
    if checkpoint is not None and head.event_count != checkpoint.event_count + walked - 1:
        return (
            f"the table has {head.event_count} events up to event {head.last_event_id}, but {named} "
            f"counted {checkpoint.event_count} up to event {start} and {walked - 1} follow it (events removed or "
            "inserted before it?)"
        )
    return ""


def _legacy_problem(event_id: int, row_hash: str, version: int, carry_over: CarryOver | None) -> str:
    """Unkeyed events belong to the carried-over legacy chain only (audit.trail); this needs no key."""
    if version != KEYED_VERSION and not (version in UNKEYED_VERSIONS and carried_over(event_id, carry_over)):
        return f"event {event_id} is unkeyed (version {version}) outside the carried-over legacy chain"
    if carry_over is not None and event_id == carry_over.event_id and row_hash != carry_over.row_hash:
        return f"event {event_id}, the legacy chain's head, differs from its carry-over point"
    return ""


# --- checking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckpointProblem:
    where: str  # "event 42" or "checkpoint line 7": what verify_audit prints before the reason
    reason: str


@dataclass(frozen=True)
class RestoreEpoch:
    """A restore epoch of the trail, and what it cost: the events after its head that the trail had before
    the restore. ``lost_to`` is the newest signed head before the epoch that it does not reach (a checkpoint,
    or an earlier epoch's head), so events ``epoch.last_event_id + 1`` to ``lost_to.last_event_id`` were
    recorded and are gone; any written after ``lost_to`` (or after the epoch's head, when there is none) and
    before the restore were never checkpointed and are gone too."""

    line: int
    epoch: Checkpoint
    lost_to: Checkpoint | None = None
    lost_to_line: int = 0

    @property
    def lost_events(self) -> int:
        return self.lost_to.event_count - self.epoch.event_count if self.lost_to else 0


@dataclass
class CheckpointReport:
    sink: str
    trail_id: str = ""
    latest: Checkpoint | None = None  # the latest checkpoint (or restore epoch) of this trail whose signature holds
    latest_line: int = 0
    checked: int = 0  # checkpoints (and restore epochs) of this trail checked against the table
    legacy: int = 0  # of them, legacy lines (format /1, no trail id) matched by database name
    events_since: int = 0  # written after the latest: protected by the chain alone
    other_databases: int = 0
    first_seen_at: datetime | None = None  # when the checkpointer first saw events of this trail
    breaks: list[tuple[int, Checkpoint]] = field(default_factory=list)  # breaks the checkpointer recorded
    epochs: list[RestoreEpoch] = field(default_factory=list)  # restores, oldest first
    # Checkpoints written before a restore that name events after its head: lost with them, so not checked.
    superseded: int = 0
    problems: list[CheckpointProblem] = field(default_factory=list)

    def problem(self, where: str, reason: str) -> None:
        self.problems.append(CheckpointProblem(where, reason))


def checkpoint_verify(*, verify_key: str = "", sink: CheckpointSink | None = None) -> CheckpointReport:
    """Check the sink's lines of this trail, then every checkpoint among them against the table.

    Every line of this trail signed with our key must verify and link to the line before it (an edited or
    removed line is reported wherever it is); lines signed by another key are older keys' (after a
    rotation) and are skipped, unless the newest line is one of them. Counts never go down from one
    checkpoint to the next, and each named event must exist with the same hash and the same number of
    events up to it.

    A restore epoch starts the trail again from its head: counts may go down there, and the lines before it
    are checked only up to its head, since the events after it were lost with the restore (and their ids
    reused). The report lists each epoch with the events it lost."""
    sink = sink or checkpoint_sink()
    report = CheckpointReport(sink=sink.describe())
    database = _database_name()
    identity = trail_identity()
    report.trail_id = identity.trail_id if identity else ""
    ours: list[SinkLine] = []
    verify: VerifyKey | None = None
    for line in _lines(sink):
        if isinstance(line, int):
            report.problem(f"checkpoint line {line}", "not a readable checkpoint (altered, or cut short?)")
            continue
        belonging = _belonging(line.checkpoint, database, report.trail_id)
        if belonging == OTHER:
            report.other_databases += 1
            continue
        if verify is None:
            try:
                verify = keys.verify_key(verify_key)
            except ImproperlyConfigured as exc:
                report.problem(f"checkpoint line {line.number}", f"cannot be checked: {exc}")
                return report
        if belonging == FOREIGN:
            reason = (
                f"a line of this database under trail {line.checkpoint.trail_id or '(none)'}, but its trail is "
                f"{report.trail_id or 'missing'}: the trail record was replaced or removed (or, in development, "
                "the database re-created: then move the sink aside)"
            )
            report.problem(f"checkpoint line {line.number}", reason)
            continue
        ours.append(line)
    targets = _check_lines(report, ours, verify, identity) if verify is not None else []
    _check_seen(report, identity, ours, database)
    _check_table(report, _since_restores(report, targets))
    return report


def _check_lines(
    report: CheckpointReport, ours: list[SinkLine], verify: VerifyKey, identity: TrailIdentity | None
) -> list[tuple[int, Checkpoint]]:
    """The trail's lines against each other; returns the checkpoints to check against the table."""
    if identity is None and ours:
        report.problem("trail", f"the sink has {len(ours)} line(s) of this database, but it has no trail record")
    targets: list[tuple[int, Checkpoint]] = []
    last_text: str | None = None
    signed_carry_over: tuple[int, CarryOver | None] | None = None  # (line, point) of the first line signing it
    since_restore: tuple[int, Checkpoint] | None = None  # the latest signed head since the latest restore
    for number, text, checkpoint in ours:
        if not checkpoint.legacy and checkpoint.previous_line != (line_digest(last_text) if last_text else ""):
            reason = "does not follow the line of this trail before it (a line removed, or inserted?)"
            report.problem(f"checkpoint line {number}", reason)
        last_text = text
        if checkpoint.key_id != keys.key_id(verify):
            continue
        if not _signature_holds(checkpoint, verify):
            report.problem(f"checkpoint line {number}", "signature does not verify (the line was altered?)")
            continue
        if not checkpoint.legacy:
            signed_carry_over = signed_carry_over or (number, checkpoint.carry_over)
            if checkpoint.carry_over != signed_carry_over[1]:
                reason = f"its carry-over point differs from the one line {signed_carry_over[0]} signed"
                report.problem(f"checkpoint line {number}", reason)
        if checkpoint.is_break:
            report.breaks.append((number, checkpoint))
            continue
        if checkpoint.is_restore:
            epoch = RestoreEpoch(number, checkpoint)
            if since_restore and since_restore[1].last_event_id > checkpoint.last_event_id:
                epoch = replace(epoch, lost_to=since_restore[1], lost_to_line=since_restore[0])
            report.epochs.append(epoch)
        else:
            _check_count_grows(report, since_restore, number, checkpoint)
        since_restore = (number, checkpoint)
        targets.append((number, checkpoint))
        report.latest, report.latest_line = checkpoint, number
        report.legacy += checkpoint.legacy
    if ours and ours[-1].checkpoint.key_id != keys.key_id(verify):
        reason = (
            f"signed by {ours[-1].checkpoint.key_id}, but the verify key is {keys.key_id(verify)}: it cannot be checked"
        )
        report.problem(f"checkpoint line {ours[-1].number}", reason)
    if signed_carry_over and identity and identity.carry_over != signed_carry_over[1]:
        reason = f"the trail record's carry-over point differs from the one checkpoint line {signed_carry_over[0]}"
        report.problem("trail", reason + " signed (the record was rewritten?)")
    return targets


def _check_count_grows(
    report: CheckpointReport, before_it: tuple[int, Checkpoint] | None, number: int, checkpoint: Checkpoint
) -> None:
    if before_it is None:
        return
    before_line, before = before_it
    if checkpoint.event_count < before.event_count or checkpoint.last_event_id < before.last_event_id:
        reason = (
            f"counts {checkpoint.event_count} events up to event {checkpoint.last_event_id}, fewer than line "
            f"{before_line}'s {before.event_count} up to event {before.last_event_id} (a shortened trail signed?)"
        )
        report.problem(f"checkpoint line {number}", reason)


def _since_restores(report: CheckpointReport, targets: list[tuple[int, Checkpoint]]) -> list[tuple[int, Checkpoint]]:
    """The signed heads still to be found in the table: each line's head unless a later restore epoch went back
    to before it (its events were lost with the restore, and their ids may name other events now)."""
    kept: list[tuple[int, Checkpoint]] = []
    reach: int | None = None  # the lowest head of the restore epochs after the line
    for number, checkpoint in reversed(targets):
        if reach is None or checkpoint.last_event_id <= reach:
            kept.append((number, checkpoint))
        else:
            report.superseded += 1
        if checkpoint.is_restore:
            reach = checkpoint.last_event_id if reach is None else min(reach, checkpoint.last_event_id)
    return kept[::-1]


def _check_seen(report: CheckpointReport, identity: TrailIdentity | None, ours: list[SinkLine], database: str) -> None:
    """No checkpoint is only "not yet" while the checkpointer has not had an interval to write one since it
    first saw events: it notes that moment in the trail record and in its first line, never the events'
    own times (kept to the day for reporters' events)."""
    seen = [identity.first_seen_at] if identity and identity.first_seen_at else []
    first_line = next((line.checkpoint for line in ours if not line.checkpoint.legacy), None)
    if first_line is not None:
        seen.append(datetime.fromisoformat(first_line.created_at))
    report.first_seen_at = min(seen) if seen else None
    if report.latest is not None:
        return
    interval = int(settings.AUDIT_CHECKPOINT_SECONDS)
    if report.first_seen_at is not None and timezone.now() - report.first_seen_at > timedelta(seconds=interval):
        reason = (
            f"the checkpointer first saw this trail's events at {report.first_seen_at.isoformat()}, more than one "
            f"interval ({interval} s) ago, but the sink has no checkpoint of it (lines removed, or the wrong sink?)"
        )
        report.problem("checkpoints", reason)
    if report.other_databases and settings.PRODUCTION and not report.problems:
        reason = f"no checkpoint of database {database!r}, but {report.other_databases} of others (wrong sink?)"
        report.problem("checkpoints", reason)


def _check_table(report: CheckpointReport, targets: list[tuple[int, Checkpoint]]) -> None:
    """Every checkpoint against the table in one ordered pass over the events, however many there are."""
    if not targets:
        return
    pending = sorted(targets, key=lambda target: (target[1].last_event_id, target[0]))
    latest_id = report.latest.last_event_id if report.latest else None
    index = count = 0
    rows = AuditEvent.objects.order_by("id").values_list("id", "row_hash")
    for event_id, row_hash in rows.iterator(chunk_size=5000):
        while index < len(pending) and pending[index][1].last_event_id < event_id:
            _compare(report, *pending[index], None, count)  # passed over: it is not there
            index += 1
        count += 1
        while index < len(pending) and pending[index][1].last_event_id == event_id:
            _compare(report, *pending[index], row_hash, count)
            index += 1
        if latest_id is not None and event_id > latest_id:
            report.events_since += 1
    for line, checkpoint in pending[index:]:
        _compare(report, line, checkpoint, None, count)
    report.checked = len(targets)


def _compare(report: CheckpointReport, line: int, checkpoint: Checkpoint, row_hash: str | None, count: int) -> None:
    event_id = checkpoint.last_event_id
    if row_hash is None:
        reason = f"named by checkpoint line {line} ({checkpoint.created_at}) but missing (events removed?)"
        report.problem(f"event {event_id}", reason)
    elif row_hash != checkpoint.row_hash:
        reason = f"its hash differs from checkpoint line {line}'s ({checkpoint.created_at}): altered and re-chained?"
        report.problem(f"event {event_id}", reason)
    if count != checkpoint.event_count:
        reason = (
            f"counted {checkpoint.event_count} events up to event {event_id}, the table now has {count} "
            "(events removed or inserted?)"
        )
        report.problem(f"checkpoint line {line}", reason)

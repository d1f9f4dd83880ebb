"""Custody keys: the keys a routed report's data key is wrapped under, so that it expires with the data.

A report's data key is first sealed to the helpline's long-lived, escrowed X25519 key (core.crypto), which
the public service can seal to and only the staff service and workers can open. Once the report is routed,
that copy is removed and the data key is wrapped (core.crypto.seal_key_with) under one custody key instead:

- ``open-YYYYMMDD``: the open-cases key, replaced every backup-retention period (``BACKUP_RETENTION_DAYS``);
- ``epoch-YYYY-MM``: a closed case's key, one per calendar month of its destruction date;
- ``held-YYYYMMDD``: a case on legal hold.

A key is replaced (lifecycle.keys: the open-cases key every backup-retention period, any key after a suspected
compromise) by a new one: an open or held key made on a later day, or with a suffix on the same day
(``open-YYYYMMDD-2``), or a further key for the same month (``epoch-YYYY-MM-2``). The replaced key is retired
(``CustodyKey.retired_on``): nothing is wrapped under it again, and the ``*_key_id`` functions name the newest
key that is not.

Custody keys live with the staff service and the workers only, in a key store (a folder by default,
``CUSTODY_KEY_DIR``, in development one per database under var/; a KMS fits behind ``KeyStore``), never in the
database, its backups, the public tier or the helpline key's escrow. The database records each key's id and
dates (``core.models.CustodyKey``), never its material. Destroying an epoch key once its cases are shredded
makes every backup's copy of them undecryptable by staff: only the reporter's own access code still opens
their own report in an old backup.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from core import crypto

OPEN = "open"
EPOCH = "epoch"
HELD = "held"
KINDS = (OPEN, EPOCH, HELD)
_KEY_ID = re.compile(r"^(open|held)-\d{8}(-\d+)?$|^epoch-\d{4}-\d{2}(-\d+)?$")


class KeyDestroyed(crypto.KeyUnavailable):
    """The custody key was destroyed: what it wrapped is gone for good (the retention schedule did it)."""


class ContentDestroyed(crypto.KeyUnavailable):
    """The report's content was destroyed (lifecycle.shredding): no key opens it."""


def kind_of(key_id: str) -> str:
    if not _KEY_ID.match(key_id):
        raise ValueError(f"Not a custody key id: {key_id!r}")
    return key_id.split("-", 1)[0]


def _base_id(key_id: str) -> str:
    """The id without its suffix: ``epoch-2031-04`` for ``epoch-2031-04-2``."""
    parts = key_id.split("-")
    return "-".join(parts[:3] if parts[0] == EPOCH else parts[:2])


def _generation(key_id: str) -> int:
    """1 for a key without a suffix, N for ``…-N``."""
    suffix = key_id.removeprefix(_base_id(key_id))
    return int(suffix[1:]) if suffix else 1


def _generations(base: str) -> dict[str, tuple[date | None, date | None]]:
    """The keys ``base`` and ``base-N`` there have been: their retirement and destruction days, by id."""
    from core.models import CustodyKey

    rows = CustodyKey.objects.filter(Q(key_id=base) | Q(key_id__startswith=f"{base}-")).values_list(
        "key_id", "retired_on", "destroyed_on"
    )
    return {
        key_id: (retired_on, destroyed_on)
        for key_id, retired_on, destroyed_on in rows
        if _KEY_ID.match(key_id) and _base_id(key_id) == base
    }


def _next_id(base: str, generations: dict[str, tuple[date | None, date | None]] | None = None) -> str:
    """A new id after every key ``base`` or ``base-N`` there has been."""
    taken = _generations(base) if generations is None else generations
    if not taken:
        return base
    return f"{base}-{max(_generation(key_id) for key_id in taken) + 1}"


def epoch_base_id(destroy_on: date) -> str:
    return f"epoch-{destroy_on.year:04d}-{destroy_on.month:02d}"


def epoch_key_id(destroy_on: date) -> str:
    """The key of the month ``destroy_on`` falls in: the newest neither retired nor destroyed (or a new one).
    A month whose newest key was destroyed keeps that id, so that wrapping under it is refused: its cases
    were shredded, and nothing may be kept for that month again under a key the service still holds."""
    base = epoch_base_id(destroy_on)
    generations = _generations(base)
    live = [key_id for key_id, (retired, destroyed) in generations.items() if retired is None and destroyed is None]
    if live:
        return max(live, key=_generation)
    newest = max(generations, key=_generation, default=None)
    if newest is not None and generations[newest][1] is not None:
        return newest
    return _next_id(base, generations)


def epoch_month_end(key_id: str) -> date:
    """The last day of an epoch key's month: its cases are all due by then."""
    year, month = (int(part) for part in _base_id(key_id).removeprefix("epoch-").split("-"))
    following = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(following.toordinal() - 1)


# --- the store ----------------------------------------------------------------------------------------


class KeyStore(Protocol):
    """Where custody keys' material lives. ``load`` returns None for a key that is not there."""

    def load(self, key_id: str) -> bytes | None: ...

    def create(self, key_id: str) -> bytes: ...

    def destroy(self, key_id: str) -> None: ...

    def key_ids(self) -> set[str]: ...


# Key material this process has read, by file path (so by store folder and key id): the file's identity when it
# was read (device, inode, size, modification time) and the material. A load serves it only while one stat of
# the path shows that same file: a key destroyed here or by any other process (its file overwritten, then
# removed), or a file put in its place, is never served from here.
_loaded: dict[str, tuple[tuple[int, int, int, int], bytes]] = {}


class FolderKeyStore:
    """One file per key (``<key_id>.key``, base64, mode 0600) in ``CUSTODY_KEY_DIR``. Creating is atomic
    across processes (a complete file is linked into place, or the one already there is used); destroying
    overwrites the file before unlinking it. What was read is kept in this process while the file is there
    unchanged (``_loaded``), so wrapping and opening do not read the file each time."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, key_id: str) -> Path:
        kind_of(key_id)
        return self.folder / f"{key_id}.key"

    def load(self, key_id: str) -> bytes | None:
        path = self._path(key_id)
        try:
            seen = os.stat(path)
        except FileNotFoundError:
            _loaded.pop(str(path), None)
            return None
        # The same file as when it was read (not removed, not replaced, not overwritten): its material still.
        identity = (seen.st_dev, seen.st_ino, seen.st_size, seen.st_mtime_ns)
        cached = _loaded.get(str(path))
        if cached is not None and cached[0] == identity:
            return cached[1]
        try:
            raw = base64.b64decode(self._read(path).strip(), validate=True)
        except FileNotFoundError:
            _loaded.pop(str(path), None)
            return None
        if len(raw) != crypto.KEY_BYTES:
            raise crypto.KeyUnavailable(f"Custody key {key_id!r} is damaged")
        _loaded[str(path)] = (identity, raw)
        return raw

    @staticmethod
    def _read(path: Path) -> bytes:
        return path.read_bytes()

    def create(self, key_id: str) -> bytes:
        existing = self.load(key_id)
        if existing is not None:
            return existing
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        raw = secrets.token_bytes(crypto.KEY_BYTES)
        tmp = self.folder / f".{key_id}.{secrets.token_hex(6)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, base64.b64encode(raw))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, self._path(key_id))
        except FileExistsError:
            raw = self.load(key_id) or raw
        finally:
            tmp.unlink(missing_ok=True)
        return raw

    def destroy(self, key_id: str) -> None:
        path = self._path(key_id)
        _loaded.pop(str(path), None)
        try:
            fd = os.open(path, os.O_WRONLY)
        except FileNotFoundError:
            return
        try:
            size = os.fstat(fd).st_size
            os.write(fd, b"\0" * size)
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink(missing_ok=True)

    def key_ids(self) -> set[str]:
        if not self.folder.is_dir():
            return set()
        return {path.stem for path in self.folder.glob("*.key") if _KEY_ID.match(path.stem)}


def key_folder() -> Path:
    """``CUSTODY_KEY_DIR``; in development, when unset, a folder of the database's own under var/, so that
    the demo database, the benchmarks' and each test database never share (or destroy) each other's keys."""
    if settings.CUSTODY_KEY_DIR:
        return Path(settings.CUSTODY_KEY_DIR)
    if settings.PRODUCTION:
        raise ImproperlyConfigured("CUSTODY_KEY_DIR is required: the custody keys' folder (docs/deploy.md)")
    return Path(settings.BASE_DIR) / "var" / "custody-keys" / str(connection.settings_dict["NAME"])


def store() -> KeyStore:
    """The configured store (read each time, so a test can point it at a folder of its own)."""
    if settings.HELPLINE_ROLE == "public":
        raise crypto.KeyUnavailable("The public service holds no custody key")
    factory = import_string(settings.CUSTODY_KEY_STORE)
    return factory(key_folder())  # type: ignore[no-any-return]


# --- keys by purpose --------------------------------------------------------------------------------------


def _registered(key_id: str) -> bytes:
    """The key's material, created (and recorded) when it is first needed. A key recorded as destroyed is
    never made again: what was wrapped under it must stay unreadable."""
    from core.models import CustodyKey

    # A share lock on the key's row until the caller's transaction ends: destroying a key takes the row FOR
    # UPDATE (lifecycle.keys), so it waits for this wrap to commit and then sees a row naming the key, or this
    # wrap waits for the destruction and then sees the key destroyed. Never a row under a destroyed key.
    # The same query says whether the row is there: only a key's first use records it (no cache of which rows
    # exist, which a rolled-back transaction could leave wrong).
    found, destroyed_on = _locked(key_id)
    if not found:
        try:
            with transaction.atomic():
                CustodyKey.objects.get_or_create(
                    key_id=key_id, defaults={"kind": kind_of(key_id), "created_on": timezone.localdate()}
                )
        except IntegrityError:
            pass  # recorded by another transaction meanwhile
        found, destroyed_on = _locked(key_id)
        if not found:
            raise crypto.KeyUnavailable(f"Custody key {key_id!r} could not be recorded")
    if destroyed_on is not None:
        raise KeyDestroyed(f"Custody key {key_id!r} was destroyed on {destroyed_on}")
    return store().create(key_id)


def _locked(key_id: str) -> tuple[bool, date | None]:
    """Whether the key's row is there, and its destruction day, with the row held FOR SHARE."""
    from core.models import CustodyKey

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT destroyed_on FROM {CustodyKey._meta.db_table} WHERE key_id = %s FOR SHARE",  # noqa: S608
            [key_id],
        )
        row = cursor.fetchone()
    return (False, None) if row is None else (True, row[0])


def _current(kind: str) -> str:
    """The open-cases or held key in use: the newest not retired, or a new one made today."""
    from core.models import CustodyKey

    live = CustodyKey.objects.filter(kind=kind, retired_on__isnull=True, destroyed_on__isnull=True).values_list(
        "key_id", "created_on"
    )
    newest = max(live, key=lambda row: (row[1], _generation(row[0])), default=None)
    return newest[0] if newest else fresh_key_id(kind)


def open_key_id() -> str:
    return _current(OPEN)


def held_key_id() -> str:
    return _current(HELD)


def fresh_key_id(kind: str, month_of: date | None = None) -> str:
    """An id for a new key: an open-cases or held key made today (with a suffix when one was made today
    already), or a further epoch key for the month of ``month_of`` (``epoch-YYYY-MM-N``)."""
    if kind == EPOCH:
        if month_of is None:
            raise ValueError("An epoch key belongs to a month")
        return _next_id(epoch_base_id(month_of))
    if kind not in KINDS:
        raise ValueError(f"Not a kind of custody key: {kind!r}")
    return _next_id(f"{kind}-{timezone.localdate():%Y%m%d}")


def load(key_id: str) -> bytes:
    """A custody key's material, to open with. Never creates one."""
    raw = store().load(key_id)
    if raw is None:
        from core.models import CustodyKey

        if CustodyKey.objects.filter(key_id=key_id, destroyed_on__isnull=False).exists():
            raise KeyDestroyed(f"Custody key {key_id!r} was destroyed")
        raise crypto.KeyUnavailable(f"No custody key {key_id!r} in the key store")
    return raw


# --- a report's data key ------------------------------------------------------------------------------


class Envelope(Protocol):
    """A report's key columns (reports.models.Report): core imports no app."""

    helpline_key_id: str
    helpline_sealed_key: bytes | memoryview
    custody_key_id: str
    custody_wrapped_key: bytes | memoryview


def wrap(key_id: str, data_key: bytes) -> bytes:
    return crypto.seal_key_with(_registered(key_id), data_key)


def wrapping_key(key_id: str) -> bytes:
    """A custody key's material to wrap data keys under, made and recorded when first needed. Refused for a
    destroyed key. Call it in the transaction that writes the wrapped rows (it holds the key's row)."""
    return _registered(key_id)


def data_key_of(report: Envelope) -> bytes:
    """The report's data key, opened with whichever key holds it (staff service and workers only)."""
    if report.custody_key_id:
        return crypto.open_key_with(load(report.custody_key_id), bytes(report.custody_wrapped_key))
    if report.helpline_key_id:
        return crypto.open_key_as_helpline(report.helpline_key_id, bytes(report.helpline_sealed_key))
    raise ContentDestroyed("This report's content was destroyed")


CUSTODY_FIELDS = ["helpline_key_id", "helpline_sealed_key", "custody_key_id", "custody_wrapped_key"]


def place(report: Envelope, key_id: str, data_key: bytes | None = None, material: bytes | None = None) -> list[str]:
    """Wrap the report's data key under ``key_id`` and drop every other staff copy (the helpline-sealed one
    included). Returns the fields to save. The reporter's own wrap is left as it is. ``material``: the key's,
    from wrapping_key, when the caller places many reports under it in one transaction."""
    if data_key is None:
        data_key = data_key_of(report)
    report.custody_wrapped_key = (
        crypto.seal_key_with(material, data_key) if material is not None else wrap(key_id, data_key)
    )
    report.custody_key_id = key_id
    report.helpline_key_id = ""
    report.helpline_sealed_key = b""
    return CUSTODY_FIELDS


def unloadable(key_ids: set[str]) -> set[str]:
    """Of the custody key ids rows name, those this process cannot load and that are not recorded as
    destroyed: a lost key file must never silently make reports unreadable."""
    from core.models import CustodyKey

    if not key_ids:
        return set()
    try:
        keys = store()
    except crypto.KeyUnavailable:
        return set()
    missing = {key_id for key_id in key_ids if keys.load(key_id) is None}
    destroyed = set(
        CustodyKey.objects.filter(key_id__in=missing, destroyed_on__isnull=False).values_list("key_id", flat=True)
    )
    return missing - destroyed

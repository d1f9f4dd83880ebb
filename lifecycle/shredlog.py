"""The shred log: which cases' content was destroyed, and which custody keys, and when, outside the database.

Restoring an old backup would bring destroyed content back; ``manage.py restore`` re-applies this log before
the service starts. One JSON line per destroyed case: the case number, the report's reference, the day, a
sequence number (a destroyed custody key's line names the key instead), the SHA-256 of the line before (so a
removed line breaks the chain) and the service's signature (core.signing). Case numbers and days only: nothing
anyone wrote. It lives beside the audit checkpoints (``SHRED_LOG_PATH``), and a deployment keeps it where the
database's backups are not.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO

from django.conf import settings

from core import signing


@dataclass(frozen=True)
class ShredEntry:
    case_number: str
    reference: str
    destroyed_on: date


@dataclass(frozen=True)
class KeyEntry:
    """A custody key destroyed: a restored database's record of it (core.models.CustodyKey) may predate it."""

    key_id: str
    destroyed_on: date


class ShredLogDamaged(Exception):
    """A line is unsigned, wrongly signed or out of its chain: the log cannot be trusted as it is."""


def log_path() -> Path:
    return Path(settings.SHRED_LOG_PATH)


def _digest(line: str) -> str:
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def _body(record: dict[str, object]) -> bytes:
    unsigned = {key: value for key, value in record.items() if key != "signed"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode("utf-8")


@contextmanager
def _locked(path: Path) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _last(handle: IO[str]) -> tuple[int, str]:
    handle.seek(0)
    seq, previous = 0, ""
    for line in handle:
        line = line.rstrip("\n")
        if line:
            seq = int(json.loads(line)["seq"])
            previous = _digest(line)
    return seq, previous


def append(entries: list[ShredEntry] | list[KeyEntry]) -> None:
    """Add entries (durably: written together, and fsynced once, before this returns). Called before the
    shredding commits (the nightly schedule: once per batch of cases), so a case whose content is destroyed
    is always in the log; an entry whose transaction then failed names a case the schedule destroys at its
    next run anyway."""
    if not entries:
        return
    with _locked(log_path()) as handle:
        seq, previous = _last(handle)
        handle.seek(0, os.SEEK_END)
        for entry in entries:
            seq += 1
            record: dict[str, object] = {"seq": seq, "destroyed_on": entry.destroyed_on.isoformat()}
            if isinstance(entry, KeyEntry):
                record["key"] = entry.key_id
            else:
                record.update(case=entry.case_number, reference=entry.reference)
            record["previous"] = previous
            record["signed"] = signing.sign(_body(record))
            line = json.dumps(record, sort_keys=True, separators=(",", ":"))
            handle.write(line + "\n")
            previous = _digest(line)
        handle.flush()
        os.fsync(handle.fileno())


def entries(path: Path | None = None) -> list[ShredEntry]:
    """Every destroyed case's entry, checked (``all_entries``)."""
    return [entry for entry in all_entries(path) if isinstance(entry, ShredEntry)]


def keys_destroyed(path: Path | None = None) -> list[KeyEntry]:
    """Every destroyed custody key's entry, checked (``all_entries``)."""
    return [entry for entry in all_entries(path) if isinstance(entry, KeyEntry)]


def all_entries(path: Path | None = None) -> list[ShredEntry | KeyEntry]:
    """Every entry, checked: each line signed by a key this process knows, in sequence, chained to the one
    before. Raises ShredLogDamaged otherwise."""
    path = path or log_path()
    if not path.exists():
        return []
    found: list[ShredEntry | KeyEntry] = []
    previous = ""
    expected = 1
    for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            signed = record["signed"]
            good = signing.verify(_body(record), signed)
            day = date.fromisoformat(str(record["destroyed_on"]))
            entry: ShredEntry | KeyEntry = (
                KeyEntry(key_id=str(record["key"]), destroyed_on=day)
                if "key" in record
                else ShredEntry(case_number=str(record["case"]), reference=str(record["reference"]), destroyed_on=day)
            )
        except (ValueError, KeyError, TypeError) as error:
            raise ShredLogDamaged(f"Line {number} of the shred log is not an entry") from error
        if not good:
            raise ShredLogDamaged(f"Line {number} of the shred log is not signed by the service")
        if record.get("seq") != expected or record.get("previous") != previous:
            raise ShredLogDamaged(f"Line {number} of the shred log is out of sequence: lines were removed")
        found.append(entry)
        previous = _digest(line)
        expected += 1
    return found

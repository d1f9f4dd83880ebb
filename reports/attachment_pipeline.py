"""Processing a report's file by the workers: scan it (clamd), strip its metadata (mat2), re-seal the cleaned file.

The handler of the PROCESS_ATTACHMENT outbox kind (reports.outbox_kinds; registered in reports/apps.py). The
workers hold the helpline's private key, which opens the report's data key, which opens the file's key.

Each step records its result on the attachment (``stage``, ``status``) in the same transaction that makes it,
so a worker killed at any moment leaves a state a re-run starts from: it may repeat the work of the step it
was in, never a result. Each step locks the row and checks it is still pending first, so a file removed
while it was being processed stays removed: never sealed back, marked clean, kept or blocked.

1. **Scan** (received → scanned). The decrypted chunks go straight from the database to clamd's INSTREAM;
   nothing is written anywhere. Infected: blocked, clamd's signature name kept, the content deleted, done.
   clamd down: the file waits, and is tried again with growing delays (outbox Retry), never given up.
2. **Strip** (scanned → done). The file is written, under a name made from its detected type (never the
   reporter's), into a private folder (mode 0700) on a memory-backed filesystem, and nowhere else. Its full
   type is checked there (reports.filetypes.identify): a file that is not what it claimed is blocked, with
   the reason, and its content deleted. mat2 (Debian's, /usr/bin/mat2, with a clean environment, inside
   bubblewrap; ``--lightweight`` for PDFs so their text survives) writes the cleaned copy, which is sealed
   under a new key (Resealer: a new generation, the original's chunks deleted, the original's SHA-256 kept
   in the sealed meta with the cleaned size and a note): clean. A file mat2 cannot clean is kept as it came:
   not_cleaned, "may contain identifying metadata". The folder is removed in a ``finally``, and folders
   left by killed workers are removed by the next run.

Nobody is emailed: the case page and the reporter's page show each file's status (as for routing).
Nothing here logs a name, a type or content: attachment ids and outcomes only.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import signal
import subprocess
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from nacl.exceptions import CryptoError

from core import keystore
from core.clamd import Clamd, ScannerUnavailable
from core.secretstream import CHUNK, StreamError
from core.timetrail import bucket_ceil
from outbox.models import OutboxMessage
from outbox.registry import Retry, register
from reports import filetypes
from reports.attachments import (
    FileMeta,
    Resealer,
    attachment_blob_delete,
    attachment_meta,
    attachment_meta_update,
    attachment_open,
)
from reports.models import Attachment, AttachmentChunk, Report
from reports.outbox_kinds import PROCESS_ATTACHMENT

log = logging.getLogger(__name__)

# Debian's mat2 and bubblewrap, by absolute path: never whatever a PATH finds.
MAT2 = "/usr/bin/mat2"
BWRAP = "/usr/bin/bwrap"
# The private folders this module makes: helpline-attachment-<pid>-<process start time>-<random>.
FOLDER_PREFIX = "helpline-attachment-"
_FOLDER_NAME = re.compile(rf"^{FOLDER_PREFIX}(\d+)-(\d+)-[0-9a-f]+$")

# What the helpline reads about a file's cleaning (sealed with the file's meta).
CLEANED_NOTE = "Metadata removed by mat2"
CLEANED_PDF_NOTE = (
    "Metadata removed by mat2 in lightweight mode, which keeps the text: pictures inside the PDF may keep theirs"
)
CLEANED_TEXT_NOTE = "Plain text: no metadata to remove"
NOT_CLEANED_NOTE = "Could not be cleaned: may contain identifying metadata"
NOT_CLEANED_SLOW_NOTE = "Could not be cleaned in time: may contain identifying metadata"
UNKNOWN_TYPE_REASON = "The file is not a type the portal accepts"


class Unavailable(Exception):
    """Something the processing needs is not there now (the scanner, the sandbox, a memory-backed folder):
    the file waits and is tried again later."""


# --- the handler ---------------------------------------------------------------------------------------------


def report_data_key(report: Report) -> bytes:
    """The report's data key, opened with the helpline's private key (workers only)."""
    return keystore.data_key_of(report)


def retry_delay(attempt: int) -> timedelta:
    """30 s, 1 min, 2 min, … up to ATTACHMENT_RETRY_MAX_SECONDS (the sweeper picks a row up once it has passed,
    at the end of the time trail's bucket it falls in: TIME_TRAIL_BUCKET_SECONDS)."""
    first = int(settings.ATTACHMENT_RETRY_FIRST_SECONDS)
    seconds = min(first * 2 ** min(max(attempt - 1, 0), 20), int(settings.ATTACHMENT_RETRY_MAX_SECONDS))
    return timedelta(seconds=seconds)


def _attempt(attachment_id: int) -> int:
    attempts = (
        OutboxMessage.objects.filter(kind=PROCESS_ATTACHMENT, target_id=attachment_id)
        .values_list("attempts", flat=True)
        .first()
    )
    return attempts or 1


def attachment_process(attachment_id: int) -> Retry | None:
    """Scan, strip and re-seal one file, from wherever an earlier run stopped. None when there is nothing
    left to do; a Retry while the scanner or the sandbox is unavailable."""
    attachment = Attachment.objects.select_related("report").filter(pk=attachment_id).first()
    if attachment is None or attachment.report is None:
        return None
    if attachment.stage == Attachment.Stage.DONE or attachment.status != Attachment.Status.PENDING:
        return None
    if attachment.report.content_destroyed_on is not None:
        return None  # destroyed with the report's content (lifecycle.shredding): nothing is left to process
    data_key = report_data_key(attachment.report)
    try:
        if attachment.stage == Attachment.Stage.RECEIVED:
            attachment = scan_step(attachment, data_key)
        if attachment.stage == Attachment.Stage.SCANNED and attachment.status == Attachment.Status.PENDING:
            strip_step(attachment, data_key)
    except (ScannerUnavailable, Unavailable) as error:
        delay = retry_delay(_attempt(attachment_id))
        log.warning("attachment %s waits %s s: %s", attachment_id, int(delay.total_seconds()), error)
        # The wait is counted from when the reporter's upload reached the worker: rounded up to the time
        # trail's bucket, so the row never says when that was (core.timetrail, docs/privacy.md).
        return Retry(at=bucket_ceil(timezone.now() + delay), error=str(error))
    except (StreamError, CryptoError, ValueError):
        # A file removed meanwhile (its chunks and key deleted) no longer opens: nothing is left to do. Any
        # other file that does not open is an error for the operator, as before.
        if Attachment.objects.filter(pk=attachment_id, status=Attachment.Status.PENDING).exists():
            raise
        log.info("attachment %s was removed while it was processed: nothing left to do", attachment_id)
        return None
    return None


def register_handlers() -> None:
    # It talks to clamd and runs mat2 between its own short transactions: not atomic with the row.
    register(PROCESS_ATTACHMENT, attachment_process, atomic=False)


def _locked(attachment: Attachment, stage: str) -> Attachment | None:
    """The row, locked, if it is still pending at ``stage`` (another run, or a deletion, may have moved it)."""
    locked = Attachment.objects.select_for_update().get(pk=attachment.pk)
    if locked.stage != stage or locked.status != Attachment.Status.PENDING:
        return None
    return locked


# --- 1. scan -------------------------------------------------------------------------------------------------


def scan_step(attachment: Attachment, data_key: bytes) -> Attachment:
    result = Clamd().instream(attachment_open(attachment, data_key))
    with transaction.atomic():
        locked = _locked(attachment, Attachment.Stage.RECEIVED)
        if locked is None:
            return Attachment.objects.get(pk=attachment.pk)
        if result.infected:
            locked.scan_signature = result.signature[:128]
            locked.stage = Attachment.Stage.DONE
            locked.save(update_fields=["scan_signature", "stage"])
            attachment_blob_delete(locked, Attachment.Status.BLOCKED)
            log.info("attachment %s blocked by the malware scan", attachment.pk)
        else:
            locked.stage = Attachment.Stage.SCANNED
            locked.save(update_fields=["stage"])
            log.info("attachment %s scanned: nothing found", attachment.pk)
        return locked


# --- 2. strip and re-seal ------------------------------------------------------------------------------------


def strip_step(attachment: Attachment, data_key: bytes) -> None:
    meta = attachment_meta(attachment, data_key)
    claimed = filetypes.BY_CONTENT_TYPE.get(meta.content_type)
    if claimed is None:
        _block(attachment, data_key, meta, UNKNOWN_TYPE_REASON)
        return
    work_dir = Path(settings.ATTACHMENT_WORK_DIR)
    abandoned_folders_remove(work_dir)
    folder = private_folder(work_dir)
    try:
        original = folder / f"file{claimed.extension}"
        _write_plaintext(original, attachment, data_key)
        try:
            kind = filetypes.identify(claimed, original)
        except filetypes.RefusedType as refused:
            _block(attachment, data_key, meta, str(refused))
            return
        cleaned, note = mat2_clean(folder, original, kind)
        if cleaned is None:
            _keep_as_it_came(attachment, data_key, meta, note)
            return
        resealer = Resealer(attachment)
        with cleaned.open("rb") as source:
            while piece := source.read(CHUNK):
                resealer.write(piece)
        _replace_with_cleaned(
            attachment, data_key, resealer, replace(meta, cleaned_size=resealer.size, cleaning_note=note)
        )
    finally:
        folder_remove(folder)


def _write_plaintext(path: Path, attachment: Attachment, data_key: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, "wb") as target:
        for chunk in attachment_open(attachment, data_key):
            target.write(chunk)


def _block(attachment: Attachment, data_key: bytes, meta: FileMeta, reason: str) -> None:
    """Not what it claimed to be: blocked, never served; the plain reason is sealed with its meta."""
    with transaction.atomic():
        locked = _locked(attachment, Attachment.Stage.SCANNED)
        if locked is None:
            return
        attachment_meta_update(locked, data_key, replace(meta, cleaning_note=reason))
        locked.stage = Attachment.Stage.DONE
        locked.save(update_fields=["stage"])
        attachment_blob_delete(locked, Attachment.Status.BLOCKED)
    log.info("attachment %s blocked: not the type it claimed", attachment.pk)


def _keep_as_it_came(attachment: Attachment, data_key: bytes, meta: FileMeta, note: str) -> None:
    with transaction.atomic():
        locked = _locked(attachment, Attachment.Stage.SCANNED)
        if locked is None:
            return
        attachment_meta_update(locked, data_key, replace(meta, cleaning_note=note))
        Attachment.objects.filter(pk=locked.pk).update(
            status=Attachment.Status.NOT_CLEANED, stage=Attachment.Stage.DONE
        )
    log.info("attachment %s could not be cleaned: kept with a warning", attachment.pk)


def _replace_with_cleaned(attachment: Attachment, data_key: bytes, resealer: Resealer, meta: FileMeta) -> None:
    with transaction.atomic():
        locked = _locked(attachment, Attachment.Stage.SCANNED)
        if locked is None or locked.generation != attachment.generation:
            current = Attachment.objects.get(pk=attachment.pk)
            if current.generation != resealer.generation:
                # Removed (or finished by another run) meanwhile: this run's chunks are nobody's.
                AttachmentChunk.objects.filter(attachment=attachment, generation=resealer.generation).delete()
            return
        resealer.replace(data_key, meta)
        Attachment.objects.filter(pk=locked.pk).update(status=Attachment.Status.CLEAN, stage=Attachment.Stage.DONE)
    log.info("attachment %s cleaned and re-sealed", attachment.pk)


# --- the private, memory-backed folder -----------------------------------------------------------------------


def filesystem_type(path: Path) -> str:
    """The type of the filesystem ``path`` is on (from /proc/self/mounts: the longest mount point above it)."""
    real = os.path.realpath(path)
    found, fstype = "", ""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mount = fields[1].replace("\\040", " ")
        inside = real == mount or real.startswith(mount.rstrip("/") + "/")
        if inside and len(mount) >= len(found):
            found, fstype = mount, fields[2]
    return fstype


def memory_backed(path: Path) -> bool:
    return filesystem_type(path) in {"tmpfs", "ramfs"}


def _start_time(pid: int) -> str | None:
    """A process's start time (clock ticks after boot), which tells it from a later process given its pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def private_folder(work_dir: Path) -> Path:
    """A new folder only this process's user can open, on a memory-backed filesystem; named after this
    process so that a folder left by a killed worker can be recognised and removed."""
    if not work_dir.is_dir() or not memory_backed(work_dir):
        raise Unavailable("ATTACHMENT_WORK_DIR is not a memory-backed folder (tmpfs): no file is decrypted")
    pid = os.getpid()
    folder = work_dir / f"{FOLDER_PREFIX}{pid}-{_start_time(pid)}-{secrets.token_hex(8)}"
    folder.mkdir(mode=0o700)
    folder.chmod(0o700)
    for name in ("tmp", "home"):
        (folder / name).mkdir(mode=0o700)
    return folder


def folder_remove(folder: Path) -> None:
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        pass
    except OSError as error:
        log.error("a private attachment folder could not be removed (%s)", type(error).__name__)


def abandoned_folders_remove(work_dir: Path) -> int:
    """Remove the folders of processes that no longer run (a worker killed mid-file never reached its
    ``finally``). Returns how many."""
    removed = 0
    if not work_dir.is_dir():
        return 0
    for entry in work_dir.iterdir():
        match = _FOLDER_NAME.match(entry.name)
        if match is None or not entry.is_dir() or entry.is_symlink():
            continue
        pid, started = int(match[1]), match[2]
        if _start_time(pid) == started:
            continue  # its process still runs (this one included)
        folder_remove(entry)
        removed += 1
    return removed


# --- mat2 ----------------------------------------------------------------------------------------------------

_sandbox_works = False


def _clean_environment(folder: Path) -> dict[str, str]:
    """All mat2 gets: no settings, no keys, no proxies. Its temporary files (archive members, PDF pages)
    go to the private folder, never /tmp."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(folder / "home"),
        "TMPDIR": str(folder / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def sandbox_command(folder: Path, environment: dict[str, str], command: list[str]) -> list[str]:
    """``command`` inside bubblewrap: no network, no other process, no capabilities, the system's programs
    read-only, and of everything writable only the private folder (so none of the worker's keys, settings or
    database connections). It dies with the worker."""
    args = [BWRAP, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--clearenv"]
    for name, value in environment.items():
        args += ["--setenv", name, value]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for shared in ("/etc/alternatives", "/etc/fonts", "/etc/ld.so.cache", "/etc/mime.types", "/etc/perl"):
        args += ["--ro-bind-try", shared, shared]
    # The sandbox's own /tmp: an empty tmpfs of its own (mat2's TMPDIR is in the private folder anyway).
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]  # noqa: S108
    args += ["--bind", str(folder), str(folder)]
    args += ["--chdir", str(folder), "--", *command]
    return args


def _run(command: list[str], folder: Path, environment: dict[str, str], timeout: float) -> int | None:
    """Run ``command`` in its own session; None when it ran out of time (it and its children are killed)."""
    process = subprocess.Popen(  # noqa: S603 - our own fixed command; the only argument from a file is our path
        command,
        cwd=folder,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # mat2 names the file and, for some errors, what it found in it: not logged
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None


def sandbox_check(folder: Path) -> None:
    """bubblewrap starts here (it needs user namespaces); once it has, this process trusts it."""
    global _sandbox_works
    if _sandbox_works:
        return
    if not os.access(BWRAP, os.X_OK):
        raise Unavailable(f"{BWRAP} is missing: install bubblewrap, or set MAT2_SANDBOX=false (docs/attachments.md)")
    environment = _clean_environment(folder)
    if _run(sandbox_command(folder, environment, ["/usr/bin/true"]), folder, {}, 30) != 0:
        raise Unavailable("bubblewrap cannot start here (user namespaces refused?): see docs/attachments.md")
    _sandbox_works = True


def mat2_clean(folder: Path, path: Path, kind: filetypes.FileType) -> tuple[Path | None, str]:
    """Clean ``path`` with mat2. Returns the cleaned copy and the note for the helpline, or (None, why not)."""
    if not os.access(MAT2, os.X_OK):
        raise Unavailable(f"{MAT2} is missing: install Debian's mat2 (make setup does)")
    command = [MAT2]
    if kind is filetypes.PDF:
        # The default mode turns every page into a picture: the text, which is the evidence, would be lost.
        command.append("--lightweight")
    command.append(str(path))
    environment = _clean_environment(folder)
    if settings.MAT2_SANDBOX:
        sandbox_check(folder)
        command, environment = sandbox_command(folder, environment, command), {}
    returned = _run(command, folder, environment, float(settings.ATTACHMENT_CLEAN_TIMEOUT_SECONDS))
    cleaned = path.with_name(f"{path.stem}.cleaned{path.suffix}")
    if returned is None:
        log.warning("mat2 ran out of time (%s s)", settings.ATTACHMENT_CLEAN_TIMEOUT_SECONDS)
        return None, NOT_CLEANED_SLOW_NOTE
    if returned != 0 or not cleaned.is_file():
        log.info("mat2 could not clean a file (exit status %s)", returned)
        return None, NOT_CLEANED_NOTE
    if kind is filetypes.PDF:
        return cleaned, CLEANED_PDF_NOTE
    if kind is filetypes.TEXT:
        return cleaned, CLEANED_TEXT_NOTE
    return cleaned, CLEANED_NOTE

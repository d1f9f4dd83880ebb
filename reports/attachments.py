"""Attachments at rest: a file sealed chunk by chunk as it arrives, kept in PostgreSQL, opened as a stream.

The public tier holds only the helpline's public key, yet a multipart body may carry the file before the
access code that unlocks the report. So every file starts with a random key of its own (``Incoming``): its
chunks are sealed and stored as they arrive, with no owner and a short expiry. Once the caller has checked
the code (or holds the draft's key), ``incoming_keep`` wraps the file key with the report's data key (or
the draft's) and seals the file's name, type, size and SHA-256 beside it; ``incoming_discard`` drops a file
whose code was wrong. A crashed upload leaves only ciphertext whose key is gone, which the expiry sweeps.

Nothing here ever writes plaintext anywhere: not to disk, not to a log, not to a task's arguments.
Processing by the workers (scan, strip, re-seal) is reports.attachment_pipeline's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core import crypto, secretstream
from core.timetrail import expiry_in
from outbox.services import outbox_add
from reports.models import Attachment, AttachmentChunk
from reports.outbox_kinds import PROCESS_ATTACHMENT

# How many leading bytes an upload keeps in memory for the type check at upload (reports.filetypes).
HEAD_BYTES = 8 * 1024
# Chunks read from the database at a time when a file is opened (4 MiB of ciphertext).
READ_BATCH = 64


class TooLarge(Exception):
    """The file is over ATTACHMENT_MAX_BYTES: it was not kept."""


@dataclass(frozen=True)
class FileMeta:
    """What is sealed beside a file: never in clear anywhere."""

    name: str
    content_type: str  # the type the service detected (reports.filetypes), never the browser's claim
    size: int
    sha256: str  # of the original file as received
    cleaned_size: int | None = None
    cleaning_note: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "cleaned_size": self.cleaned_size,
            "cleaning_note": self.cleaning_note,
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> FileMeta:
        cleaned = data.get("cleaned_size")
        return cls(
            name=str(data["name"]),
            content_type=str(data["type"]),
            size=int(str(data["size"])),
            sha256=str(data["sha256"]),
            cleaned_size=int(str(cleaned)) if cleaned is not None else None,
            cleaning_note=str(data.get("cleaning_note") or ""),
        )


def max_bytes() -> int:
    return int(settings.ATTACHMENT_MAX_BYTES)


def max_files() -> int:
    """How many files a reporter may add to a report (the question pages, /check and the API together)."""
    return int(settings.ATTACHMENT_MAX_FILES)


def max_helpline_files() -> int:
    """How many files the helpline may add to a report (with its messages, and from a caller)."""
    return int(settings.ATTACHMENT_MAX_HELPLINE_FILES)


# Sealed chunks are inserted WRITE_BATCH at a time (256 KiB of file) in one statement rather than one commit per
# 64 KiB chunk (docs/benchmarks.md, "Attachments"). Memory holds at most a batch.
WRITE_BATCH = 4


class _ChunkWriter:
    """Sealed chunks of one generation of a file, stored WRITE_BATCH at a time (``flush`` writes the rest)."""

    def __init__(self, attachment: Attachment, generation: int) -> None:
        self.attachment = attachment
        self.generation = generation
        self._pending: list[AttachmentChunk] = []

    def __call__(self, index: int, sealed: bytes) -> None:
        self._pending.append(
            AttachmentChunk(attachment=self.attachment, generation=self.generation, index=index, data=sealed)
        )
        if len(self._pending) >= WRITE_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            AttachmentChunk.objects.bulk_create(self._pending)
            self._pending = []

    def drop(self) -> None:
        self._pending = []


class Incoming:
    """One file being received: ``write`` its bytes as they arrive (each whole chunk is sealed at once and
    stored with the next WRITE_BATCH), then ``close``. Memory holds one batch and ``head``, whatever the
    file's size. Past ATTACHMENT_MAX_BYTES it stops storing and ``too_large`` is set."""

    def __init__(self, *, name: str) -> None:
        self.name = name
        self._key = secretstream.new_file_key()
        self.attachment = Attachment.objects.create(
            expires_at=expiry_in(int(settings.ATTACHMENT_UPLOAD_TTL_SECONDS)), added_on=timezone.localdate()
        )
        self._writer = _ChunkWriter(self.attachment, 0)
        self._sealer = secretstream.Sealer(self._key, self._writer)
        self.head = b""
        self.too_large = False
        self.closed = False

    def write(self, data: bytes) -> None:
        if self.too_large:
            return
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        if self._sealer.size + len(data) > max_bytes():
            self.too_large = True
            self._writer.drop()
            self.attachment.chunks.all().delete()
            return
        self._sealer.write(data)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.too_large:
            return
        count = self._sealer.close()
        self._writer.flush()
        Attachment.objects.filter(pk=self.attachment.pk).update(header=self._sealer.header, chunk_count=count)
        self.attachment.header = self._sealer.header
        self.attachment.chunk_count = count

    @property
    def size(self) -> int:
        return self._sealer.size

    @property
    def sha256(self) -> str:
        return self._sealer.sha256

    def file_key(self) -> bytes:
        return self._key


def incoming_discard(incoming: Incoming) -> None:
    """Drop a file that will not be kept (a wrong code, a refused type, a file too large)."""
    Attachment.objects.filter(pk=incoming.attachment.pk).delete()


def incoming_keep(
    incoming: Incoming,
    *,
    content_type: str,
    key: bytes,
    report_id: int | None = None,
    draft_id: uuid.UUID | None = None,
    draft_expires_at: datetime | None = None,
    source: str = Attachment.Source.REPORTER,
    added_by_id: int | None = None,
    message_id: int | None = None,
) -> Attachment:
    """Keep a received file: its key wrapped with ``key`` (the report's data key, or the draft's key when
    ``draft_id`` is given) and its name, type, size and SHA-256 sealed beside it. The caller's transaction
    adds the outbox row that starts processing (a file of a report) or nothing (a draft's file)."""
    if incoming.too_large:
        raise TooLarge
    incoming.close()
    meta = FileMeta(name=incoming.name, content_type=content_type, size=incoming.size, sha256=incoming.sha256)
    attachment = incoming.attachment
    attachment.key_wrap = crypto.seal_key_with(key, incoming.file_key())
    attachment.meta = crypto.seal_content(key, meta.as_dict())
    attachment.report_id = report_id
    attachment.draft_id = draft_id
    attachment.expires_at = draft_expires_at if draft_id is not None else None
    attachment.source = source
    attachment.added_by_id = added_by_id
    attachment.message_id = message_id
    attachment.save(
        update_fields=["key_wrap", "meta", "report", "draft_id", "expires_at", "source", "added_by", "message"]
    )
    return attachment


def draft_files(draft_id: uuid.UUID) -> QuerySet[Attachment]:
    return Attachment.objects.filter(draft_id=draft_id, report__isnull=True).exclude(status=Attachment.Status.REMOVED)


@transaction.atomic
def draft_files_adopt(*, draft_id: uuid.UUID, draft_key: bytes, report_id: int, data_key: bytes) -> list[Attachment]:
    """On submit: the draft's files become the report's, re-wrapped with its data key (their chunks are
    untouched: only the small wraps change). Returns them, for the caller to start their processing."""
    adopted = []
    for attachment in draft_files(draft_id).select_for_update():
        file_key = crypto.open_key_with(draft_key, bytes(attachment.key_wrap))
        meta = crypto.open_content(draft_key, bytes(attachment.meta))
        attachment.key_wrap = crypto.seal_key_with(data_key, file_key)
        attachment.meta = crypto.seal_content(data_key, meta)
        attachment.report_id = report_id
        attachment.draft_id = None
        attachment.expires_at = None
        attachment.sent_with_report = True
        attachment.save(update_fields=["key_wrap", "meta", "report", "draft_id", "expires_at", "sent_with_report"])
        adopted.append(attachment)
    return adopted


def attachment_meta(attachment: Attachment, key: bytes) -> FileMeta:
    """The sealed name, type, size and fingerprint (``key``: the report's data key or the draft's key)."""
    return FileMeta.from_dict(crypto.open_content(key, bytes(attachment.meta)))


def attachment_meta_update(attachment: Attachment, key: bytes, meta: FileMeta) -> None:
    attachment.meta = crypto.seal_content(key, meta.as_dict())
    attachment.save(update_fields=["meta"])


def _sealed_chunks(attachment_id: int, generation: int, count: int) -> Iterator[bytes]:
    """The stored chunks in order, READ_BATCH at a time (never the whole file in memory)."""
    for start in range(0, count, READ_BATCH):
        rows = AttachmentChunk.objects.filter(
            attachment_id=attachment_id, generation=generation, index__gte=start, index__lt=start + READ_BATCH
        ).order_by("index")
        batch = list(rows.values_list("index", "data"))
        for offset, (index, data) in enumerate(batch):
            if index != start + offset:
                raise secretstream.StreamError("A chunk of the file is missing")
            yield bytes(data)
        if len(batch) != min(READ_BATCH, count - start):
            raise secretstream.StreamError("A chunk of the file is missing")


def attachment_open(attachment: Attachment, key: bytes) -> Iterator[bytes]:
    """The current generation's plaintext, chunk by chunk (for the workers and for streaming a download).
    ``key``: the report's data key. Raises StreamError when the stored file does not open."""
    file_key = crypto.open_key_with(key, bytes(attachment.key_wrap))
    meta = attachment_meta(attachment, key)
    size = (
        meta.size if attachment.generation == 0 else (meta.cleaned_size if meta.cleaned_size is not None else meta.size)
    )
    return secretstream.open_chunks(
        file_key,
        bytes(attachment.header),
        _sealed_chunks(attachment.pk, attachment.generation, attachment.chunk_count),
        size,
    )


class Resealer:
    """Write a new generation of an attachment's file (the cleaned one) under a new file key: ``write`` the
    plaintext, then ``replace`` swaps it in and deletes the old generation's chunks, in one transaction.
    A worker killed half-way leaves stray chunks of the new generation, which ``start`` clears first, so a
    re-run repeats the work and never its result."""

    def __init__(self, attachment: Attachment) -> None:
        self.attachment = attachment
        self.generation = attachment.generation + 1
        AttachmentChunk.objects.filter(attachment=attachment, generation=self.generation).delete()
        self._key = secretstream.new_file_key()
        self._writer = _ChunkWriter(attachment, self.generation)
        self._sealer = secretstream.Sealer(self._key, self._writer)

    def write(self, data: bytes) -> None:
        self._sealer.write(data)

    @property
    def size(self) -> int:
        return self._sealer.size

    @transaction.atomic
    def replace(self, data_key: bytes, meta: FileMeta) -> Attachment:
        """Swap the new generation in (its key wrapped with ``data_key``, ``meta`` sealed) and drop the old."""
        count = self._sealer.close()
        self._writer.flush()
        attachment = Attachment.objects.select_for_update().get(pk=self.attachment.pk)
        old = attachment.generation
        attachment.generation = self.generation
        attachment.key_wrap = crypto.seal_key_with(data_key, self._key)
        attachment.header = self._sealer.header
        attachment.chunk_count = count
        attachment.meta = crypto.seal_content(data_key, meta.as_dict())
        attachment.save(update_fields=["generation", "key_wrap", "header", "chunk_count", "meta"])
        AttachmentChunk.objects.filter(attachment=attachment, generation=old).delete()
        return attachment


def attachment_blob_delete(attachment: Attachment, status: str = Attachment.Status.REMOVED) -> None:
    """Remove a file's content for good (a blocked file, or a supervisor's deletion): its chunks and its key
    wrap go; the row stays, with ``status``, for the audit trail and the lists (its sealed name too)."""
    AttachmentChunk.objects.filter(attachment=attachment).delete()
    Attachment.objects.filter(pk=attachment.pk).update(key_wrap=b"", header=b"", chunk_count=0, status=status)
    attachment.status = status


def report_files(report_id: int) -> QuerySet[Attachment]:
    return Attachment.objects.filter(report_id=report_id)


def _kept(report_id: int, source: str) -> int:
    return report_files(report_id).filter(source=source).exclude(status=Attachment.Status.REMOVED).count()


def files_left(report_id: int) -> int:
    """How many more files the reporter may add to their report (ATTACHMENT_MAX_FILES): their own files count,
    removed ones and the helpline's do not."""
    return max(0, max_files() - _kept(report_id, Attachment.Source.REPORTER))


def helpline_files_left(report_id: int) -> int:
    """How many more files the helpline may add to a report (ATTACHMENT_MAX_HELPLINE_FILES): its own files
    count, removed ones and the reporter's do not."""
    return max(0, max_helpline_files() - _kept(report_id, Attachment.Source.HELPLINE))


def attachment_processing_start(attachment: Attachment) -> None:
    """Ask the workers to scan, strip and re-seal a report's file, in the caller's transaction (the file and
    its outbox row commit together)."""
    outbox_add(kind=PROCESS_ATTACHMENT, target_id=attachment.pk)


def attachments_expired_sweep(now: datetime | None = None) -> int:
    """Drop uploads nobody kept and files of drafts that expired (their keys are gone with the draft's
    cookie); returns how many. Run by the beat with the drafts' own sweep."""
    _, by_model = Attachment.objects.filter(report__isnull=True, expires_at__lt=now or timezone.now()).delete()
    return by_model.get(Attachment._meta.label, 0)

"""reports.attachments: a file sealed as it arrives, kept in PostgreSQL, never in clear, opened as a stream."""

import hashlib
import os
import uuid

import nacl.exceptions
import pytest
from django.db import connection
from django.test import override_settings

from core import crypto
from core.secretstream import CHUNK, StreamError
from reports import attachments
from reports.attachments import Incoming, Resealer
from reports.models import Attachment, AttachmentChunk
from tests.factories import submit_report

pytestmark = pytest.mark.django_db

CANARY = b"CANARY-7f3e-attachment-store"


def receive(data: bytes, name: str = "minutes.txt", piece: int = 10_000) -> Incoming:
    incoming = Incoming(name=name)
    for start in range(0, len(data), piece):
        incoming.write(data[start : start + piece])
    return incoming


def test_a_kept_file_opens_with_the_report_key_and_is_nowhere_in_clear() -> None:
    report = submit_report().report
    data_key = crypto.new_data_key()
    data = os.urandom(2 * CHUNK) + CANARY + os.urandom(500)
    incoming = receive(data, name="canary-name-7f3e.txt")
    kept = attachments.incoming_keep(incoming, content_type="text/plain", key=data_key, report_id=report.pk)
    kept.refresh_from_db()
    assert kept.expires_at is None and kept.report_id == report.pk
    assert b"".join(attachments.attachment_open(kept, data_key)) == data
    meta = attachments.attachment_meta(kept, data_key)
    assert (meta.name, meta.size, meta.sha256) == ("canary-name-7f3e.txt", len(data), hashlib.sha256(data).hexdigest())
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM reports_attachmentchunk UNION ALL SELECT meta FROM reports_attachment")
        stored = b"".join(bytes(row[0]) for row in cursor.fetchall())
    assert CANARY not in stored and b"canary-name-7f3e" not in stored
    # Padded: two chunks of data and a bit are stored as three whole chunks.
    assert AttachmentChunk.objects.filter(attachment=kept).count() == 3


def test_a_discarded_upload_leaves_nothing() -> None:
    incoming = receive(os.urandom(CHUNK * 2 + 3))
    attachments.incoming_discard(incoming)
    assert not Attachment.objects.exists() and not AttachmentChunk.objects.exists()


@override_settings(ATTACHMENT_MAX_BYTES=CHUNK + 10)
def test_a_file_over_the_limit_stops_being_stored_and_is_not_kept() -> None:
    incoming = receive(os.urandom(3 * CHUNK))
    assert incoming.too_large
    assert not AttachmentChunk.objects.filter(attachment=incoming.attachment).exists()
    with pytest.raises(attachments.TooLarge):
        attachments.incoming_keep(incoming, content_type="text/plain", key=crypto.new_data_key(), report_id=None)


def test_a_drafts_files_are_rewrapped_on_submit() -> None:
    report = submit_report().report
    draft_id, draft_key, data_key = uuid.uuid4(), crypto.new_data_key(), crypto.new_data_key()
    data = b"rota for the week\n" * 100
    incoming = receive(data)
    kept = attachments.incoming_keep(
        incoming,
        content_type="text/plain",
        key=draft_key,
        draft_id=draft_id,
        draft_expires_at=incoming.attachment.expires_at,
    )
    assert attachments.draft_files(draft_id).get() == kept
    adopted = attachments.draft_files_adopt(
        draft_id=draft_id, draft_key=draft_key, report_id=report.pk, data_key=data_key
    )
    assert [a.pk for a in adopted] == [kept.pk]
    kept.refresh_from_db()
    assert kept.draft_id is None and kept.expires_at is None and kept.report_id == report.pk
    assert b"".join(attachments.attachment_open(kept, data_key)) == data
    with pytest.raises(nacl.exceptions.CryptoError):
        list(attachments.attachment_open(kept, draft_key))


def test_resealing_replaces_the_original_and_a_rerun_after_a_kill_is_harmless() -> None:
    report = submit_report().report
    data_key = crypto.new_data_key()
    original = os.urandom(CHUNK + 7)
    kept = attachments.incoming_keep(receive(original), content_type="text/plain", key=data_key, report_id=report.pk)
    # A worker killed half-way through writing the cleaned file: stray chunks of generation 1.
    killed = Resealer(kept)
    killed.write(b"half")
    killed.write(os.urandom((attachments.WRITE_BATCH + 2) * CHUNK))  # a batch of chunks is stored
    assert AttachmentChunk.objects.filter(attachment=kept, generation=1).exists()
    # The re-run starts again and swaps in only its own result.
    cleaned = b"cleaned content"
    resealer = Resealer(kept)
    resealer.write(cleaned)
    meta = attachments.attachment_meta(kept, data_key)
    replaced = resealer.replace(data_key, attachments.FileMeta(**{**meta.__dict__, "cleaned_size": len(cleaned)}))
    assert replaced.generation == 1
    assert set(AttachmentChunk.objects.filter(attachment=kept).values_list("generation", flat=True)) == {1}
    assert b"".join(attachments.attachment_open(replaced, data_key)) == cleaned
    assert attachments.attachment_meta(replaced, data_key).sha256 == hashlib.sha256(original).hexdigest()


def test_a_missing_chunk_is_refused() -> None:
    report = submit_report().report
    data_key = crypto.new_data_key()
    kept = attachments.incoming_keep(
        receive(os.urandom(3 * CHUNK)), content_type="text/plain", key=data_key, report_id=report.pk
    )
    AttachmentChunk.objects.filter(attachment=kept, index=1).delete()
    with pytest.raises(StreamError):
        list(attachments.attachment_open(kept, data_key))


def test_deleting_the_blob_keeps_the_row_for_the_record() -> None:
    report = submit_report().report
    kept = attachments.incoming_keep(
        receive(b"x" * 10), content_type="text/plain", key=crypto.new_data_key(), report_id=report.pk
    )
    attachments.attachment_blob_delete(kept, Attachment.Status.BLOCKED)
    kept.refresh_from_db()
    assert kept.status == Attachment.Status.BLOCKED and kept.chunk_count == 0 and bytes(kept.key_wrap) == b""
    assert not AttachmentChunk.objects.filter(attachment=kept).exists()


def test_the_sealed_name_and_fingerprint_always_fill_the_first_bucket() -> None:
    report = submit_report().report
    data_key = crypto.new_data_key()
    longest = "x" * 116 + ".pdf"
    kept = attachments.incoming_keep(
        receive(b"%PDF-1.7"), content_type="application/pdf", key=data_key, report_id=report.pk
    )
    lengths = {len(bytes(kept.meta))}
    meta = attachments.attachment_meta(kept, data_key)
    note = "The file is an Excel spreadsheet, not a Word document. " * 2
    attachments.attachment_meta_update(
        kept,
        data_key,
        attachments.FileMeta(**{**meta.__dict__, "name": longest, "cleaned_size": 10**9, "cleaning_note": note}),
    )
    lengths.add(len(bytes(kept.meta)))
    assert lengths == {552}

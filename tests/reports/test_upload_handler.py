"""reports.uploads: a multipart file arrives sealed in the database, never in memory whole or on disk."""

import os
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory, override_settings

from core import crypto
from core.secretstream import CHUNK
from reports import attachments
from reports.models import Attachment, AttachmentChunk
from reports.uploads import NAME_MAX, SealedUpload
from tests.factories import submit_report

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes) -> SealedUpload:
    request = RequestFactory().post("/anywhere", {"file": SimpleUploadedFile(name, data), "note": "x"})
    sealed = request.FILES["file"]
    assert isinstance(sealed, SealedUpload)
    return sealed


def test_a_file_arrives_sealed_and_is_kept_by_the_view() -> None:
    data = os.urandom(3 * CHUNK + 11)
    sealed = upload("rota.pdf", b"%PDF-1.7\n" + data)
    assert sealed.size == len(data) + 9 and sealed.head.startswith(b"%PDF-1.7")
    assert AttachmentChunk.objects.filter(attachment=sealed.incoming.attachment).count() == 4
    # Not kept yet: it expires.
    assert Attachment.objects.get().expires_at is not None
    with pytest.raises(OSError):
        sealed.read()
    key = crypto.new_data_key()
    kept = attachments.incoming_keep(
        sealed.incoming, content_type="application/pdf", key=key, report_id=submit_report().report.pk
    )
    assert b"".join(attachments.attachment_open(kept, key)) == b"%PDF-1.7\n" + data


@override_settings(ATTACHMENT_MAX_BYTES=CHUNK)
def test_a_file_over_the_limit_arrives_marked_too_large_with_nothing_stored() -> None:
    sealed = upload("big.txt", b"a" * (2 * CHUNK))
    assert sealed.too_large
    assert not AttachmentChunk.objects.exists()


def test_long_names_keep_their_extension_and_unkept_uploads_are_swept() -> None:
    sealed = upload("x" * 300 + ".docx", b"PK\x03\x04")
    assert len(sealed.name) == NAME_MAX and sealed.name.endswith(".docx")
    assert attachments.attachments_expired_sweep(now=sealed.incoming.attachment.expires_at) == 0
    later = sealed.incoming.attachment.expires_at + timedelta(seconds=1)
    assert attachments.attachments_expired_sweep(now=later) == 1
    assert not AttachmentChunk.objects.exists()

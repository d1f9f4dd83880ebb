"""`make bench-attachments` (bench/attachments.py) compares POST /api/v1/reports/attachments with a floor that reads
the same multipart body and throws it away (bench/floor.py). These keep both from rotting: the module imports, the
floor answers and stores nothing, the body the bench sends is one the real address takes, and the files it makes
pass the upload's type check."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from bench import attachments
from reports import filetypes
from reports.models import Attachment
from tests.factories import submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.urls("bench.urls")]


def test_the_upload_floor_reads_the_whole_body_and_keeps_nothing() -> None:
    data = attachments.text_file(300 * 1024)
    body = attachments.multipart(
        {"reference": "HX7K-29QM", "access_code": "not checked here"},
        name="notes.txt",
        content_type="text/plain",
        data=data,
    )

    response = Client().post(attachments.FLOOR_PATH, data=body.joined(), content_type=body.content_type)

    assert response.status_code == 201, response.content
    assert json.loads(response.content) == {"fields": ["access_code", "reference"], "files": 1, "bytes": len(data)}
    assert not Attachment.objects.exists()


def test_the_upload_floor_refuses_a_body_without_a_file() -> None:
    response = Client().post(attachments.FLOOR_PATH, {"reference": "HX7K-29QM"})

    assert response.status_code == 400


@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_the_body_the_bench_sends_is_one_the_upload_address_takes() -> None:
    submitted = submit_report()
    (body,) = attachments.upload_bodies(
        [attachments.Report(submitted.report.reference, submitted.access_code)],
        1,
        name="notes.txt",
        content_type="text/plain",
        data=attachments.text_file(200 * 1024),
    )

    response = Client().post(attachments.UPLOAD_PATH, data=body.joined(), content_type=body.content_type)

    assert response.status_code == 201, response.content
    answer = json.loads(response.content)
    assert (answer["name"], answer["status"]) == ("notes.txt", "pending")
    assert Attachment.objects.get(public_id=answer["id"]).report_id == submitted.report.pk


def test_the_text_and_the_pdf_pass_the_type_check_at_upload() -> None:
    text = attachments.text_file(100 * 1024)
    pdf = attachments.pdf_of_images([b"\xff\xd8\xff\xd9"], width=1, height=1, text="Minutes")

    assert len(text) == 100 * 1024
    assert filetypes.sniff("notes.txt", text[:8192]) is filetypes.TEXT
    assert filetypes.sniff("minutes.pdf", pdf[:8192]) is filetypes.PDF


@pytest.mark.slow
def test_the_photo_is_a_jpeg_the_type_check_takes() -> None:
    # Made by GdkPixbuf in Debian's Python (a process of its own): hence slow.
    photo = attachments.jpeg(64, 48)

    assert filetypes.sniff("photo.jpg", photo[:8192]) is filetypes.JPEG

"""A file's words and its name never reach the database or a log in clear (issue 25).

A text file whose content and name are canaries is uploaded through every door a reporter has: the question
page (kept with the draft's key, then re-keyed on Send), the follow-up page and the API; and refused ones (a
wrong code, a wrong type) are sent too. Then the whole database (a ``pg_dump``, whose bytea columns are hex, and
each table's raw bytes) and every log line this process wrote are searched for each canary as text, as the hex
of its bytes and in base64 at all three alignments. Positive controls: the report's reference is in the dump,
the file's chunks are there, and the reporter reads the canaries back with their key.
"""

from __future__ import annotations

import base64
import logging
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client

from outbox.models import OutboxMessage
from reports import attachments, services
from reports.models import Attachment, AttachmentChunk, Report
from tests.database import pg_dump_text
from tests.factories import reporter_opened, submit_report

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.usefixtures("fast_kdf")]

WEB_ANSWERS = [
    ("anonymity", {"anonymity": "anonymous"}),
    ("about-you", {"reporter_sector": "health"}),
    ("concern", {"concern_types": ["records_altered_or_suppressed"]}),
    ("where", {"postcode": "", "council": "unknown"}),
    ("about-council", {"about_council": "no", "which_council": ""}),
    ("organisation", {"organisation_name": ""}),
    ("what-happened", {"summary": "Records changed", "details": "The record was changed after a visit."}),
    ("raised-internally", {"raised_internally": "no", "internal_response": ""}),
    ("reported", {"already_reported": "no"}),
    ("immediate-risk", {"child_at_immediate_risk": "no"}),
]


def canary() -> str:
    return f"CANARY{uuid.uuid4().hex}"


def needles(secret: str) -> list[tuple[bool, str]]:
    """(case-insensitive, needle): the secret as text and as the hex of its bytes, and the part of its base64
    that depends on it alone, at each of the three alignments, in both alphabets (case-sensitive)."""
    raw = secret.encode()
    found = [(True, secret.lower()), (True, raw.hex())]
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode()
        core = encoded[-(-8 * offset // 6) : 8 * (offset + len(raw)) // 6]
        found += [(False, core), (False, core.translate(str.maketrans("+/", "-_")))]
    return found


def leaks(haystacks: dict[str, str], secrets: dict[str, str]) -> list[str]:
    hits = []
    for where, text in haystacks.items():
        lowered = text.lower()
        for label, secret in secrets.items():
            for folded, needle in needles(secret):
                if needle in (lowered if folded else text):
                    hits.append(f"{label} in {where}: {needle}")
    return hits


def test_the_detector_finds_a_canary_as_text_hex_and_base64() -> None:
    secret = canary()
    for planted in (
        f"log line {secret.upper()}",
        f"'\\x00{secret.encode().hex()}'",
        base64.b64encode(b"ab" + secret.encode()).decode(),
        base64.urlsafe_b64encode(b"a" + secret.encode()).decode(),
    ):
        assert leaks({"planted": planted}, {"canary": secret}), planted
    assert not leaks({"other": canary()}, {"canary": secret})


def raw_bytes(table: str) -> str:
    """Every value of a table, bytes as latin-1 text and as hex."""
    parts = []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - tables named below
        for row in cursor.fetchall():
            for value in row:
                if isinstance(value, bytes | memoryview):
                    parts += [bytes(value).decode("latin-1"), bytes(value).hex()]
                else:
                    parts.append(str(value))
    return "\n".join(parts)


def text_file(name: str, words: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{name}.txt", f"Notes of the meeting. {words}. End.\n".encode(), "text/plain")


def test_no_file_word_or_name_reaches_the_database_or_a_log_in_clear(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = {
        f"{door} {part}": canary() for door in ("web", "follow-up", "api", "refused") for part in ("name", "words")
    }

    # The question page: kept with the draft's key, then the report's on Send.
    web = Client()
    assert web.post("/report/begin").status_code == 302
    for slug, data in WEB_ANSWERS:
        assert web.post(f"/report/{slug}", data).status_code == 302
    added = web.post(
        "/report/documents", {"action": "add", "file": text_file(secrets["web name"], secrets["web words"])}
    )
    assert added["Location"] == "/report/documents?done=added"
    assert secrets["web name"] in web.get("/report/check-your-answers").content.decode()
    mid_journey = pg_dump_text()
    assert not leaks({"pg_dump before Send": mid_journey}, secrets)
    assert web.post("/report/check-your-answers")["Location"] == "/report/confirmation"
    sent = web.get("/report/confirmation").context["sent"]

    # The follow-up page, and the API.
    later = submit_report()
    follow_up = reporter_opened(later)
    upload = text_file(secrets["follow-up name"], secrets["follow-up words"])
    assert follow_up.post("/check/concern/files", {"file": upload, "body": ""}).status_code == 302
    api = Client().post(
        "/api/v1/reports/attachments",
        {
            "reference": later.report.reference,
            "access_code": later.access_code,
            "file": text_file(secrets["api name"], secrets["api words"]),
        },
    )
    assert api.status_code == 201 and api.json()["name"] == f"{secrets['api name']}.txt"

    # Refused: a wrong code, then a file that is not what its name says.
    refused = text_file(secrets["refused name"], secrets["refused words"])
    wrong = Client().post(
        "/api/v1/reports/attachments",
        {"reference": later.report.reference, "access_code": "wrong " * 7, "file": refused},
    )
    assert wrong.status_code == 404
    not_a_pdf = SimpleUploadedFile(f"{secrets['refused name']}.pdf", secrets["refused words"].encode())
    assert follow_up.post("/check/concern/files", {"file": not_a_pdf, "body": ""}).status_code == 302

    # Controls: the files are stored (sealed), and their reporters read the canaries back.
    assert Attachment.objects.count() == 3 and AttachmentChunk.objects.count() == 3
    web_report = Report.objects.get(reference=sent.reference)
    _, web_key = services.report_unlock(reference=sent.reference, access_code=sent.access_code, client="c")
    _, later_key = services.report_unlock(reference=later.report.reference, access_code=later.access_code, client="c")
    (web_file,) = Attachment.objects.filter(report=web_report)
    assert secrets["web words"].encode() in b"".join(attachments.attachment_open(web_file, web_key))
    names = {file.name for file in services.reporter_files_read(report=later.report, data_key=later_key)}
    assert names == {f"{secrets['follow-up name']}.txt", f"{secrets['api name']}.txt"}

    dump = pg_dump_text()
    assert sent.reference in dump and "INSERT INTO public.reports_attachmentchunk" in dump
    haystacks = {
        "pg_dump": dump,
        "reports_attachment": raw_bytes("reports_attachment"),
        "reports_attachmentchunk": raw_bytes("reports_attachmentchunk"),
        "reports_draft": raw_bytes("reports_draft"),
        "reports_message": raw_bytes("reports_message"),
        "outbox rows": raw_bytes(OutboxMessage._meta.db_table),
        "logs": caplog.text,
    }
    assert leaks(haystacks, secrets) == []

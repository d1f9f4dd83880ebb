"""reports.attachment_pipeline with a real clamd (the project's configuration), Debian's mat2 in bubblewrap, and
PostgreSQL: what comes back from attachment_open after processing, each step's result exactly once, files that
wait while the scanner is down, and a private tmpfs folder that is empty whatever happened.

The real worker (Celery, killed with SIGKILL; the canary nowhere) is tests/reports/test_attachment_pipeline_worker.py.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from core.clamd import Clamd
from core.secretstream import CHUNK, StreamError
from outbox.models import OutboxMessage
from outbox.registry import Retry, registration_for
from outbox.services import outbox_process
from reports import attachment_pipeline, attachments, filetypes
from reports.attachments import Resealer, attachment_meta, attachment_open
from reports.models import Attachment, AttachmentChunk
from reports.outbox_kinds import PROCESS_ATTACHMENT
from tests.attachment_files import (
    attach,
    docx_with_author,
    exif_tags,
    jpeg_decodes,
    jpeg_segments,
    jpeg_with_exif,
    mp3_with_tags,
    odt_with_author,
    pdf_read,
    pdf_streams_inflated,
    pdf_with_metadata,
    png_with_text,
    pptx_with_author,
    report_key,
    xlsx_with_author,
    zip_members,
)
from tests.factories import submit_report

pytestmark = [pytest.mark.slow, pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "scanner")]

SERIAL = "SN-CANARY-4471-JPEG"
OWNER = "OWNER-CANARY-JPEG"
AUTHOR = "AUTHOR-CANARY-DOCX"
COMPANY = "COMPANY-CANARY-DOCX"
PDF_AUTHOR = "AUTHOR-CANARY-PDF"
PDF_PRODUCER = "PRODUCER-CANARY-PDF"


@pytest.fixture
def work_dir(settings) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """A memory-backed folder of this test's own, as ATTACHMENT_WORK_DIR."""
    folder = Path(tempfile.mkdtemp(prefix="pipeline-test-", dir="/dev/shm"))
    settings.ATTACHMENT_WORK_DIR = str(folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def process(attachment: Attachment) -> Attachment:
    """Run the outbox row of the file as a worker would; the file as it is afterwards."""
    row = OutboxMessage.objects.get(kind=PROCESS_ATTACHMENT, target_id=attachment.pk)
    outbox_process(outbox_id=row.pk)
    attachment.refresh_from_db()
    return attachment


def opened(attachment: Attachment) -> bytes:
    return b"".join(attachment_open(attachment, report_key(attachment.report)))


def stored_generations(attachment: Attachment) -> set[int]:
    return set(AttachmentChunk.objects.filter(attachment=attachment).values_list("generation", flat=True))


def test_the_handler_is_registered_for_the_kind_and_runs_outside_the_rows_transaction() -> None:
    registration = registration_for(PROCESS_ATTACHMENT)
    assert registration is not None and registration.handler is attachment_pipeline.attachment_process
    assert registration.atomic is False


def test_eicar_is_blocked_its_content_deleted_and_the_signature_kept(work_dir: Path) -> None:
    from core.clamd import eicar

    report = submit_report().report
    attachment = process(attach(report, "minutes.txt", eicar()))
    assert attachment.status == Attachment.Status.BLOCKED and attachment.stage == Attachment.Stage.DONE
    assert attachment.scan_signature == "Helpline.Test.EICAR.UNOFFICIAL"
    assert not AttachmentChunk.objects.filter(attachment=attachment).exists()
    assert bytes(attachment.key_wrap) == b"" and attachment.chunk_count == 0
    with pytest.raises(Exception):  # noqa: B017 - no key, no chunks: it never opens again
        opened(attachment)
    # Its sealed name stays for the lists; nothing was ever decrypted to the work folder.
    assert attachment_meta(attachment, report_key(report)).name == "minutes.txt"
    assert not list(work_dir.iterdir())
    assert OutboxMessage.objects.get(target_id=attachment.pk, kind=PROCESS_ATTACHMENT).processed_at is not None


def test_a_jpeg_comes_back_without_its_gps_position_serial_number_or_owner_and_still_decodes(work_dir: Path) -> None:
    original = jpeg_with_exif(serial=SERIAL, owner=OWNER)
    tags = exif_tags(original)
    assert tags["ExifIFD:SerialNumber"] == SERIAL and "GPS:GPSLatitude" in tags  # the canaries are really there
    report = submit_report().report
    attachment = process(attach(report, "IMG_2231.jpg", original))
    assert (attachment.status, attachment.stage, attachment.generation) == ("clean", "done", 1)
    cleaned = opened(attachment)
    assert SERIAL.encode() not in cleaned and OWNER.encode() not in cleaned
    assert not [tag for tag in exif_tags(cleaned) if tag.startswith(("GPS", "ExifIFD", "IFD0", "Composite:GPS"))]
    assert not [payload for marker, payload in jpeg_segments(cleaned) if marker == 0xE1]  # no APP1 (Exif, XMP)
    assert jpeg_decodes(cleaned) == (48, 32)
    meta = attachment_meta(attachment, report_key(report))
    assert meta.sha256 == hashlib.sha256(original).hexdigest() and meta.size == len(original)
    assert meta.cleaned_size == len(cleaned) and meta.cleaning_note == attachment_pipeline.CLEANED_NOTE
    assert stored_generations(attachment) == {1}
    assert not list(work_dir.iterdir())


def test_a_docx_comes_back_without_its_author_or_company_and_its_text_intact(work_dir: Path) -> None:
    text = "The rota was changed after the disclosure on the Tuesday"
    original = docx_with_author(author=AUTHOR, company=COMPANY, text=text)
    assert AUTHOR.encode() in zip_members(original)["docProps/core.xml"]
    report = submit_report().report
    attachment = process(attach(report, "statement.docx", original))
    assert (attachment.status, attachment.generation) == ("clean", 1)
    members = zip_members(opened(attachment))
    assert not [name for name, content in members.items() if AUTHOR.encode() in content or COMPANY.encode() in content]
    assert text.encode() in members["word/document.xml"]
    assert not list(work_dir.iterdir())


def test_a_pdf_comes_back_without_its_author_or_producer_and_its_text_still_extracts(work_dir: Path) -> None:
    text = "Visible evidence: the record of 4 March was deleted"
    original = pdf_with_metadata(author=PDF_AUTHOR, producer=PDF_PRODUCER, text=text)
    assert pdf_read(original)["author"] == PDF_AUTHOR
    report = submit_report().report
    attachment = process(attach(report, "record.pdf", original))
    assert (attachment.status, attachment.generation) == ("clean", 1)
    cleaned = opened(attachment)
    for canary in (PDF_AUTHOR.encode(), PDF_PRODUCER.encode()):
        assert canary not in cleaned and canary not in pdf_streams_inflated(cleaned)
    read = pdf_read(cleaned)
    assert text in str(read["text"])
    assert PDF_AUTHOR not in str(read) and PDF_PRODUCER not in str(read)
    note = attachment_meta(attachment, report_key(report)).cleaning_note
    assert note == attachment_pipeline.CLEANED_PDF_NOTE
    assert not list(work_dir.iterdir())


OTHER = "OTHER-CANARY-7731"


@pytest.mark.parametrize(
    ("name", "original", "part", "visible"),
    [
        ("screenshot.png", png_with_text(author=OTHER), None, None),
        (
            "rota.xlsx",
            xlsx_with_author(author=OTHER, text="Night shift: two"),
            "xl/worksheets/sheet1.xml",
            "Night shift: two",
        ),
        (
            "briefing.pptx",
            pptx_with_author(author=OTHER, text="Agenda item 4"),
            "ppt/slides/slide1.xml",
            "Agenda item 4",
        ),
        ("minutes.odt", odt_with_author(author=OTHER, text="Minutes of the meeting"), "content.xml", "Minutes of the"),
        ("voicemail.mp3", mp3_with_tags(artist=OTHER), None, None),
    ],
    ids=["png", "xlsx", "pptx", "odt", "mp3"],
)
def test_the_other_accepted_formats_are_cleaned_of_their_canaries(
    work_dir: Path, name: str, original: bytes, part: str | None, visible: str | None
) -> None:
    """HEIC is accepted too, but nothing on this machine can write one: it is not tested here."""
    assert OTHER.encode() in (b"".join(zip_members(original).values()) if part else original)
    report = submit_report().report
    attachment = process(attach(report, name, original))
    assert (attachment.status, attachment.generation) == ("clean", 1)
    cleaned = opened(attachment)
    assert OTHER.encode() not in cleaned
    if part is not None and visible is not None:
        members = zip_members(cleaned)
        assert not [member for member, content in members.items() if OTHER.encode() in content]
        assert visible.encode() in members[part]
    else:
        assert filetypes.sniff(name, cleaned[:8192]).extension == Path(name).suffix.replace(".jpeg", ".jpg")
    assert not list(work_dir.iterdir())


def test_plain_text_is_kept_as_written(work_dir: Path) -> None:
    text = b"Who was on shift: the names are the evidence here.\n"
    report = submit_report().report
    attachment = process(attach(report, "names.txt", text))
    assert (attachment.status, attachment.generation) == ("clean", 1)
    assert opened(attachment) == text
    assert attachment_meta(attachment, report_key(report)).cleaning_note == attachment_pipeline.CLEANED_TEXT_NOTE


def test_the_file_is_decrypted_only_into_a_private_tmpfs_folder_under_a_name_from_its_type(
    work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int, str, list[str]]] = []
    real_clean = attachment_pipeline.mat2_clean

    def watching(folder: Path, path: Path, kind: filetypes.FileType) -> tuple[Path | None, str]:
        seen.append((folder.stat().st_mode & 0o777, attachment_pipeline.filesystem_type(folder), os.listdir(folder)))
        return real_clean(folder, path, kind)

    monkeypatch.setattr(attachment_pipeline, "mat2_clean", watching)
    report = submit_report().report
    process(
        attach(report, "Jo Bloggs - statement for Ofsted.pdf", pdf_with_metadata(author="a", producer="b", text="c"))
    )
    assert len(seen) == 1
    mode, fstype, names = seen[0]
    assert mode == 0o700 and fstype == "tmpfs"
    assert sorted(names) == ["file.pdf", "home", "tmp"]
    assert not list(work_dir.iterdir())


def test_the_private_folder_is_removed_after_a_failure_too(work_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_write(self: Resealer, data: bytes) -> None:
        raise RuntimeError("the database went away mid-write")

    monkeypatch.setattr(Resealer, "write", failing_write)
    report = submit_report().report
    attachment = attach(report, "notes.txt", b"what I saw on the ward\n" * 50)
    with pytest.raises(RuntimeError):
        attachment_pipeline.attachment_process(attachment.pk)
    assert not list(work_dir.iterdir())
    attachment.refresh_from_db()
    assert (attachment.stage, attachment.status, attachment.generation) == ("scanned", "pending", 0)


def test_a_file_mat2_cannot_clean_is_kept_as_it_came_with_a_warning(work_dir: Path) -> None:
    damaged = b"%PDF-1.4\n" + os.urandom(3000)
    report = submit_report().report
    attachment = process(attach(report, "scan.pdf", damaged))
    assert (attachment.status, attachment.stage, attachment.generation) == ("not_cleaned", "done", 0)
    assert Attachment.Status(attachment.status).label == "Could not be cleaned: may contain identifying metadata"
    assert opened(attachment) == damaged
    assert attachment_meta(attachment, report_key(report)).cleaning_note == attachment_pipeline.NOT_CLEANED_NOTE
    assert not list(work_dir.iterdir())


def test_a_file_that_is_not_the_type_it_claimed_is_blocked_with_a_plain_reason(work_dir: Path) -> None:
    # A ZIP passes for any Office file at upload; in the worker its parts show a spreadsheet, not a Word file.
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    report = submit_report().report
    attachment = process(attach(report, "letter.docx", buffer.getvalue()))
    assert (attachment.status, attachment.stage, attachment.scan_signature) == ("blocked", "done", "")
    assert not AttachmentChunk.objects.filter(attachment=attachment).exists()
    reason = attachment_meta(attachment, report_key(report)).cleaning_note
    assert reason == "The file is an Excel spreadsheet, not a Word document"
    assert not list(work_dir.iterdir())


def test_a_kill_between_the_steps_repeats_neither_the_scan_nor_the_reseal(
    work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulated in one process: the worker dies after the scan is recorded and half-way through writing the
    cleaned file. The re-run does not scan again, clears the half-written generation, and re-seals once.
    (tests/reports/test_attachment_pipeline_worker.py kills a real worker with SIGKILL.)"""
    scans: list[int] = []
    real_instream = Clamd.instream

    def counting(self: Clamd, chunks: object) -> object:
        scans.append(1)
        return real_instream(self, chunks)  # type: ignore[arg-type]

    monkeypatch.setattr(Clamd, "instream", counting)

    class Killed(BaseException):
        pass

    real_write = Resealer.write

    def dies_after_one_chunk(self: Resealer, data: bytes) -> None:
        real_write(self, data)
        # Enough whole chunks that a batch reaches the database (reports.attachments.WRITE_BATCH).
        self._sealer.write(os.urandom((attachments.WRITE_BATCH + 2) * CHUNK))  # noqa: SLF001
        raise Killed

    original = b"Shift notes\n" + os.urandom(3 * CHUNK).hex().encode()
    report = submit_report().report
    attachment = attach(report, "shift.txt", original)
    with monkeypatch.context() as killing:
        killing.setattr(Resealer, "write", dies_after_one_chunk)
        with pytest.raises(Killed):
            attachment_pipeline.attachment_process(attachment.pk)
    attachment.refresh_from_db()
    assert (attachment.stage, attachment.generation) == ("scanned", 0)
    assert stored_generations(attachment) == {0, 1}  # the dead run's half-written generation
    assert scans == [1]

    assert attachment_pipeline.attachment_process(attachment.pk) is None
    attachment.refresh_from_db()
    assert (attachment.status, attachment.stage, attachment.generation) == ("clean", "done", 1)
    assert scans == [1], "the scan's result was recorded: a re-run does not scan again"
    assert stored_generations(attachment) == {1}
    assert AttachmentChunk.objects.filter(attachment=attachment).count() == attachment.chunk_count
    assert opened(attachment) == original
    # And once done, a third run (a redelivered message) changes nothing.
    assert attachment_pipeline.attachment_process(attachment.pk) is None
    attachment.refresh_from_db()
    assert (attachment.generation, scans) == (1, [1])
    assert not list(work_dir.iterdir())


def test_while_clamd_is_down_the_file_waits_with_growing_delays_and_is_processed_once_it_is_back(
    work_dir: Path,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    scanner_socket = settings.CLAMD_SOCKET
    settings.CLAMD_SOCKET = str(work_dir / "nobody-listens.sock")
    report = submit_report().report
    attachment = attach(report, "notes.txt", b"the meeting notes\n")
    row = OutboxMessage.objects.get(kind=PROCESS_ATTACHMENT, target_id=attachment.pk)
    bucket = settings.TIME_TRAIL_BUCKET_SECONDS = 60
    for delay in (30, 60, 120):
        before = timezone.now()
        outbox_process(outbox_id=row.pk)
        row.refresh_from_db()
        assert row.processed_at is None and "clamd" in row.last_error
        assert row.claimed_until is not None
        # At least the growing delay, rounded up to the time trail's bucket: never when the upload arrived.
        wait = (row.claimed_until - before).total_seconds()
        assert delay <= wait <= delay + bucket + 5, (delay, wait)
        assert row.claimed_until.timestamp() % bucket == 0 and row.claimed_until.microsecond == 0
        OutboxMessage.objects.filter(pk=row.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    attachment.refresh_from_db()
    assert (attachment.stage, attachment.status) == ("received", "pending")
    assert opened(attachment) == b"the meeting notes\n"  # kept, not lost

    settings.CLAMD_SOCKET = scanner_socket
    attachment = process(attachment)
    assert (attachment.status, attachment.stage) == ("clean", "done")
    assert OutboxMessage.objects.get(pk=row.pk).processed_at is not None


def test_the_retry_delay_doubles_up_to_its_cap(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ATTACHMENT_RETRY_FIRST_SECONDS, settings.ATTACHMENT_RETRY_MAX_SECONDS = 30, 1800
    delays = [attachment_pipeline.retry_delay(attempt).total_seconds() for attempt in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]


def test_no_file_is_decrypted_where_the_work_folder_is_not_memory_backed(
    work_dir: Path,
    settings,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    assert attachment_pipeline.filesystem_type(tmp_path) != "tmpfs", "this machine's /tmp is a tmpfs: nothing to test"
    settings.ATTACHMENT_WORK_DIR = str(tmp_path)
    report = submit_report().report
    attachment = attach(report, "notes.txt", b"the meeting notes\n")
    retry = attachment_pipeline.attachment_process(attachment.pk)
    assert isinstance(retry, Retry) and "memory-backed" in retry.error
    assert not list(tmp_path.iterdir())
    attachment.refresh_from_db()
    assert (attachment.stage, attachment.status) == ("scanned", "pending")


def test_folders_left_by_killed_workers_are_removed_and_a_live_ones_kept(work_dir: Path) -> None:
    dead = work_dir / f"{attachment_pipeline.FOLDER_PREFIX}999999999-12345-00aa"
    dead.mkdir(mode=0o700)
    (dead / "file.pdf").write_bytes(b"%PDF-1.4 left behind")
    live = attachment_pipeline.private_folder(work_dir)
    unrelated = work_dir / "something-else"
    unrelated.mkdir()
    assert attachment_pipeline.abandoned_folders_remove(work_dir) == 1
    assert not dead.exists() and live.exists() and unrelated.exists()
    attachment_pipeline.folder_remove(live)


def test_mat2s_sandbox_sees_neither_the_keys_nor_the_project(work_dir: Path, settings) -> None:  # type: ignore[no-untyped-def]
    import subprocess

    folder = attachment_pipeline.private_folder(work_dir)
    try:
        environment = {"PATH": "/usr/bin:/bin"}
        for secret in (settings.HELPLINE_KEY_FILE, str(settings.BASE_DIR / "manage.py")):
            assert Path(secret).exists()
            command = attachment_pipeline.sandbox_command(folder, environment, ["/usr/bin/test", "-e", secret])
            assert subprocess.run(command, check=False).returncode == 1, secret  # noqa: S603
        command = attachment_pipeline.sandbox_command(folder, environment, ["/usr/bin/env"])
        shown = subprocess.run(command, capture_output=True, check=True, text=True).stdout  # noqa: S603
        # What it is given, and the folder bubblewrap starts it in: nothing of the worker's environment.
        assert sorted(shown.split()) == ["PATH=/usr/bin:/bin", f"PWD={folder}"]
    finally:
        attachment_pipeline.folder_remove(folder)


def test_a_removed_file_is_left_alone(work_dir: Path) -> None:
    from reports.attachments import attachment_blob_delete

    report = submit_report().report
    attachment = attach(report, "notes.txt", b"notes\n")
    attachment_blob_delete(attachment)
    assert attachment_pipeline.attachment_process(attachment.pk) is None
    attachment.refresh_from_db()
    assert (attachment.status, attachment.stage) == ("removed", "received")
    with pytest.raises((StreamError, Exception)):  # noqa: B017
        opened(attachment)


def test_a_sandbox_that_cannot_start_makes_the_file_wait_never_run_unconfined(
    work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachment_pipeline, "_sandbox_works", False)
    monkeypatch.setattr(attachment_pipeline, "BWRAP", "/usr/bin/false")  # as bwrap does where namespaces are refused
    ran: list[list[str]] = []
    real_run = attachment_pipeline._run  # noqa: SLF001

    def recording(command: list[str], *args: object) -> int | None:
        ran.append(command)
        return real_run(command, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(attachment_pipeline, "_run", recording)
    report = submit_report().report
    attachment = attach(report, "notes.txt", b"the meeting notes\n")
    retry = attachment_pipeline.attachment_process(attachment.pk)
    assert isinstance(retry, Retry) and "bubblewrap cannot start" in retry.error
    assert all(command[0] == "/usr/bin/false" for command in ran), "mat2 never ran outside the sandbox"
    attachment.refresh_from_db()
    assert (attachment.stage, attachment.status) == ("scanned", "pending")
    assert not list(work_dir.iterdir())


def test_without_the_sandbox_mat2_still_cleans_with_a_clean_environment(
    work_dir: Path,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.MAT2_SANDBOX = False
    report = submit_report().report
    attachment = process(attach(report, "IMG_0001.jpg", jpeg_with_exif(serial=SERIAL, owner=OWNER)))
    assert (attachment.status, attachment.generation) == ("clean", 1)
    assert SERIAL.encode() not in opened(attachment)
    assert not list(work_dir.iterdir())

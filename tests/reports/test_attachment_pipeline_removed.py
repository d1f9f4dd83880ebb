"""A file removed while the workers process it stays removed: no step of reports.attachment_pipeline seals its
cleaned copy back, marks it clean, kept or blocked, or leaves chunks behind. Each step locks the row and checks
its status before it records a result.

The scanner and mat2 are stand-ins here (each removes the file while it "runs", as a deletion committed by
another process meanwhile would): what is tested is the pipeline's bookkeeping, not clamd or mat2, which
tests/reports/test_attachment_pipeline.py runs for real.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from core.clamd import ScanResult
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from reports import attachment_pipeline, filetypes
from reports.attachments import attachment_blob_delete, attachment_meta
from reports.models import Attachment, AttachmentChunk
from reports.outbox_kinds import PROCESS_ATTACHMENT
from tests.attachment_files import attach, report_key
from tests.factories import submit_report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]

TEXT = b"Minutes of the meeting of 3 March: the rota was changed afterwards.\n"


@pytest.fixture
def work_dir(settings) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    folder = Path(tempfile.mkdtemp(prefix="pipeline-removed-test-", dir="/dev/shm"))
    settings.ATTACHMENT_WORK_DIR = str(folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def removed_meanwhile(attachment: Attachment) -> None:
    """What a deletion committed by another process does to the row while this one works."""
    attachment_blob_delete(Attachment.objects.get(pk=attachment.pk))


class Scanner:
    """clamd's stand-in: reads the whole stream, runs ``meanwhile``, then gives ``result``."""

    def __init__(self, result: ScanResult, meanwhile: Callable[[], None] = lambda: None) -> None:
        self.result = result
        self.meanwhile = meanwhile

    def __call__(self) -> Scanner:
        return self

    def instream(self, chunks: Iterable[bytes]) -> ScanResult:
        for _ in chunks:
            pass
        self.meanwhile()
        return self.result


def mat2_standing_in(*, cleans: bool, meanwhile: Callable[[], None]) -> Callable[..., tuple[Path | None, str]]:
    def clean(folder: Path, path: Path, kind: filetypes.FileType) -> tuple[Path | None, str]:
        meanwhile()
        if not cleans:
            return None, attachment_pipeline.NOT_CLEANED_NOTE
        cleaned = path.with_name(f"{path.stem}.cleaned{path.suffix}")
        cleaned.write_bytes(path.read_bytes().upper())
        return cleaned, attachment_pipeline.CLEANED_TEXT_NOTE

    return clean


def process(attachment: Attachment) -> Attachment:
    row = OutboxMessage.objects.get(kind=PROCESS_ATTACHMENT, target_id=attachment.pk)
    outbox_process(outbox_id=row.pk)
    row.refresh_from_db()
    assert row.processed_at is not None, "a removed file leaves nothing to do: its row is done, not retried"
    attachment.refresh_from_db()
    return attachment


def assert_still_removed(attachment: Attachment, work_dir: Path) -> None:
    assert attachment.status == Attachment.Status.REMOVED
    assert attachment.generation == 0, "the cleaned copy was never swapped in"
    assert bytes(attachment.key_wrap) == b"" and bytes(attachment.header) == b"" and attachment.chunk_count == 0
    assert not AttachmentChunk.objects.filter(attachment=attachment).exists(), "no chunk of any generation is left"
    meta = attachment_meta(attachment, report_key(attachment.report))
    assert (meta.cleaned_size, meta.cleaning_note) == (None, ""), "nothing about a cleaning was sealed"
    assert attachment.scan_signature == ""
    assert not list(work_dir.iterdir()), "the private folder is gone"


def test_a_file_removed_while_it_is_scanned_is_not_marked_scanned(
    work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attachment = attach(submit_report().report, "minutes.txt", TEXT)
    monkeypatch.setattr(
        attachment_pipeline, "Clamd", Scanner(ScanResult(infected=False), lambda: removed_meanwhile(attachment))
    )
    attachment = process(attachment)
    assert attachment.stage == Attachment.Stage.RECEIVED
    assert_still_removed(attachment, work_dir)


def test_a_file_removed_while_it_is_scanned_is_not_blocked_when_the_scan_finds_malware(
    work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attachment = attach(submit_report().report, "minutes.txt", TEXT)
    found = ScanResult(infected=True, signature="Helpline.Test.EICAR.UNOFFICIAL")
    monkeypatch.setattr(attachment_pipeline, "Clamd", Scanner(found, lambda: removed_meanwhile(attachment)))
    assert_still_removed(process(attachment), work_dir)


def test_a_file_removed_while_mat2_cleans_it_is_not_sealed_back_or_marked_clean(
    work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attachment = attach(submit_report().report, "minutes.txt", TEXT)
    monkeypatch.setattr(attachment_pipeline, "Clamd", Scanner(ScanResult(infected=False)))
    monkeypatch.setattr(
        attachment_pipeline,
        "mat2_clean",
        mat2_standing_in(cleans=True, meanwhile=lambda: removed_meanwhile(attachment)),
    )
    assert_still_removed(process(attachment), work_dir)


def test_a_file_removed_while_mat2_fails_on_it_is_not_kept_as_it_came(
    work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attachment = attach(submit_report().report, "minutes.txt", TEXT)
    monkeypatch.setattr(attachment_pipeline, "Clamd", Scanner(ScanResult(infected=False)))
    monkeypatch.setattr(
        attachment_pipeline,
        "mat2_clean",
        mat2_standing_in(cleans=False, meanwhile=lambda: removed_meanwhile(attachment)),
    )
    assert_still_removed(process(attachment), work_dir)


def test_a_file_removed_between_the_scan_and_the_strip_is_left_alone(
    work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Removed once scanned, before its plaintext is written out: there is nothing left to open, and that is
    not an error to retry."""
    attachment = attach(submit_report().report, "minutes.txt", TEXT)
    monkeypatch.setattr(attachment_pipeline, "Clamd", Scanner(ScanResult(infected=False)))
    sweep = attachment_pipeline.abandoned_folders_remove

    def removed_first(folder: Path) -> int:
        removed_meanwhile(attachment)
        return sweep(folder)

    monkeypatch.setattr(attachment_pipeline, "abandoned_folders_remove", removed_first)
    attachment = process(attachment)
    assert attachment.stage == Attachment.Stage.SCANNED
    assert_still_removed(attachment, work_dir)


def test_control_the_same_file_not_removed_is_cleaned_and_sealed_back(
    work_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attachment = attach(submit_report().report, "minutes.txt", TEXT)
    monkeypatch.setattr(attachment_pipeline, "Clamd", Scanner(ScanResult(infected=False)))
    monkeypatch.setattr(attachment_pipeline, "mat2_clean", mat2_standing_in(cleans=True, meanwhile=lambda: None))
    attachment = process(attachment)
    assert (attachment.status, attachment.stage, attachment.generation) == ("clean", "done", 1)
    assert set(AttachmentChunk.objects.filter(attachment=attachment).values_list("generation", flat=True)) == {1}

"""The attachment pipeline in a real Celery worker, with a real clamd and Debian's mat2:

* a text file whose content and name are canaries is processed, and neither appears in clear anywhere
  afterwards: pg_dump of the database, the broker's keys and values and every command Redis saw meanwhile,
  the worker's and clamd's output, /tmp and /dev/shm;
* a worker killed with SIGKILL in the middle of cleaning a file leaves it for the next, which removes the
  plaintext folder the dead one left and produces each step's result exactly once.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection

from outbox.models import OutboxMessage
from reports import attachment_pipeline
from reports.attachments import attachment_meta, attachment_open
from reports.models import Attachment, AttachmentChunk
from reports.outbox_kinds import PROCESS_ATTACHMENT
from tests.attachment_files import (
    attach,
    files_holding,
    found_in,
    pdf_read,
    pdf_streams_inflated,
    pdf_with_metadata,
    report_key,
)
from tests.clamav import ClamdServer
from tests.factories import submit_report
from tests.live import TEST_BROKER_URL, Process, start_beat, start_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.usefixtures("fast_kdf", "authorities_committed")]


@pytest.fixture
def work_dir() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="pipeline-worker-test-", dir="/dev/shm"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def pipeline_env(clamd: ClamdServer, work_dir: Path) -> dict[str, str]:
    return {
        "CLAMD_SOCKET": str(clamd.socket),
        "CLAMD_DATABASE_DIR": str(clamd.database_dir),
        "ATTACHMENT_WORK_DIR": str(work_dir),
        # A killed worker's row is taken up again within seconds.
        "OUTBOX_LEASE_SECONDS": "5",
        "OUTBOX_SWEEP_SECONDS": "1",
    }


def stage_of(attachment: Attachment) -> tuple[str, str]:
    attachment.refresh_from_db()
    return attachment.stage, attachment.status


def broker_contents() -> bytes:
    """Every key of the broker's database and its value, whatever the type."""
    client = redis.Redis.from_url(TEST_BROKER_URL)
    found = b""
    for key in client.scan_iter():
        kind = client.type(key)
        found += key + b"\n"
        if kind == b"string":
            found += client.get(key) or b""
        elif kind == b"list":
            found += b"\n".join(client.lrange(key, 0, -1))
        elif kind == b"hash":
            found += b"\n".join(k + b"=" + v for k, v in client.hgetall(key).items())
        elif kind == b"set":
            found += b"\n".join(client.smembers(key))
        elif kind == b"zset":
            found += b"\n".join(client.zrange(key, 0, -1))
    return found


def database_dump() -> bytes:
    db = connection.settings_dict
    done = subprocess.run(  # noqa: S603 - PostgreSQL's own dump of the test database
        ["pg_dump", "-h", str(db["HOST"]), "-p", str(db["PORT"]), "-U", str(db["USER"]), str(db["NAME"])],
        capture_output=True,
        check=True,
        timeout=300,
    )
    return done.stdout


def test_a_canary_in_a_text_file_and_its_name_is_nowhere_in_clear_after_processing(
    clamd: ClamdServer, work_dir: Path, test_broker: str, tmp_path: Path
) -> None:
    marker = uuid.uuid4().hex
    content_canary = f"CONTENT-CANARY-{marker}".encode()
    name_canary = f"NAME-CANARY-{marker}"
    report = submit_report().report
    monitor_log = tmp_path / "redis-monitor.log"
    with monitor_log.open("wb") as sink:
        monitor = subprocess.Popen(  # noqa: S603 - every command Redis is sent meanwhile (all its databases)
            ["redis-cli", "-u", TEST_BROKER_URL, "monitor"], stdout=sink, stderr=subprocess.STDOUT
        )
    worker = start_worker(tmp_path / "worker.log", **pipeline_env(clamd, work_dir))
    try:
        text = b"What I saw on the ward on Tuesday.\n" + content_canary + b"\nSigned, a member of staff\n"
        attachment = attach(report, f"{name_canary}.txt", text * 40)
        wait_for(lambda: stage_of(attachment) == ("done", "clean"), timeout=120, what="the file to be processed")
    finally:
        worker.stop()
        monitor.terminate()
        monitor.wait(timeout=10)
    # It is all there, for those who hold the key.
    assert b"".join(attachment_open(attachment, report_key(report))) == text * 40
    assert attachment_meta(attachment, report_key(report)).name == f"{name_canary}.txt"

    canaries = (content_canary, name_canary.encode())
    dump = database_dump()
    assert b"reports_attachmentchunk" in dump and b"COPY" in dump  # the dump has the data in it
    broker = broker_contents()
    traffic = monitor_log.read_bytes()
    assert b"outbox.process" in traffic or b"celery" in traffic, "the monitor saw no broker traffic"
    outputs = worker.log().encode() + clamd.log().encode()
    assert "scanned: nothing found" in worker.log() and "cleaned and re-sealed" in worker.log()
    for canary in canaries:
        assert not found_in(dump, canary), "in the database dump"
        assert not found_in(broker, canary), "in the broker's keys or values"
        assert not found_in(traffic, canary), "in the commands Redis saw"
        assert not found_in(outputs, canary), "in the worker's or clamd's output"
        assert files_holding([Path("/tmp"), Path("/dev/shm")], canary) == []
    assert not list(work_dir.iterdir())


def children_of(process: Process) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-P", str(process.popen.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    return [int(pid) for pid in found]


def test_a_worker_killed_while_cleaning_leaves_the_file_to_the_next_which_does_each_step_once(
    clamd: ClamdServer, work_dir: Path, test_broker: str, tmp_path: Path
) -> None:
    author, producer = f"AUTHOR-{uuid.uuid4().hex}", f"PRODUCER-{uuid.uuid4().hex}"
    text = "The incident log for 4 March was rewritten"
    original = pdf_with_metadata(author=author, producer=producer, text=text, pages=60)
    report = submit_report().report
    env = pipeline_env(clamd, work_dir)

    first = start_worker(tmp_path / "first.log", **env)
    try:
        wait_for(lambda: len(children_of(first)) == 1, timeout=60, what="the pool child")
        attachment = attach(report, "incident log.pdf", original)

        def cleaning() -> bool:
            return stage_of(attachment)[0] == "scanned" and any(work_dir.iterdir())

        wait_for(cleaning, timeout=120, interval=0.01, what="the worker to be cleaning the file")
        first.stop(signal.SIGKILL)  # the main process, its pool child and what they run, mid-step
    finally:
        first.stop(signal.SIGKILL)
    assert stage_of(attachment) == ("scanned", "pending"), "the kill came too late to test"
    left = list(work_dir.iterdir())
    assert len(left) == 1 and (left[0] / "file.pdf").exists(), "the dead worker's plaintext folder"

    second = start_worker(tmp_path / "second.log", **env)
    beat = start_beat(tmp_path / "beat.log", **env)
    try:
        wait_for(lambda: stage_of(attachment) == ("done", "clean"), timeout=120, what="the next worker to finish")
    finally:
        second.stop()
        beat.stop()

    attachment.refresh_from_db()
    assert attachment.generation == 1, "re-sealed exactly once"
    chunks = AttachmentChunk.objects.filter(attachment=attachment)
    assert set(chunks.values_list("generation", flat=True)) == {1} and chunks.count() == attachment.chunk_count
    row = OutboxMessage.objects.get(kind=PROCESS_ATTACHMENT, target_id=attachment.pk)
    assert row.processed_at is not None and row.attempts >= 2
    # The scan was recorded before the kill: the next worker went straight to cleaning.
    assert "scanned: nothing found" in first.log() and "scanned: nothing found" not in second.log()
    assert second.log().count("cleaned and re-sealed") == 1
    cleaned = b"".join(attachment_open(attachment, report_key(report)))
    for canary in (author.encode(), producer.encode()):
        assert canary not in cleaned and canary not in pdf_streams_inflated(cleaned)
    assert text in str(pdf_read(cleaned)["text"])
    assert not list(work_dir.iterdir()), "the dead worker's folder was removed, and the next one's too"
    assert attachment_pipeline.FOLDER_PREFIX  # (the folders are this module's, named after their process)

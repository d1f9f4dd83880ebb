"""Backups that restore (issue 26): the restore drill, on real PostgreSQL with pg_dump and pg_restore.

Data is seeded through the services (reports with files and messages, a closed case), backed up with
``manage.py backup`` and restored with ``manage.py restore`` into a new database, which the service's own code
is then pointed at (lifecycle.restore.target_database) to read it as the service would.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.checkpoints import checkpoint_write
from audit.identity import trail_identity
from core import signing
from core.models import CustodyKey
from lifecycle import backup as backups
from lifecycle import shredlog
from lifecycle.restore import objects_in, target_database, target_from_url
from lifecycle.shredding import shred_family
from reports.models import Attachment, AttachmentChunk, Message, Report
from reports.services import ReportDestroyed, SubmittedReport, message_send_from_reporter, report_read, report_unlock
from tests.factories import attachment_make, signed_in, staff_user, staff_with_mfa, submit_report
from tests.lifecycle.backup_kit import drop_database, lifecycle_paths, new_database  # noqa: F401 - a fixture
from tests.live import authorities_committed, test_broker  # noqa: F401 - fixtures
from triage import retention
from triage.case_actions import case_ask_reporter, case_close
from triage.intake import report_route
from triage.models import Case, Outcome

pytestmark = [
    pytest.mark.slow,  # pg_dump and pg_restore, and a database made and dropped for each test
    pytest.mark.django_db(transaction=True),  # pg_dump reads what is committed
    pytest.mark.usefixtures("fast_kdf", "authorities_committed", "lifecycle_paths", "test_broker"),
]


@pytest.fixture
def restore_target() -> Iterator[str]:
    """A new, empty database to restore into, dropped afterwards whatever happens; its URL."""
    url = new_database()
    try:
        yield url
    finally:
        drop_database(url)


# A file of three sealed chunks (64 KiB of plaintext each).
LONG_FILE = bytes(range(256)) * 600
MODELS = (Report, Case, Message, Attachment, AttachmentChunk, User, CustodyKey)


def seeded(supervisor: User) -> tuple[SubmittedReport, Case]:
    """A routed report with two files and messages both ways."""
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    attachment_make(case)
    attachment_make(case, LONG_FILE, name="recording.bin", content_type="application/octet-stream")
    case_ask_reporter(case=case, body="Which home was it?", acting_user=supervisor)
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    message_send_from_reporter(report=report, data_key=key, body="Northside, on the hill.")
    return submitted, Case.objects.get(pk=case.pk)


def closed_case(supervisor: User, summary: str) -> tuple[SubmittedReport, Case]:
    submitted = submit_report(summary=summary)
    case = report_route(report_id=submitted.report.pk)
    attachment_make(case, b"Photo of the rota.\n", name="rota.txt")
    case_close(case=case, outcome=Outcome.NO_FURTHER_ACTION, feedback="Thank you.", acting_user=supervisor)
    return submitted, Case.objects.get(pk=case.pk)


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def restore(folder: Path, url: str, capsys: pytest.CaptureFixture[str]) -> str:
    capsys.readouterr()
    call_command("restore", folder=folder, database_url=url)
    return capsys.readouterr().out


def test_the_restore_drill(tmp_path: Path, restore_target: str, capsys: pytest.CaptureFixture[str]) -> None:
    supervisor = staff_with_mfa("drill-supervisor", role=User.Role.SUPERVISOR)[0]
    submitted, case = seeded(supervisor)
    doomed_report, doomed = closed_case(supervisor, "Rota changed after the visit")
    checkpoint_write()  # line 1
    call_command("backup", out=tmp_path / "backup")
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    at_backup = counts()
    doomed_chunks = AttachmentChunk.objects.filter(attachment__report_id=doomed.report_id).count()
    # After the backup, the schedule destroys a case, and the checkpointer records the events since.
    shred_family(Report.objects.get(pk=doomed.report_id), why="schedule")
    after_backup = checkpoint_write()  # line 2: events the restore will lose
    assert after_backup is not None and after_backup.last_event_id > manifest["audit_head"]["last_event_id"]

    out = restore(tmp_path / "backup", restore_target, capsys)

    assert "database.dump: " in out and "SHA-256 as the manifest records" in out
    assert "Verified against the manifest: the row counts of" in out
    assert f"Shred log re-applied: 1 destroyed again ({doomed.case_number}), 0 already destroyed" in out
    assert "manage.py audit_restore_epoch --manifest" in out
    with target_database(target_from_url(restore_target)):
        # The counts match the backup's, but for the chunks of the case destroyed again.
        assert counts() == {**at_backup, "AttachmentChunk": at_backup["AttachmentChunk"] - doomed_chunks}
        # The case shredded after the backup stays shredded.
        destroyed = Report.objects.get(pk=doomed.report_id)
        assert destroyed.content_destroyed_on == timezone.localdate() and bytes(destroyed.content) == b""
        assert not AttachmentChunk.objects.filter(attachment__report_id=doomed.report_id).exists()
        # The trail carries its id, so the sink still matches it; the events after the backup are lost.
        identity = trail_identity()
        assert identity is not None and identity.trail_id == manifest["trail_id"]
        with pytest.raises(CommandError, match="broken"):
            call_command("verify_audit")
        call_command("audit_restore_epoch", manifest=tmp_path / "backup" / "manifest.json")
        capsys.readouterr()
        call_command("verify_audit")
        verified = capsys.readouterr().out
        head = manifest["audit_head"]["last_event_id"]
        assert "The audit trail is intact" not in verified
        assert "Restore epoch at line 3" in verified
        assert f"Lost: events {head + 1} to {after_backup.last_event_id}" in verified
        # The reporter opens their report with the access code.
        report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
        opened = report_read(report=report, data_key=key)
        assert opened.content["summary"] == "Missing episodes ignored"
        assert [message.body for message in opened.messages] == ["Which home was it?", "Northside, on the hill."]
        # A member of staff signs in (their password and authenticator came back too) and opens the case, and
        # its long file comes back whole.
        client = signed_in(User.objects.get(username=supervisor.username))
        page = client.get(f"/staff/cases/{case.case_number}")
        assert page.status_code == 200 and b"Missing episodes ignored" in page.content
        long_file = Attachment.objects.filter(report_id=case.report_id, chunk_count=3).get()
        download = client.get(f"/staff/cases/{case.case_number}/files/{long_file.public_id}")
        assert download.status_code == 200 and download.getvalue() == LONG_FILE
        # The shredded report opens for nobody, not even with its reporter's access code.
        with pytest.raises(ReportDestroyed):
            report_unlock(reference=destroyed.reference, access_code=doomed_report.access_code, client="c")
        # The checkpointer goes on from the restore epoch.
        assert checkpoint_write() is not None


def test_a_backup_restores_every_row_and_the_trail_verifies_without_an_epoch(
    tmp_path: Path, restore_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor = staff_user()
    seeded(supervisor)
    closed_case(supervisor, "A second concern")
    checkpoint_write()
    call_command("backup", out=tmp_path / "backup")
    source_counts = backups.row_counts()

    out = restore(tmp_path / "backup", restore_target, capsys)

    assert "no restore epoch is needed" in out and "Restore complete" in out
    with target_database(target_from_url(restore_target)):
        assert backups.row_counts() == source_counts
        assert (
            backups.attachment_digests()
            == json.loads((tmp_path / "backup" / "manifest.json").read_text())["attachments"]
        )
        capsys.readouterr()
        call_command("verify_audit")
        assert "The audit trail is intact" in capsys.readouterr().out


def copy_of(backup: Path, name: str) -> Path:
    return Path(shutil.copytree(backup, backup.parent / name))


def resign(folder: Path, **row_counts: int) -> None:
    """Record the dump as it now is (and the row counts given) and sign the manifest again, as only the service
    key's holder could."""
    manifest = json.loads((folder / "manifest.json").read_text())
    body = {key: value for key, value in manifest.items() if key != "signed"}
    body["files"] = {backups.DUMP: backups.file_digest(folder / backups.DUMP)}
    body["row_counts"] = {**body["row_counts"], **row_counts}
    (folder / "manifest.json").write_text(json.dumps({**body, "signed": signing.sign(backups.canonical(body))}))


def test_a_cut_or_altered_backup_is_refused_and_the_target_stays_empty(
    tmp_path: Path, restore_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded(staff_user())
    backup = tmp_path / "backup"
    call_command("backup", out=backup)
    size = (backup / backups.DUMP).stat().st_size
    cut = copy_of(backup, "cut")
    (cut / backups.DUMP).write_bytes((backup / backups.DUMP).read_bytes()[: size - 1000])
    altered = copy_of(backup, "altered")
    data = bytearray((backup / backups.DUMP).read_bytes())
    data[size // 2] ^= 0x01
    (altered / backups.DUMP).write_bytes(bytes(data))
    recounted = copy_of(backup, "recounted")
    manifest = json.loads((recounted / "manifest.json").read_text())
    manifest["row_counts"]["reports_report"] += 1
    (recounted / "manifest.json").write_text(json.dumps(manifest))
    half_written = copy_of(backup, "half-written")
    (half_written / "manifest.json").unlink()
    target = target_from_url(restore_target)

    for folder, said in [
        (cut, f"database.dump is {size - 1000} bytes, but the manifest says {size}: the file was cut short"),
        (altered, "database.dump does not match the SHA-256 its manifest records: the file was altered"),
        (recounted, "manifest.json's signature does not hold: it was altered"),
        (half_written, f"{half_written} has no manifest.json: it is not a backup, or not a complete one"),
    ]:
        with pytest.raises(CommandError) as refused:
            restore(folder, restore_target, capsys)
        assert str(refused.value).startswith(f"The backup was refused, and nothing was restored: {said}"), folder
        assert objects_in(target) == 0

    # A dump cut short whose manifest was signed over it anyway gets as far as pg_restore, which fails in its
    # one transaction: still nothing in the target.
    (cut / backups.DUMP).write_bytes((backup / backups.DUMP).read_bytes()[: size * 2 // 3])
    resign(cut)
    with pytest.raises(CommandError, match="pg_restore failed, and restored nothing"):
        restore(cut, restore_target, capsys)
    assert objects_in(target) == 0

    # A manifest signed over counts the dump does not have gets through pg_restore, then fails the checks: the
    # target is emptied again.
    miscounted = copy_of(backup, "miscounted")
    resign(
        miscounted,
        reports_report=1 + json.loads((backup / "manifest.json").read_text())["row_counts"]["reports_report"],
    )
    with pytest.raises(CommandError, match="The restore did not complete: The target database was emptied again"):
        restore(miscounted, restore_target, capsys)
    assert "Does not match: table reports_report has 1 rows, the manifest says 2" in capsys.readouterr().out
    assert objects_in(target) == 0

    # The whole backup restores; and never into a database that holds anything.
    restore(backup, restore_target, capsys)
    with pytest.raises(CommandError, match="is not empty .*: a backup is restored only into a new, empty database"):
        restore(backup, restore_target, capsys)


def test_a_backup_holds_no_key(tmp_path: Path, settings: Any) -> None:
    supervisor = staff_user()
    submitted, _ = seeded(supervisor)
    _, held = closed_case(supervisor, "Held")
    with transaction.atomic():
        retention.hold_place(case=held, basis="inquiry_notice", reason="Notice 4", acting_user=supervisor)
    call_command("backup", out=tmp_path / "backup")
    dump = subprocess.run(
        ["pg_restore", "--file=-", str(tmp_path / "backup" / backups.DUMP)], capture_output=True, check=True, timeout=60
    ).stdout.decode()
    manifest_text = (tmp_path / "backup" / "manifest.json").read_text()
    development_keys = json.loads(Path(settings.HELPLINE_KEY_FILE).read_text())
    secret_keys = {
        "helpline private key": development_keys["private"].split(":", 1)[1],
        "HMAC key": development_keys["hmac"],
        "OTP key": development_keys["otp"],
        "service signing key": development_keys["service_signing"].split(":", 1)[1],
        "audit MAC key": settings.AUDIT_MAC_KEY,
        "audit signing key": settings.AUDIT_SIGNING_KEY,
    }
    custody = sorted(Path(settings.CUSTODY_KEY_DIR).glob("*.key"))
    assert {path.stem.split("-")[0] for path in custody} == {"open", "epoch", "held"}
    secret_keys |= {f"custody key {path.stem}": path.read_text().strip() for path in custody}

    found = [
        name
        for name, encoded in secret_keys.items()
        for needle in (encoded, base64.b64decode(encoded).hex())
        if needle in dump or needle in manifest_text
    ]

    assert found == []
    # The detector sees what is there: the report's reference and its wrapped data key, in hex.
    report = Report.objects.get(pk=submitted.report.pk)
    assert report.reference in dump and bytes(report.custody_wrapped_key).hex() in dump
    # The manifest names the keys (ids only): those the rows use, and every custody key's record.
    keys = json.loads(manifest_text)["keys"]
    assert keys["custody"] == sorted({report.custody_key_id, Report.objects.get(pk=held.report_id).custody_key_id})
    assert [key["key_id"] for key in keys["custody_keys"]] == sorted(path.stem for path in custody)


def test_a_failed_backup_leaves_no_directory(tmp_path: Path, settings: Any) -> None:
    seeded(staff_user())
    settings.DATABASE_OWNER = {**settings.DATABASE_OWNER, "PORT": "1"}  # pg_dump cannot connect
    with pytest.raises(CommandError, match="No backup was written: pg_dump failed"):
        call_command("backup", out=tmp_path / "backup")
    assert [path.name for path in tmp_path.iterdir() if "backup" in path.name] == []


def test_a_case_held_in_the_backup_and_destroyed_since_is_destroyed_once_its_hold_is_released(
    tmp_path: Path, restore_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor = staff_user()
    _, case = closed_case(supervisor, "Held for the inquiry")
    with transaction.atomic():
        retention.hold_place(case=case, basis="inquiry_notice", reason="Notice 7", acting_user=supervisor)
    call_command("backup", out=tmp_path / "backup")
    with transaction.atomic():
        retention.hold_release(case=case, acting_user=supervisor)
    shred_family(Report.objects.get(pk=case.report_id), why="schedule")

    with pytest.raises(
        CommandError, match=f"on legal hold in this backup, so their content is still here: {case.case_number}"
    ):
        restore(tmp_path / "backup", restore_target, capsys)

    with target_database(target_from_url(restore_target)):
        assert Report.objects.get(pk=case.report_id).content_destroyed_on is None
        with transaction.atomic():
            retention.hold_release(case=Case.objects.get(pk=case.pk), acting_user=User.objects.get(pk=supervisor.pk))
        capsys.readouterr()
        call_command("reapply_shred_log")
        assert f"1 destroyed again ({case.case_number})" in capsys.readouterr().out
        assert Report.objects.get(pk=case.report_id).content_destroyed_on == timezone.localdate()
    # Destroyed again in the restored database on the day the log gives: the log holds it once.
    assert [entry.case_number for entry in shredlog.entries()] == [case.case_number]

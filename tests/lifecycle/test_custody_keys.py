"""Custody keys: a routed report's data key leaves the helpline key, and moves with its case's life."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

import nacl.exceptions
import pytest
from django.db import transaction
from django.utils import timezone
from nacl.public import SealedBox
from nacl.secret import SecretBox

from core import crypto, keystore
from core.models import CustodyKey
from lifecycle import shredlog
from lifecycle.keys import SCHEDULE, custody_key_destroy_unused
from lifecycle.shredding import CaseHeld, shred_family
from reports.checks import missing_private_key_ids
from reports.models import Attachment, AttachmentChunk, Message, Report
from reports.services import ReportDestroyed, message_send_from_reporter, report_unlock
from tests.factories import attachment_make, routed_case, staff_user, submit_report
from triage import retention
from triage.case_actions import case_close, case_reopen
from triage.case_content import case_open
from triage.intake import report_route, reporter_replied
from triage.models import Case, Outcome

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf")]


@pytest.fixture(autouse=True)
def _own_key_folder(settings: Any, tmp_path: Path) -> None:
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")


def _report(case: Case) -> Report:
    return Report.objects.get(pk=case.report_id)


def _closed(case: Case, supervisor: Any, outcome: str = Outcome.NOT_SUBSTANTIATED) -> Case:
    case_close(case=case, outcome=outcome, feedback="Thank you for telling us.", acting_user=supervisor)
    return Case.objects.get(pk=case.pk)


def test_routing_moves_the_data_key_from_the_helpline_key_to_the_open_cases_key() -> None:
    submitted = submit_report()
    before = Report.objects.get(pk=submitted.report.pk)
    assert before.helpline_key_id and before.helpline_sealed_key and not before.custody_key_id
    case = report_route(report_id=submitted.report.pk)
    report = _report(case)
    assert report.helpline_key_id == "" and bytes(report.helpline_sealed_key) == b""
    assert keystore.kind_of(report.custody_key_id) == keystore.OPEN
    assert report.custody_key_id == keystore.open_key_id()
    # Staff and the reporter still open it.
    opened = case_open(case=case, acting_user=staff_user())
    assert opened.content["summary"] == "Missing episodes ignored"
    unlocked, key = report_unlock(reference=report.reference, access_code=submitted.access_code, client="c")
    assert crypto.open_content(key, bytes(unlocked.content))["summary"] == "Missing episodes ignored"


def test_closing_moves_it_to_the_epoch_key_of_its_destruction_month_and_reopening_back() -> None:
    supervisor = staff_user()
    case = _closed(routed_case(), supervisor)
    closed_on = timezone.localdate(case.closed_at)
    assert case.destroy_on == retention.add_months(closed_on, 36)
    assert _report(case).custody_key_id == keystore.epoch_key_id(case.destroy_on)
    case_reopen(case=case, reason="More came in.", acting_user=supervisor)
    case.refresh_from_db()
    assert case.destroy_on is None
    assert _report(case).custody_key_id == keystore.open_key_id()
    assert case_open(case=case, acting_user=supervisor).content["summary"] == "Missing episodes ignored"


def test_every_outcome_has_its_period(settings: Any) -> None:
    assert retention.missing_periods() == []
    # A new dict: deleting from the one settings holds would outlast the test (the fixture restores names only).
    settings.RETENTION_MONTHS = {k: v for k, v in settings.RETENTION_MONTHS.items() if k != "withdrawn"}
    assert retention.missing_periods() == ["withdrawn"]


def test_a_reporter_message_after_closure_restarts_the_clock_and_moves_the_key(settings: Any) -> None:
    supervisor = staff_user()
    submitted = submit_report()
    case = _closed(report_route(report_id=submitted.report.pk), supervisor, Outcome.NO_FURTHER_ACTION)
    # Closed long ago: due next month under the old clock.
    long_ago = timezone.now() - timedelta(days=700)
    Case.objects.filter(pk=case.pk).update(closed_at=long_ago)
    case.refresh_from_db()
    retention.rehome(case)
    case.refresh_from_db()
    old_day = case.destroy_on
    assert old_day == retention.add_months(timezone.localdate(long_ago), 24)
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    message_send_from_reporter(report=report, data_key=key, body="One more thing.")
    reporter_replied(Message.objects.filter(report=report).latest("id").pk)
    case.refresh_from_db()
    assert case.destroy_on == retention.add_months(timezone.localdate(), 24)
    assert _report(case).custody_key_id == keystore.epoch_key_id(case.destroy_on) != keystore.epoch_key_id(old_day)


def test_a_hold_moves_the_case_and_its_linked_cases_to_the_held_key_and_release_moves_them_back() -> None:
    from triage.links import cases_link

    supervisor = staff_user()
    case = _closed(routed_case(), supervisor)
    other = routed_case()
    cases_link(case=case, other=other, linked_by=supervisor)
    holds = retention.hold_place(case=case, basis="inquiry_notice", reason="Inquiry notice 12", acting_user=supervisor)
    assert {hold.case_id for hold in holds} == {case.pk, other.pk}
    assert _report(case).custody_key_id == keystore.held_key_id() == _report(other).custody_key_id
    assert retention.hold_reason(holds[0]) == "Inquiry notice 12"
    with pytest.raises(CaseHeld):
        shred_family(_report(case), why="schedule")
    retention.hold_release(case=case, acting_user=supervisor)
    case.refresh_from_db()
    assert case.destroy_on is not None
    assert _report(case).custody_key_id == keystore.epoch_key_id(case.destroy_on)
    assert _report(other).custody_key_id == keystore.held_key_id()


def test_a_row_naming_a_lost_custody_key_stops_the_service_unless_the_key_was_destroyed(settings: Any) -> None:
    case = routed_case()
    key_id = _report(case).custody_key_id
    assert key_id not in missing_private_key_ids()
    Path(settings.CUSTODY_KEY_DIR, f"{key_id}.key").unlink()
    assert key_id in missing_private_key_ids()
    CustodyKey.objects.filter(key_id=key_id).update(destroyed_on=timezone.localdate())
    assert key_id not in missing_private_key_ids()


def _every_key(settings: Any) -> list[bytes]:
    keys = [bytes(private) for private in crypto.keyring().private_keys.values()]
    folder = Path(settings.CUSTODY_KEY_DIR)
    keys += [keystore.FolderKeyStore(folder).load(path.stem) or b"" for path in folder.glob("*.key")]
    return keys


def test_shredding_leaves_nothing_any_key_or_the_access_code_opens(settings: Any) -> None:
    supervisor = staff_user()
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    attachment_make(case)
    before = _report(case)
    sealed_key = bytes(before.custody_wrapped_key)
    content = bytes(before.content)
    data_key = keystore.data_key_of(before)
    chunks = [bytes(chunk.data) for chunk in AttachmentChunk.objects.filter(attachment__report=before)]
    assert chunks
    # Every key the service holds opens the custody wrap before.
    assert SecretBox(keystore.load(before.custody_key_id)).decrypt(sealed_key) == data_key
    assert SecretBox(data_key).decrypt(content)
    case = _closed(case, supervisor)

    shred_family(_report(case), why="schedule")

    after = _report(case)
    assert after.content_destroyed_on == timezone.localdate()
    assert bytes(after.content) == b"" and bytes(after.custody_wrapped_key) == b"" and not after.custody_key_id
    assert not AttachmentChunk.objects.filter(attachment__report=after).exists()
    assert Attachment.objects.filter(report=after).count() == 1  # the stub still counts its file
    assert all(bytes(m.body) == b"" for m in Message.objects.filter(report=after))
    # Nothing captured before opens: not with any key the service holds, nor with a data key any of them
    # recovers from what the database still holds of the report.
    now = _report(case)
    candidates = _every_key(settings)
    for key in list(candidates):
        for wrapped in (bytes(now.custody_wrapped_key), bytes(now.helpline_sealed_key)):
            with contextlib.suppress(nacl.exceptions.CryptoError, ValueError, TypeError):
                candidates.append(bytes(SecretBox(key).decrypt(wrapped)))
    for private in crypto.keyring().private_keys.values():
        with pytest.raises((nacl.exceptions.CryptoError, ValueError, TypeError)):
            candidates.append(bytes(SealedBox(private).decrypt(bytes(now.helpline_sealed_key))))
    for key in candidates:
        for captured in (content, *chunks):
            with pytest.raises((nacl.exceptions.CryptoError, ValueError, TypeError)):
                SecretBox(key).decrypt(captured)
    with pytest.raises(ReportDestroyed):
        report_unlock(reference=after.reference, access_code=submitted.access_code, client="c")
    # The stub, and the log outside the database.
    assert after.concern_types and Case.objects.get(pk=case.pk).outcome == Outcome.NOT_SUBSTANTIATED
    assert [(e.case_number, e.reference) for e in shredlog.entries()] == [(case.case_number, after.reference)]
    # Idempotent: a second run changes nothing and logs nothing.
    shred_family(after, why="schedule")
    assert len(shredlog.entries()) == 1


def test_a_changed_or_removed_shred_log_line_is_refused(settings: Any) -> None:
    shredlog.append([shredlog.ShredEntry("C-1", "R1", timezone.localdate())])
    shredlog.append([shredlog.ShredEntry("C-2", "R2", timezone.localdate())])
    path = Path(settings.SHRED_LOG_PATH)
    lines = path.read_text().splitlines()
    path.write_text(lines[1] + "\n")
    with pytest.raises(shredlog.ShredLogDamaged):
        shredlog.entries()
    path.write_text(lines[0].replace("C-1", "C-9") + "\n")
    with pytest.raises(shredlog.ShredLogDamaged):
        shredlog.entries()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The key files read from disk (core.keystore keeps what it read while the file is unchanged)."""
    seen: list[Path] = []

    def read(path: Path) -> bytes:
        seen.append(path)
        return path.read_bytes()

    monkeypatch.setattr(keystore.FolderKeyStore, "_read", staticmethod(read))
    return seen


def test_a_key_is_read_once_then_served_from_memory_until_its_file_changes(settings: Any, reads: list[Path]) -> None:
    case = routed_case()
    report = _report(case)
    key_id = report.custody_key_id
    data_key = keystore.data_key_of(report)
    reads.clear()
    for _ in range(3):
        assert keystore.data_key_of(report) == data_key
        assert SecretBox(keystore.load(key_id)).decrypt(keystore.wrap(key_id, data_key)) == data_key
    assert reads == []
    path = Path(settings.CUSTODY_KEY_DIR, f"{key_id}.key")
    material = keystore.load(key_id)
    # Removed behind this process's back (as another process's destruction does): not served.
    path.unlink()
    with pytest.raises(crypto.KeyUnavailable):
        keystore.load(key_id)
    with pytest.raises(crypto.KeyUnavailable):
        keystore.data_key_of(report)
    # Another file put in its place: its own material is read, not what was kept.
    other = keystore.FolderKeyStore(Path(settings.CUSTODY_KEY_DIR)).create(key_id)
    assert other != material and keystore.load(key_id) == other and reads == [path]


def test_a_destroyed_key_is_never_served_from_memory(reads: list[Path]) -> None:
    data_key = keystore.data_key_of(_report(routed_case()))
    key_id = keystore.epoch_key_id(timezone.localdate())
    wrapped = keystore.wrap(key_id, data_key)
    assert SecretBox(keystore.load(key_id)).decrypt(wrapped) == data_key
    assert SecretBox(keystore.load(key_id)).decrypt(wrapped) == data_key
    assert [path.stem for path in reads].count(key_id) == 1  # kept after its first read

    assert custody_key_destroy_unused(key_id, why=SCHEDULE)

    with pytest.raises(keystore.KeyDestroyed):
        keystore.load(key_id)
    with pytest.raises(keystore.KeyDestroyed):
        keystore.wrap(key_id, data_key)
    with pytest.raises(keystore.KeyDestroyed):
        keystore.wrapping_key(key_id)


def test_a_key_first_used_in_a_rolled_back_transaction_is_recorded_again_at_its_next_use() -> None:
    data_key = keystore.data_key_of(_report(routed_case()))
    key_id = keystore.fresh_key_id(keystore.HELD)
    with contextlib.suppress(RuntimeError), transaction.atomic():
        keystore.wrap(key_id, data_key)
        assert CustodyKey.objects.filter(key_id=key_id).exists()
        raise RuntimeError("rolled back")
    assert not CustodyKey.objects.filter(key_id=key_id).exists()
    keystore.wrap(key_id, data_key)
    assert CustodyKey.objects.get(key_id=key_id).destroyed_on is None

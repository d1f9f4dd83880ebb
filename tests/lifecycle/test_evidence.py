"""Evidence export: two supervisors, a frozen list of cases, legal hold, reporters told or not, and a bundle sealed to
its recipient's key whose signed manifest and files verify, with no reporter's identity in it."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import nacl.bindings as sodium
import nacl.exceptions
import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from nacl.public import PrivateKey, SealedBox
from nacl.signing import VerifyKey

from accounts.models import User
from audit.models import AuditEvent, Subject
from audit.trail import audit_verify
from core import keystore, signing
from lifecycle import bundle, evidence
from lifecycle.evidence import BUILD_EVIDENCE_EXPORT, ExportRefused, Resolved
from lifecycle.models import EvidenceExport
from lifecycle.recipient_keys import RecipientKey, fingerprint, recipient_key_parse
from outbox.models import OutboxMessage
from outbox.services import outbox_process
from reports.models import Anonymity, Message, Report
from reports.services import Contact, message_send_from_reporter, report_read, report_unlock
from tests.factories import ROTHERHAM, SHEFFIELD, attachment_make, authority, routed_case, staff_user, submit_report
from triage.case_actions import case_ask_reporter
from triage.intake import report_route, reporter_replied
from triage.models import Case, LegalHold

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_kdf", "local_authorities")]

E = EvidenceExport
R = User.Role
# Fixed keys: the recipient's, and somebody else's.
RECIPIENT = PrivateKey(bytes([0x42]) * 32)
SOMEBODY_ELSE = PrivateKey(bytes([0x24]) * 32)
# The reporter's own details, as they gave them, and as they might write them in their messages.
NAME, EMAIL, PHONE = "Samira Okonkwo-Blake", "s.okonkwo.blake@example.org", "01632 960123"


@pytest.fixture(autouse=True)
def _own_folders(settings: Any, tmp_path: Path) -> None:
    settings.CUSTODY_KEY_DIR = str(tmp_path / "custody")
    settings.SHRED_LOG_PATH = str(tmp_path / "shred-log.jsonl")
    settings.EVIDENCE_EXPORT_DIR = str(tmp_path / "exports")


def _key(private: PrivateKey = RECIPIENT) -> RecipientKey:
    return recipient_key_parse(base64.b64encode(bytes(private.public_key)).decode())


def prepared(
    numbers: list[str],
    by: User,
    *,
    tell: bool = True,
    withheld: str = "",
    private: PrivateKey = RECIPIENT,
    **choice: Any,
) -> EvidenceExport:
    resolved = evidence.cases_resolve(**choice) if choice else Resolved(case_numbers=numbers, destroyed=[])
    return evidence.export_prepare(
        resolved=resolved,
        scope=choice.get("scope", E.Scope.CASE),
        authority=choice.get("authority"),
        period=choice.get("period", ""),
        period_from=choice.get("period_from"),
        period_to=choice.get("period_to"),
        recipient="The Independent Inquiry into Grooming Gangs",
        key=_key(private),
        basis=E.Basis.INQUIRY_NOTICE,
        basis_reference="IIGG/S21/0042",
        tell_reporters=tell,
        withheld_because=withheld,
        acting_user=by,
    )


def approved(export: EvidenceExport, by: User) -> EvidenceExport:
    evidence.export_approve(export=export, digest_seen=export.frozen_digest, acting_user=by)
    return EvidenceExport.objects.get(pk=export.pk)


def built(export: EvidenceExport) -> EvidenceExport:
    assert bundle.evidence_build(export.pk) is None
    return EvidenceExport.objects.get(pk=export.pk)


def supervisors() -> tuple[User, User]:
    return staff_user("first-supervisor"), staff_user("second-supervisor")


def bundle_opened(export: EvidenceExport, private: PrivateKey = RECIPIENT) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The bundle opened as its recipient does, with PyNaCl alone: its header and every file of its archive."""
    raw = evidence.bundle_path(export).read_bytes()
    magic, header_line, rest = raw.split(b"\n", 2)
    assert magic + b"\n" == bundle.MAGIC
    header = json.loads(header_line)
    file_key = SealedBox(private).decrypt(base64.b64decode(header["key_box"]))
    state = sodium.crypto_secretstream_xchacha20poly1305_state()
    sodium.crypto_secretstream_xchacha20poly1305_init_pull(state, base64.b64decode(header["stream_header"]), file_key)
    size = header["sealed_chunk_bytes"]
    plain, tag = b"", None
    for start in range(0, len(rest), size):
        piece, tag = sodium.crypto_secretstream_xchacha20poly1305_pull(state, rest[start : start + size])
        plain += piece
    assert tag == sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:") as tar:
        files = {member.name: tar.extractfile(member).read() for member in tar}  # type: ignore[union-attr]
    return header, files


def named_case() -> Case:
    """A case whose reporter gave their name, email and phone, and wrote them in the report and a message."""
    submitted = submit_report(
        anonymity=Anonymity.NAMED,
        contact=Contact(name=NAME, email=EMAIL, phone=PHONE),
        details=f"I am {NAME}, the deputy manager. Email me at {EMAIL.upper()} or ring 01632-960-123.",
    )
    case = report_route(report_id=submitted.report.pk)
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    message_send_from_reporter(report=report, data_key=key, body="Samira here again: call +44 1632 960123 after six.")
    reporter_replied(Message.objects.filter(report=report).latest("id").pk)
    case_ask_reporter(
        case=case, body="Thank you, Ms Okonkwo-Blake. Can you say more?", acting_user=staff_user("handler")
    )
    return Case.objects.select_related("report").get(pk=case.pk)


# --- the two-person rule -----------------------------------------------------------------------------------


def test_the_supervisor_who_prepared_an_export_can_never_approve_it() -> None:
    first, second = supervisors()
    case = routed_case()
    export = prepared([case.case_number], first)
    with pytest.raises(ExportRefused, match="another supervisor must approve it"):
        evidence.export_approve(export=export, digest_seen=export.frozen_digest, acting_user=first)
    export.refresh_from_db()
    assert export.status == E.Status.WAITING and export.approved_by is None
    assert not LegalHold.objects.filter(case=case).exists()
    assert not OutboxMessage.objects.filter(kind=BUILD_EVIDENCE_EXPORT).exists()
    # The database refuses it too.
    with pytest.raises(IntegrityError), transaction.atomic():
        EvidenceExport.objects.filter(pk=export.pk).update(approved_by=first, status=E.Status.APPROVED)
    assert approved(export, second).status == E.Status.APPROVED


@pytest.mark.parametrize("role", [R.CALL_HANDLER, R.AUTHORITY_OFFICER, R.ADMINISTRATOR])
def test_only_a_supervisor_may_prepare_or_approve(role: str) -> None:
    first, _ = supervisors()
    case = routed_case()
    other = staff_user(f"not-a-supervisor-{role}", role=role)
    with pytest.raises(PermissionDenied):
        prepared([case.case_number], other)
    export = prepared([case.case_number], first)
    with pytest.raises(PermissionDenied):
        evidence.export_approve(export=export, digest_seen=export.frozen_digest, acting_user=other)
    assert EvidenceExport.objects.get(pk=export.pk).status == E.Status.WAITING


def test_approval_needs_the_digest_the_approver_was_shown() -> None:
    first, second = supervisors()
    export = prepared([routed_case().case_number], first)
    with pytest.raises(ExportRefused, match="not the one you were shown"):
        evidence.export_approve(export=export, digest_seen="0" * 64, acting_user=second)
    assert EvidenceExport.objects.get(pk=export.pk).status == E.Status.WAITING


def test_the_audit_trail_names_both_supervisors_and_the_basis() -> None:
    first, second = supervisors()
    case = routed_case()
    export = approved(prepared([case.case_number], first), second)
    built(export)
    events = {
        event.kind: event
        for event in AuditEvent.objects.filter(
            kind__startswith="evidence_export_", detail__export=str(export.public_id)
        )
    }
    assert set(events) == {"evidence_export_prepared", "evidence_export_approved", "evidence_export_built"}
    assert events["evidence_export_prepared"].actor == first
    assert events["evidence_export_approved"].actor == second
    for kind in ("evidence_export_approved", "evidence_export_built"):
        assert events[kind].detail["requested_by"] == first.username
        assert events[kind].detail["approved_by"] == second.username
        assert events[kind].detail["basis"] == "inquiry_notice"
    on_case = AuditEvent.objects.get(subject_kind=Subject.CASE, subject_id=case.pk, kind="evidence_exported")
    assert on_case.actor == second and on_case.detail["requested_by"] == first.username
    # Codes and ids only: the reference and the recipient's name stay out of the trail.
    for event in [*events.values(), on_case]:
        assert "IIGG/S21/0042" not in json.dumps(event.detail)
        assert "Grooming Gangs" not in json.dumps(event.detail)
    assert audit_verify() == []


# --- the frozen list ---------------------------------------------------------------------------------------


def test_a_case_that_matches_the_filter_after_preparation_is_not_exported() -> None:
    first, second = supervisors()
    rotherham = authority(ROTHERHAM)
    earlier = [routed_case(), routed_case()]
    elsewhere = routed_case(local_authority=authority(SHEFFIELD))
    today = timezone.localdate()
    choice: dict[str, Any] = {
        "scope": E.Scope.FILTER,
        "authority": rotherham,
        "period": E.Period.SUBMITTED,
        "period_from": today - timedelta(days=7),
        "period_to": today,
    }
    export = prepared([], first, **choice)
    assert export.case_numbers == sorted(case.case_number for case in earlier)
    later = routed_case()
    # The same filter now matches the later case too: the export does not.
    assert later.case_number in evidence.cases_resolve(**choice).case_numbers
    export = built(approved(export, second))
    _, files = bundle_opened(export)
    exported = {name.split("/")[1] for name in files if name.startswith("cases/")}
    assert exported == {case.case_number for case in earlier}
    assert not LegalHold.objects.filter(case__in=[later, elsewhere]).exists()
    assert json.loads(files["export.json"])["cases"] == export.case_numbers


def test_a_changed_list_is_refused_at_approval_and_nothing_is_shared() -> None:
    first, second = supervisors()
    kept, added = routed_case(), routed_case()
    export = prepared([kept.case_number], first)
    EvidenceExport.objects.filter(pk=export.pk).update(case_numbers=[kept.case_number, added.case_number])
    changed = EvidenceExport.objects.get(pk=export.pk)
    # Even with the stored digest recomputed, the signature gives it away.
    changed.frozen_digest = hashlib.sha256(evidence.frozen_record(changed)).hexdigest()
    changed.save(update_fields=["frozen_digest"])
    with pytest.raises(ExportRefused, match="changed after it was prepared"):
        evidence.export_approve(export=changed, digest_seen=changed.frozen_digest, acting_user=second)
    changed.refresh_from_db()
    assert changed.status == E.Status.STOPPED and changed.approved_by is None
    assert not LegalHold.objects.filter(case__in=[kept, added]).exists()
    assert not Message.objects.filter(report__in=[kept.report, added.report]).exists()
    assert AuditEvent.objects.filter(kind="evidence_export_stopped", detail__export=str(export.public_id)).exists()


def test_a_key_swapped_after_approval_is_refused_at_the_build() -> None:
    first, second = supervisors()
    export = approved(prepared([routed_case().case_number], first), second)
    # Somebody with the database tries to have the bundle sealed to their own key.
    EvidenceExport.objects.filter(pk=export.pk).update(
        recipient_key=bytes(SOMEBODY_ELSE.public_key),
        recipient_fingerprint=fingerprint(bytes(SOMEBODY_ELSE.public_key)),
    )
    stopped = built(export)
    assert stopped.status == E.Status.STOPPED
    assert not evidence.bundle_path(stopped).exists()
    assert not evidence.export_dir().exists() or list(evidence.export_dir().iterdir()) == []


def test_a_case_destroyed_before_approval_stops_the_approval() -> None:
    from lifecycle.shredding import shred_family

    first, second = supervisors()
    gone, kept = routed_case(), routed_case()
    export = prepared([gone.case_number, kept.case_number], first)
    shred_family(Report.objects.get(pk=gone.report_id), why="schedule")
    with pytest.raises(ExportRefused, match=f"content of case {gone.case_number} was destroyed"):
        approved(export, second)
    assert EvidenceExport.objects.get(pk=export.pk).status == E.Status.WAITING
    assert not LegalHold.objects.filter(case=kept).exists()


def test_a_case_destroyed_after_its_hold_was_released_is_named_and_the_build_still_completes() -> None:
    from lifecycle.shredding import shred_family
    from triage.retention import hold_release

    first, second = supervisors()
    gone, kept = routed_case(), routed_case()
    export = approved(prepared([gone.case_number, kept.case_number], first), second)
    hold_release(case=gone, acting_user=second)
    shred_family(Report.objects.get(pk=gone.report_id), why="early destruction")
    export = built(export)
    assert export.status == E.Status.BUILT
    _, files = bundle_opened(export)
    record = json.loads(files[f"cases/{gone.case_number}/case.json"])
    assert record["content_destroyed_on"] == timezone.localdate().isoformat()
    assert not [name for name in files if name.startswith(f"cases/{gone.case_number}/") and "case.json" not in name]
    assert f"cases/{kept.case_number}/report.json" in files


# --- on approval: legal hold, and the reporters ------------------------------------------------------------


def test_approval_puts_every_exported_case_on_legal_hold() -> None:
    first, second = supervisors()
    cases = [routed_case(), routed_case()]
    approved(prepared([case.case_number for case in cases], first), second)
    for case in cases:
        hold = LegalHold.objects.get(case=case, released_on__isnull=True)
        assert hold.basis == LegalHold.Basis.EVIDENCE_EXPORT and hold.placed_by == second
        assert Report.objects.get(pk=case.report_id).custody_key_id == keystore.held_key_id()


def test_each_reporter_is_told_in_their_mailbox_with_whom_and_why() -> None:
    first, second = supervisors()
    submitted = submit_report()
    case = report_route(report_id=submitted.report.pk)
    approved(prepared([case.case_number], first), second)
    report, key = report_unlock(reference=submitted.report.reference, access_code=submitted.access_code, client="c")
    told = [m for m in report_read(report=report, data_key=key).messages if m.direction == "from_helpline"]
    assert len(told) == 1
    assert "The Independent Inquiry into Grooming Gangs" in told[0].body
    assert "section 21 of the Inquiries Act 2005" in told[0].body
    event = AuditEvent.objects.get(subject_kind=Subject.CASE, subject_id=case.pk, kind="evidence_exported")
    assert event.detail["reporter_told"] is True and event.detail["message_id"]


def test_reporters_are_not_told_when_the_export_records_why() -> None:
    first, second = supervisors()
    case = routed_case()
    approved(prepared([case.case_number], first, tell=False, withheld=E.Withheld.PREJUDICE_INVESTIGATION), second)
    assert not Message.objects.filter(report_id=case.report_id).exists()
    event = AuditEvent.objects.get(subject_kind=Subject.CASE, subject_id=case.pk, kind="evidence_exported")
    assert event.detail["reporter_told"] is False
    assert event.detail["withheld_because"] == "prejudice_investigation"


def test_not_telling_needs_a_reason() -> None:
    first, _ = supervisors()
    with pytest.raises(ExportRefused, match="why the reporters must not be told"):
        prepared([routed_case().case_number], first, tell=False)


# --- the bundle --------------------------------------------------------------------------------------------


def test_the_bundle_opens_with_the_recipients_key_only() -> None:
    first, second = supervisors()
    export = built(approved(prepared([routed_case().case_number], first), second))
    raw = evidence.bundle_path(export).read_bytes()
    header, files = bundle_opened(export)
    assert header["recipient_fingerprint"] == fingerprint(bytes(RECIPIENT.public_key)) == export.recipient_fingerprint
    assert b"Missing episodes ignored" in files[f"cases/{export.case_numbers[0]}/report.json"]
    # Never in clear on the server.
    assert b"Missing episodes ignored" not in raw and b"Northside" not in raw
    assert hashlib.sha256(raw).hexdigest() == export.bundle_sha256 and len(raw) == export.bundle_bytes
    with pytest.raises(nacl.exceptions.CryptoError):
        SealedBox(SOMEBODY_ELSE).decrypt(base64.b64decode(header["key_box"]))
    with pytest.raises(nacl.exceptions.CryptoError):
        bundle_opened(export, SOMEBODY_ELSE)


def test_the_manifest_is_signed_and_every_file_matches_it() -> None:
    first, second = supervisors()
    case = routed_case()
    attachment_make(case, b"%PDF-1.4 cleaned minutes\n", name="minutes.pdf", content_type="application/pdf")
    export = built(approved(prepared([case.case_number], first), second))
    _, files = bundle_opened(export)
    manifest_bytes, signature = files["manifest.json"], json.loads(files["manifest.sig.json"])
    assert signature["verify_key"] == signing.public_key()
    published = VerifyKey(base64.b64decode(signing.public_key()))
    published.verify(manifest_bytes, base64.b64decode(signature["signature"]))
    with pytest.raises(nacl.exceptions.BadSignatureError):
        published.verify(manifest_bytes.replace(b"sha256", b"SHA256", 1), base64.b64decode(signature["signature"]))
    manifest = json.loads(manifest_bytes)
    listed = {entry["path"]: entry["sha256"] for entry in manifest["files"]}
    assert set(listed) == set(files) - {"manifest.json", "manifest.sig.json"}
    for path, sha256 in listed.items():
        assert hashlib.sha256(files[path]).hexdigest() == sha256, path
    assert manifest["export"] == str(export.public_id)
    assert manifest["recipient_key_fingerprint"] == export.recipient_fingerprint


def test_files_go_cleaned_with_their_original_hashes_and_unclean_ones_are_only_listed() -> None:
    first, second = supervisors()
    case = routed_case()
    clean = attachment_make(case, b"Cleaned statement\n", name="statement.txt")
    unclean = attachment_make(case, b"Author: somebody\n", name="notes.txt", status="not_cleaned")
    export = built(approved(prepared([case.case_number], first), second))
    _, files = bundle_opened(export)
    listing = {row["id"]: row for row in json.loads(files[f"cases/{case.case_number}/files.json"])}
    kept = listing[str(clean.public_id)]
    assert files[kept["file"]] == b"Cleaned statement\n"
    assert kept["original_sha256"] == hashlib.sha256(b"Cleaned statement\n").hexdigest()
    assert kept["cleaned_sha256"] == hashlib.sha256(b"Cleaned statement\n").hexdigest()
    left = listing[str(unclean.public_id)]
    assert left["file"] is None and "could not be cleaned" in left["not_included_because"]
    assert left["original_sha256"] == hashlib.sha256(b"Author: somebody\n").hexdigest()
    assert not any(b"Author: somebody" in data for data in files.values())
    # Names are left out: a file is named by its id.
    assert not any(b"statement.txt" in data or b"notes.txt" in data for data in files.values())


def test_the_audit_events_in_the_bundle_are_those_of_the_chain() -> None:
    first, second = supervisors()
    case = routed_case()
    export = built(approved(prepared([case.case_number], first), second))
    _, files = bundle_opened(export)
    events = json.loads(files[f"cases/{case.case_number}/audit-events.json"])
    assert {"case_routed", "legal_hold_placed", "evidence_exported"} <= {event["kind"] for event in events}
    for event in events:
        row = AuditEvent.objects.get(pk=event["id"])
        assert (row.row_hash, row.previous_hash, row.kind) == (event["row_hash"], event["previous_hash"], event["kind"])
    timeline = json.loads(files[f"cases/{case.case_number}/timeline.json"])
    assert [item["event"] for item in timeline] == [e["id"] for e in events if e["kind"] not in ("content_viewed",)]
    export_events = json.loads(files["audit/export-events.json"])
    assert [event["kind"] for event in export_events] == ["evidence_export_prepared", "evidence_export_approved"]


def test_no_reporter_identity_is_anywhere_in_the_bundle() -> None:
    first, second = supervisors()
    case = named_case()
    export = built(approved(prepared([case.case_number], first), second))
    _, files = bundle_opened(export)
    everything = b"\n".join(files.values()).decode("utf-8").lower()
    digits = "".join(ch for ch in everything if ch.isdigit())
    for given in (NAME, "Samira", "Okonkwo", "Okonkwo-Blake", EMAIL, PHONE):
        assert given.lower() not in everything, given
    assert "1632960123" not in digits.replace("441632960123", "")  # no run of the number, however spaced
    assert "960123" not in everything and "960 123" not in everything
    # What the reporter wrote about the concern is there, with their details replaced by a note.
    report = json.loads(files[f"cases/{case.case_number}/report.json"])
    assert "the deputy manager" in report["details"] and "contact" not in report
    assert bundle.Redactor.NAME in report["details"] and bundle.Redactor.EMAIL in report["details"]
    assert bundle.Redactor.PHONE in report["details"]
    messages = json.loads(files[f"cases/{case.case_number}/messages.json"])
    assert any(bundle.Redactor.PHONE in message["text"] for message in messages)


# --- the build: on a worker, idempotent, and safe to retry -------------------------------------------------


def test_the_build_runs_from_the_outbox_once() -> None:
    first, second = supervisors()
    export = approved(prepared([routed_case().case_number], first), second)
    row = OutboxMessage.objects.get(kind=BUILD_EVIDENCE_EXPORT, target_id=export.pk)
    outbox_process(outbox_id=row.pk)
    export.refresh_from_db()
    assert export.status == E.Status.BUILT
    assert OutboxMessage.objects.get(pk=row.pk).processed_at is not None
    first_hash = export.bundle_sha256
    # A second run (a re-sent task) changes nothing.
    assert bundle.evidence_build(export.pk) is None
    export.refresh_from_db()
    assert export.bundle_sha256 == first_hash
    assert hashlib.sha256(evidence.bundle_path(export).read_bytes()).hexdigest() == first_hash
    assert AuditEvent.objects.filter(kind="evidence_export_built", detail__export=str(export.public_id)).count() == 1


def test_a_build_that_dies_half_way_leaves_no_bundle_and_the_retry_builds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = supervisors()
    export = approved(prepared([routed_case().case_number], first), second)
    real_write = bundle.bundle_write

    def dies(export: EvidenceExport, out: Any) -> int:
        out.write(b"HELPLINE-EVIDENCE-BUNDLE 1\n{half a bundle")
        raise OSError("worker killed")

    monkeypatch.setattr(bundle, "bundle_write", dies)
    with pytest.raises(OSError, match="worker killed"):
        bundle.evidence_build(export.pk)
    export.refresh_from_db()
    assert export.status == E.Status.APPROVED and not export.bundle_sha256
    assert list(evidence.export_dir().iterdir()) == []  # neither the bundle nor the partial file
    monkeypatch.setattr(bundle, "bundle_write", real_write)
    export = built(export)
    assert export.status == E.Status.BUILT
    bundle_opened(export)


# --- choosing the cases ------------------------------------------------------------------------------------


def test_resolving_refuses_an_unknown_case_and_a_filter_that_matches_nothing() -> None:
    with pytest.raises(ExportRefused, match="There is no case 2026-ZZZZZZ") as unknown:
        evidence.cases_resolve(scope=E.Scope.CASE, case_number="2026-zzzzzz")
    assert unknown.value.field == "case_number"
    with pytest.raises(ExportRefused, match="like 2026-K7M3QX"):
        evidence.cases_resolve(scope=E.Scope.CASE, case_number="not a case")
    today = timezone.localdate()
    with pytest.raises(ExportRefused, match="No cases of Rotherham were closed"):
        evidence.cases_resolve(
            scope=E.Scope.FILTER,
            authority=authority(ROTHERHAM),
            period=E.Period.CLOSED,
            period_from=today - timedelta(days=30),
            period_to=today,
        )


def test_a_filter_leaves_out_destroyed_cases_but_names_them(settings: Any) -> None:
    from lifecycle.shredding import shred_family

    gone, kept = routed_case(), routed_case()
    shred_family(Report.objects.get(pk=gone.report_id), why="schedule")
    today = timezone.localdate()
    resolved = evidence.cases_resolve(
        scope=E.Scope.FILTER,
        authority=authority(ROTHERHAM),
        period=E.Period.SUBMITTED,
        period_from=today,
        period_to=today,
    )
    assert resolved == Resolved(case_numbers=[kept.case_number], destroyed=[gone.case_number])
    settings.EVIDENCE_EXPORT_MAX_CASES = 0
    with pytest.raises(ExportRefused, match="at most 0"):
        evidence.cases_resolve(
            scope=E.Scope.FILTER,
            authority=authority(ROTHERHAM),
            period=E.Period.SUBMITTED,
            period_from=today,
            period_to=today,
        )

"""Building an evidence bundle, sealed to its recipient's key so that it never exists in clear on the server.

The bundle is one file (under ``EVIDENCE_EXPORT_DIR``, named after the export's id):

    HELPLINE-EVIDENCE-BUNDLE 1\\n
    {"format": ..., "export": ..., "recipient_fingerprint": ..., "key_box": ..., "stream_header": ...,
     "sealed_chunk_bytes": ...}\\n
    sealed chunks, each exactly sealed_chunk_bytes long, to the end of the file

``key_box`` is a random file key sealed to the recipient's X25519 public key (a libsodium sealed box,
core.crypto.seal_to_public_key); the chunks are a tar archive sealed with that key as a libsodium secretstream
(core.secretstream: XChaCha20-Poly1305, 64 KiB of plaintext a chunk, the last tagged FINAL, zeros after the
archive's end to fill its last chunks). The file key is never stored: only the recipient's private key opens it.

Inside the archive, for each case (``cases/<case number>/``): the case's record (case.json), the report as the
reporter wrote it with their name and contact details left out (report.json), the messages (messages.json), the
files' list with their original SHA-256 (files.json) and the cleaned files themselves (files/), the referrals
and their threads (referrals.json), the timeline (timeline.json) and every audit event about the case with its
place in the audit chain (audit-events.json). Then the export's own audit events, and a manifest listing every
file with its SHA-256, signed with the service's key (core.signing): manifest.json and manifest.sig.json.

The build runs on a worker (the outbox kind BUILD_EVIDENCE_EXPORT), holding the export's row so two workers
never build it at once. It writes a temporary file and renames it into place, then records the bundle's SHA-256:
a build killed half-way leaves no bundle, and the retry builds it again from the start. docs/evidence.md says
how the recipient opens and verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import secrets
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import nacl.exceptions
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent, Subject
from audit.trail import event_record
from core import crypto, secretstream, signing
from lifecycle.evidence import BUILD_EVIDENCE_EXPORT, _stop, bundle_path, frozen_intact
from lifecycle.models import EvidenceExport
from outbox.registry import Retry, register
from referrals.models import AuthorityAction, Referral
from reports.attachments import FileMeta, attachment_meta, attachment_open
from reports.filetypes import BY_CONTENT_TYPE
from reports.models import Attachment, Report
from triage import workflow
from triage.case_content import case_data_key, served_size
from triage.events import case_timeline_events
from triage.models import Case, CaseFacts, CaseLink, LegalHold
from triage.retention import destroyed_how
from triage.selectors import NOT_ON_THE_TIMELINE
from triage.templatetags.case_events import event_label

MAGIC = b"HELPLINE-EVIDENCE-BUNDLE 1\n"
FORMAT = "helpline-evidence-bundle/1"
E = EvidenceExport

# What is left out of every bundle, as the bundle itself says so.
LEFT_OUT = (
    "The reporter's name, email address and telephone number are left out, and so is whether an earlier report "
    "to the police or the council was the reporter's own. Wherever the reporter's name, email address or "
    "telephone number appears in the text of the report, the messages, the referrals or their threads, it is "
    "replaced by a note saying so. Files' names are left out too (a file's name can name whoever made it): each "
    "file is named by its id. Files that could not be cleaned of hidden details (such as who made them, or where "
    "a photo was taken) are listed but not included. Other things the reporter wrote may still point to them: "
    "handle the bundle as you would the reporter's identity."
)


# --- what is left out ---------------------------------------------------------------------------------------

_NOT_NAMES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "the", "and", "of"})
_PHONE_GAP = r"[\s\-().]*"


class Redactor:
    """Replaces the reporter's own name, email address and telephone number wherever they appear in text: the
    whole name and each word of it, case-insensitively, as whole words; the address; the number however it is
    spaced, with +44 or 0 in front. ``count`` says how many were replaced."""

    NAME = "[the reporter's name: left out]"
    EMAIL = "[the reporter's email address: left out]"
    PHONE = "[the reporter's telephone number: left out]"

    def __init__(self, contact: object) -> None:
        contact = contact if isinstance(contact, dict) else {}
        self.count = 0
        alternatives: list[tuple[str, str]] = []
        email = str(contact.get("email") or "").strip()
        if email:
            alternatives.append((re.escape(email), self.EMAIL))
        digits = re.sub(r"\D", "", str(contact.get("phone") or ""))
        if len(digits) >= 6:
            national = digits[2:] if digits.startswith("44") else digits.lstrip("0")
            for form in sorted({digits, "0" + national, "44" + national}, key=len, reverse=True):
                alternatives.append((r"(?<!\d)\+?" + _PHONE_GAP.join(form) + r"(?!\d)", self.PHONE))
        name = str(contact.get("name") or "").strip()
        words = [word.strip(".,") for word in re.split(r"[\s,]+", name)]
        words = [word for word in words if len(word) >= 2 and word.lower() not in _NOT_NAMES]
        if len(words) > 1:
            alternatives.append((r"\b" + r"\s+".join(re.escape(word) for word in words) + r"\b", self.NAME))
        for word in sorted(set(words), key=len, reverse=True):
            alternatives.append((r"\b" + re.escape(word) + r"\b", self.NAME))
        self._replacements = [replacement for _, replacement in alternatives]
        self._pattern = (
            re.compile("|".join(f"({pattern})" for pattern, _ in alternatives), re.IGNORECASE) if alternatives else None
        )

    def _replace(self, match: re.Match[str]) -> str:
        self.count += 1
        return self._replacements[(match.lastindex or 1) - 1]

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(self._replace, text)


# Only these fields of a report's sealed content go: anything else it holds (its "contact") never does.
REPORT_FIELDS = ("summary", "details", "organisation_name", "internal_response")
PRIOR_REPORT_FIELDS = ("answer", "to", "on", "reference")


def report_content_kept(content: dict[str, object], redact: Redactor) -> dict[str, object]:
    kept: dict[str, object] = {name: redact(str(content.get(name) or "")) for name in REPORT_FIELDS}
    prior = content.get("already_reported")
    if isinstance(prior, dict):
        kept["already_reported"] = {name: redact(str(prior.get(name) or "")) for name in PRIOR_REPORT_FIELDS}
    return kept


# --- the documents of one case ------------------------------------------------------------------------------


def _at(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _who(user: Any) -> str | None:
    return user.username if user is not None else None


def _authority(authority: Any) -> dict[str, str] | None:
    return {"gss_code": authority.gss_code, "name": authority.name} if authority is not None else None


def _event(event: AuditEvent) -> dict[str, object]:
    """An audit event with everything its row hash covers, so the helpline can show it in its chain."""
    return {
        "id": event.pk,
        "chain_version": event.chain_version,
        "previous_hash": event.previous_hash,
        "row_hash": event.row_hash,
        "subject_kind": event.subject_kind,
        "subject_id": event.subject_id,
        "actor_id": event.actor_id,
        "actor": _who(event.actor),
        "kind": event.kind,
        "detail": event.detail,
        "created_at": event.created_at.isoformat(),
    }


NOT_INCLUDED: dict[str, str] = {
    Attachment.Status.NOT_CLEANED: "It could not be cleaned of hidden details that may identify someone.",
    Attachment.Status.BLOCKED: "The malware scan blocked it: nobody can open it.",
    Attachment.Status.REMOVED: "A supervisor deleted it: its content is gone.",
    Attachment.Status.PENDING: "It was still being checked when the bundle was built.",
}


@dataclass
class CaseFile:
    """A cleaned file to put in the bundle, once its plaintext has been checked to open."""

    path: str
    attachment: Attachment
    size: int


@dataclass
class CaseDocuments:
    documents: dict[str, object] = field(default_factory=dict)
    files: list[CaseFile] = field(default_factory=list)


def _file_checked(attachment: Attachment, key: bytes) -> tuple[str, int] | None:
    """The SHA-256 and size of a file's plaintext, read through once; None when it does not open."""
    digest, size = hashlib.sha256(), 0
    try:
        for chunk in attachment_open(attachment, key):
            digest.update(chunk)
            size += len(chunk)
    except (secretstream.StreamError, nacl.exceptions.CryptoError, ValueError):
        return None
    return digest.hexdigest(), size


def _messages(report: Report, key: bytes, redact: Redactor) -> list[dict[str, object]]:
    return [
        {
            "id": message.pk,
            "direction": message.direction,
            "from": "The helpline" if message.direction == message.Direction.FROM_HELPLINE else "The reporter",
            "kind": message.kind,
            "sent_on": _at(message.sent_on),
            "written_by": _who(message.author),
            "text": redact(crypto.open_text(key, bytes(message.body))) if message.body else "",
            "files": [str(public_id) for public_id in message.attachments.values_list("public_id", flat=True)],
        }
        for message in report.messages.select_related("author").order_by("id")
    ]


def _files(report: Report, key: bytes, folder: str) -> tuple[list[dict[str, object]], list[CaseFile]]:
    """Every file of the report, listed with its original's SHA-256; and the cleaned ones to include, each read
    through once first, so a file that does not open is listed as such instead of breaking the archive."""
    listed: list[dict[str, object]] = []
    included: list[CaseFile] = []
    for attachment in Attachment.objects.filter(report=report).select_related("added_by").order_by("id"):
        row: dict[str, object] = {
            "id": str(attachment.public_id),
            "sent_by": attachment.source,
            "added_by": _who(attachment.added_by),
            "added_on": _at(attachment.added_on),
            "message_id": attachment.message_id,
            "status": attachment.status,
        }
        listed.append(row)
        meta: FileMeta | None = attachment_meta(attachment, key) if attachment.meta else None
        if meta is not None:
            row.update(type=meta.content_type, original_sha256=meta.sha256, original_bytes=meta.size)
        reason = NOT_INCLUDED.get(attachment.status) or ("It holds no content." if meta is None else "")
        checked = _file_checked(attachment, key) if meta is not None and not reason else None
        if meta is not None and not reason:
            if checked is None:
                reason = "The stored file did not open: it may be damaged."
            elif checked[1] != served_size(attachment, meta):
                reason = "Its stored size does not match its record."
        if reason or checked is None or meta is None:
            row.update(file=None, not_included_because=reason)
            continue
        kind = BY_CONTENT_TYPE.get(meta.content_type)
        path = f"{folder}/files/{attachment.public_id}{kind.extension if kind else ''}"
        row.update(file=path, cleaned_sha256=checked[0], cleaned_bytes=checked[1])
        included.append(CaseFile(path=path, attachment=attachment, size=checked[1]))
    return listed, included


def _referrals(case: Case, key: bytes, redact: Redactor) -> list[dict[str, object]]:
    def opened(sealed: bytes | memoryview) -> str:
        return redact(crypto.open_text(key, bytes(sealed))) if sealed else ""

    referrals = []
    for referral in (
        Referral.objects.filter(case=case).select_related("authority", "body", "referred_by").order_by("id")
    ):
        particulars: dict[str, object] = {}
        if referral.particulars:
            given = json.loads(crypto.open_text(key, bytes(referral.particulars)))
            if isinstance(given, dict):
                particulars = {
                    "postcode_district": given.get("postcode_district") or "",
                    "organisation_named": bool(given.get("organisation")),
                    "contact_details_shared": list(given.get("contact") or []),
                }
        thread = [
            {
                "id": action.pk,
                "kind": action.kind,
                "what": action.get_kind_display(),
                "recorded_by": _who(action.recorded_by),
                "at": _at(action.created_at),
                "text": opened(action.note),
                "reply_to": action.reply_to_id,
                "answer_due_at": _at(action.answer_due_at),
                "answered_at": _at(action.answered_at),
            }
            for action in AuthorityAction.objects.filter(referral=referral).select_related("recorded_by").order_by("id")
        ]
        referrals.append(
            {
                "id": referral.pk,
                "recipient": {
                    "kind": referral.recipient_kind,
                    "code": referral.recipient_code,
                    "name": referral.recipient_name,
                },
                "referred_from": referral.referred_from_id,
                "referred_by": _who(referral.referred_by),
                "referred_at": _at(referral.referred_at),
                "status": referral.status,
                "how_sent": referral.how_sent,
                "reference_given": opened(referral.sent_reference),
                # Each decision to share the reporter's identity with this referral's recipient (referrals.identity).
                "identity_sharings": [
                    {
                        "route": sharing.route,
                        "status": sharing.status,
                        "covers": list(sharing.covers),
                        "basis": sharing.basis,
                        "legal_reference": opened(sharing.legal_reference),
                        "asked_by": _who(sharing.asked_by),
                        "asked_at": _at(sharing.asked_at),
                        "decided_by": _who(sharing.decided_by),
                        "decided_at": _at(sharing.decided_at),
                        "answered_on": _at(sharing.answered_on),
                        "withdrawn_on": _at(sharing.withdrawn_on),
                        "seen_on": _at(sharing.seen_on),
                    }
                    for sharing in referral.identity_sharings.select_related("asked_by", "decided_by")
                ],
                "particulars": particulars,
                "summary": opened(referral.summary),
                "acknowledgement_due_at": _at(referral.ack_due_at),
                "acknowledged_at": _at(referral.acknowledged_at),
                "outcome_due_at": _at(referral.outcome_due_at),
                "outcome": referral.outcome,
                "outcome_at": _at(referral.outcome_at),
                "withdrawn_at": _at(referral.withdrawn_at),
                "files_shared": [
                    str(public_id) for public_id in referral.attachments.values_list("public_id", flat=True)
                ],
                "thread": thread,
            }
        )
    return referrals


def _case_record(case: Case, report: Report) -> dict[str, object]:
    """The case's metadata: codes, dates and names of authorities, never what anybody wrote."""
    facts = CaseFacts.objects.filter(case=case).first()
    linked = sorted(
        set(CaseLink.objects.filter(case=case).values_list("other__case_number", flat=True))
        | set(CaseLink.objects.filter(other=case).values_list("case__case_number", flat=True))
    )
    original = (
        Case.objects.filter(report_id=report.retaliation_of_id).values_list("case_number", flat=True).first()
        if report.retaliation_of_id
        else None
    )
    holds = [
        {
            "basis": hold.basis,
            "placed_on": _at(hold.placed_on),
            "placed_by": _who(hold.placed_by),
            "review_due_on": _at(hold.review_due_on),
            "released_on": _at(hold.released_on),
            "released_by": _who(hold.released_by),
        }
        for hold in LegalHold.objects.filter(case=case).select_related("placed_by", "released_by").order_by("id")
    ]
    return {
        "case_number": case.case_number,
        "status": case.status,
        "status_words": case.get_status_display(),
        "priority": case.priority,
        "created_at": _at(case.created_at),
        "closed_at": _at(case.closed_at),
        "outcome": case.outcome,
        "outcome_words": case.get_outcome_display() if case.outcome else "",
        "authority": _authority(case.authority),
        "about_council": _authority(case.conflict_authority),
        "independent_review": case.independent_review,
        "escalated_to_police": case.escalated_to_police,
        "destroy_on": _at(case.destroy_on),
        "report": {
            "channel": report.channel,
            "anonymity": report.anonymity,
            "reporter_sector": report.reporter_sector,
            "concern_types": list(report.concern_types),
            "local_authority": _authority(report.local_authority),
            "about_authority": _authority(report.about_authority),
            "child_at_immediate_risk": report.child_at_immediate_risk,
            "raised_internally": report.raised_internally,
            "already_reported": report.already_reported,
            "submitted_on": _at(timezone.localdate(report.submitted_at)),
            "retaliation_report_of_case": original,
        },
        "facts": _facts(facts),
        "linked_cases": linked,
        "legal_holds": holds,
        "left_out": LEFT_OUT,
    }


def case_documents(case: Case) -> CaseDocuments:
    """Everything of one case that goes in the bundle, opened with its data key."""
    # Evidence exports refuse a national review case (lifecycle.evidence): it has no report.
    report = Report.objects.select_related("local_authority", "about_authority").get(pk=workflow.report_of(case).pk)
    folder = f"cases/{case.case_number}"
    if report.content_destroyed_on is not None:
        # Held cases are never destroyed, so only a hold released before the build comes here: say so.
        destroyed: dict[str, object] = {
            "case_number": case.case_number,
            "content_destroyed_on": _at(report.content_destroyed_on),
            "left_out": f"The case's content was destroyed {destroyed_how(report.content_destroyed_early)} before "
            "the bundle was built: nothing of it is left to include.",
        }
        return CaseDocuments(documents={f"{folder}/case.json": destroyed})
    key = case_data_key(case)
    content = crypto.open_content(key, bytes(report.content))
    redact = Redactor(content.get("contact"))
    report_kept = report_content_kept(content, redact)
    messages = _messages(report, key, redact)
    files, included = _files(report, key, folder)
    referrals = _referrals(case, key, redact)
    events = list(case_timeline_events(case).select_related("actor").order_by("id"))
    timeline = [
        {
            "event": event.pk,
            "kind": event.kind,
            "what": event_label(event.kind),
            "at": _at(event.created_at),
            "by": _who(event.actor),
        }
        for event in events
        if event.kind not in NOT_ON_THE_TIMELINE
    ]
    record: dict[str, object] = {**_case_record(case, report), "replaced_in_text": redact.count}
    documents: dict[str, object] = {
        f"{folder}/case.json": record,
        f"{folder}/report.json": report_kept,
        f"{folder}/messages.json": messages,
        f"{folder}/files.json": files,
        f"{folder}/referrals.json": referrals,
        f"{folder}/timeline.json": timeline,
        f"{folder}/audit-events.json": [_event(event) for event in events],
    }
    return CaseDocuments(documents=documents, files=included)


def _facts(facts: CaseFacts | None) -> dict[str, object] | None:
    if facts is None:
        return None
    return {
        "ofsted_class": facts.ofsted_class,
        "group_based": facts.group_based,
        "settings": list(facts.settings),
        "looked_after": facts.looked_after,
        "placed_out_of_area": facts.placed_out_of_area,
        "placing_authority": _authority(facts.placing_authority),
        "missing_episodes": facts.missing_episodes,
        "suspects": facts.suspects,
        "suspect_ethnicity": facts.suspect_ethnicity,
        "suspect_nationality": facts.suspect_nationality,
    }


# --- the archive, sealed as it is written -------------------------------------------------------------------


class _Sealing(io.RawIOBase):
    """A write-only file whose bytes go straight into the secretstream: tarfile writes the archive here."""

    def __init__(self, sealer: secretstream.Sealer) -> None:
        super().__init__()
        self._sealer = sealer

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self._sealer.write(chunk)
        return len(chunk)


class _Reading(io.RawIOBase):
    """A file's plaintext chunks as a readable file for tarfile, hashed as they are read."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buffer = bytearray()
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        end = len(self._buffer) if size < 0 else size
        out = bytes(self._buffer[:end])
        del self._buffer[:end]
        self.sha256.update(out)
        return out


def _json(document: object) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


README = """An evidence bundle from the national whistleblowing helpline for child sexual exploitation concerns.

export.json         what was shared, with whom, on what legal basis, and who prepared and approved it
cases/<number>/     one folder for each case:
  case.json         the case's record: dates, authority, outcome, concern types, facts, legal holds
  report.json       the report as the reporter wrote it (their name and contact details left out)
  messages.json     the messages between the reporter and the helpline
  files.json        every file, with the SHA-256 of the original as received and of the cleaned file
  files/            the cleaned files, named by their id
  referrals.json    the referrals to authorities and national bodies, and their threads
  timeline.json     what happened, in order
  audit-events.json every audit event about the case, with its id and row hash in the helpline's audit chain
audit/export-events.json  the audit events of this export (prepared, approved)
manifest.json       every file above with its SHA-256, signed in manifest.sig.json with the service's key

Check manifest.sig.json against the service's published verify key, then every file's SHA-256 against
manifest.json, before relying on anything here (the helpline's instructions, docs/evidence.md, show how).
"""


@dataclass
class _Archive:
    tar: tarfile.TarFile
    mtime: int
    listed: list[dict[str, object]] = field(default_factory=list)

    def _info(self, path: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(path)
        info.size = size
        info.mtime = self.mtime
        info.mode = 0o644
        return info

    def add_bytes(self, path: str, data: bytes, *, listed: bool = True) -> None:
        self.tar.addfile(self._info(path, len(data)), io.BytesIO(data))
        if listed:
            self.listed.append({"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})

    def add_stream(self, path: str, chunks: Iterator[bytes], size: int) -> str:
        reader = _Reading(chunks)
        self.tar.addfile(self._info(path, size), reader)
        if reader.read(1):
            raise secretstream.StreamError("The file is longer than it was when it was checked")
        digest = reader.sha256.hexdigest()
        self.listed.append({"path": path, "sha256": digest, "bytes": size})
        return digest


def _export_document(export: EvidenceExport, built_at: datetime) -> dict[str, object]:
    return {
        "format": FORMAT,
        "export": str(export.public_id),
        "recipient": export.recipient,
        "recipient_key_fingerprint": export.recipient_fingerprint,
        "recipient_key_format": export.recipient_key_format,
        "legal_basis": {
            "code": export.basis,
            "words": E.Basis(export.basis).label,
            "reference": export.basis_reference,
        },
        "prepared_by": _who(export.requested_by),
        "prepared_at": _at(export.requested_at),
        "approved_by": _who(export.approved_by),
        "approved_at": _at(export.approved_at),
        "built_at": _at(built_at),
        "chosen": {
            "scope": export.scope,
            "authority": _authority(export.authority),
            "period": export.period,
            "from": _at(export.period_from),
            "to": _at(export.period_to),
        },
        "cases": list(export.case_numbers),
        "cases_matching_whose_content_was_destroyed": list(export.destroyed_case_numbers),
        "reporters_told": export.tell_reporters,
        "reporters_not_told_because": E.Withheld(export.withheld_because).label if export.withheld_because else "",
        "frozen_digest": export.frozen_digest,
        "left_out": LEFT_OUT,
    }


def bundle_write(export: EvidenceExport, out: IO[bytes]) -> int:
    """Write the sealed bundle of an approved export to ``out``. Returns how many files the manifest lists."""
    file_key = secretstream.new_file_key()
    key_box = crypto.seal_to_public_key(bytes(export.recipient_key), file_key)

    def emit(_index: int, sealed: bytes) -> None:
        out.write(sealed)

    sealer = secretstream.Sealer(file_key, emit)
    header = {
        "format": FORMAT,
        "export": str(export.public_id),
        "recipient_fingerprint": export.recipient_fingerprint,
        "key_box": base64.b64encode(key_box).decode("ascii"),
        "stream_header": base64.b64encode(sealer.header).decode("ascii"),
        "sealed_chunk_bytes": secretstream.SEALED_CHUNK,
    }
    out.write(MAGIC)
    out.write(json.dumps(header, sort_keys=True, separators=(",", ":")).encode("ascii") + b"\n")
    built_at = timezone.now()
    sink = _Sealing(sealer)
    with tarfile.open(fileobj=sink, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        archive = _Archive(tar=tar, mtime=int(built_at.timestamp()))
        archive.add_bytes("README.txt", README.encode("utf-8"))
        archive.add_bytes("export.json", _json(_export_document(export, built_at)))
        cases = {case.case_number: case for case in Case.objects.filter(case_number__in=export.case_numbers)}
        for number in export.case_numbers:
            case = cases[number]
            documents = case_documents(case)
            for path, document in documents.documents.items():
                archive.add_bytes(path, _json(document))
            key = case_data_key(case) if documents.files else b""
            for file in documents.files:
                archive.add_stream(file.path, attachment_open(file.attachment, key), file.size)
        export_events = AuditEvent.objects.filter(
            subject_kind=Subject.NONE, kind__startswith="evidence_export_", detail__export=str(export.public_id)
        ).select_related("actor")
        archive.add_bytes("audit/export-events.json", _json([_event(event) for event in export_events.order_by("id")]))
        head = AuditEvent.objects.order_by("-id").values("id", "row_hash").first()
        manifest = {
            "format": FORMAT,
            "export": str(export.public_id),
            "recipient_key_fingerprint": export.recipient_fingerprint,
            "frozen_digest": export.frozen_digest,
            "built_at": _at(built_at),
            "audit_chain_head": head,
            "files": archive.listed,
        }
        manifest_bytes = _json(manifest)
        archive.add_bytes("manifest.json", manifest_bytes, listed=False)
        signed = signing.sign(manifest_bytes)
        signature = {"algorithm": "ed25519", **signed, "verify_key": signing.public_key(signed["key_id"])}
        archive.add_bytes("manifest.sig.json", _json(signature), listed=False)
    sealer.close()
    return len(manifest["files"])  # type: ignore[arg-type]


class _Hashing:
    """Writes to a file and hashes what it wrote."""

    def __init__(self, out: IO[bytes]) -> None:
        self._out = out
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._out.write(data)
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


# How long a worker waits before trying an export another worker holds.
BUSY_RETRY = timedelta(seconds=60)


def evidence_build(export_id: int) -> Retry | None:
    """Build an approved export's bundle (the outbox handler): idempotent, and safe to run again after a crash.
    An export already built, cancelled or stopped is left as it is. One whose frozen details no longer verify is
    stopped, and nothing is written."""
    with transaction.atomic(durable=True):
        export = (
            EvidenceExport.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("requested_by", "approved_by", "authority")
            .filter(pk=export_id)
            .first()
        )
        if export is None:
            if EvidenceExport.objects.filter(pk=export_id).exists():
                return Retry(at=timezone.now() + BUSY_RETRY, error="Being built by another worker")
            return None
        if export.status != E.Status.APPROVED:
            return None
        intact = frozen_intact(export) and export.approved_by_id not in (None, export.requested_by_id)
        if intact:
            _build(export)
            return None
    _stop(export_id, None)
    return None


def _build(export: EvidenceExport) -> None:
    final = bundle_path(export)
    final.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = final.parent / f".{export.public_id}.{secrets.token_hex(6)}.partial"
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            hashing = _Hashing(handle)
            files = bundle_write(export, hashing)  # type: ignore[arg-type]
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, final)
        _fsync_folder(final.parent)
    finally:
        partial.unlink(missing_ok=True)
    export.status = E.Status.BUILT
    export.built_at = timezone.now()
    export.bundle_sha256 = hashing.sha256.hexdigest()
    export.bundle_bytes = hashing.size
    export.save(update_fields=["status", "built_at", "bundle_sha256", "bundle_bytes"])
    event_record(
        kind="evidence_export_built",
        detail={
            "export": str(export.public_id),
            "basis": export.basis,
            "requested_by": _who(export.requested_by),
            "approved_by": _who(export.approved_by),
            "cases": len(export.case_numbers),
            "files": files,
            "bundle_sha256": export.bundle_sha256,
            "bundle_bytes": export.bundle_bytes,
        },
    )


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def register_handlers() -> None:
    register(BUILD_EVIDENCE_EXPORT, evidence_build, atomic=False)

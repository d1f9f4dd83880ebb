"""The reporter's receipt: signed proof that they made this disclosure to the helpline, and on which day.

1. **With the report** (``receipt_start``, in report_submit's transaction): a Receipt row holding a random
   receipt key wrapped with the report's data key, and a SIGN_RECEIPT outbox row. The public tier never signs.
2. **By a worker, after the commit** (``receipt_sign``, the outbox handler): the report's data key opens its
   content, the receipt is built (``receipt_payload``) and signed with the workers' receipt key (core.receipts),
   its text block sealed with the receipt key, the day kept, and the block's SHA-256 recorded as an audit event
   (day only). Idempotent: a row already signed is left as it is.
3. **For the reporter**: /check opens it with the data key their access code unlocks; the confirmation page with
   the receipt key alone, which the browser's sealed sent note holds for as long as that note lives.

What a receipt holds (version 1, docs/receipts.md): the service, the day of the disclosure and the day it was
issued, the reference, a salted SHA-256 of each free-text answer given (``ANSWER_FIELDS``), one of the whole
submission, each file's original SHA-256, the key id and the signature. Never the access code, a name, contact
details or anything written. Short or low-variety answers (concern types, sector, postcode, council,
organisation) get no digest of their own: whoever found the file could recover them by trying every value.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audit.models import Subject
from audit.trail import event_record
from core import crypto, keystore, receipts, throttle
from core.timetrail import bucket_ceil, day_start
from outbox.registry import Retry, register
from outbox.services import outbox_add
from reports.attachments import attachment_meta
from reports.models import Attachment, Receipt, Report
from reports.outbox_kinds import SIGN_RECEIPT

log = logging.getLogger(__name__)

# The free-text answers each given its own fingerprint, in the order the receipt page lists them.
ANSWER_FIELDS: dict[str, str] = {
    "summary": "What the concern is about (the summary)",
    "details": "What happened (the details)",
    "internal_response": "What happened when you raised it",
}
# The fingerprint of everything sent together, checked with the submission as JSON (docs/receipts.md).
SUBMISSION_FIELD = "submission"
# How long a worker without the receipt key waits before trying again.
NO_KEY_RETRY = timedelta(minutes=15)


def receipt_start(*, report: Report, data_key: bytes) -> bytes:
    """In the report's transaction: its receipt row (not signed yet) and the outbox row that signs it. Returns
    the receipt key, for the confirmation page's sealed note."""
    receipt_key = crypto.new_data_key()
    receipt = Receipt.objects.create(report=report, key_wrap=crypto.seal_key_with(data_key, receipt_key))
    outbox_add(kind=SIGN_RECEIPT, target_id=receipt.pk)
    return receipt_key


# --- what a receipt holds ------------------------------------------------------------------------------------


def _code(authority: Any) -> str | None:
    return authority.gss_code if authority is not None else None


def submitted_files(report: Report, data_key: bytes) -> list[str]:
    """The original SHA-256 of each file sent with the report, in the order they were added."""
    files = Attachment.objects.filter(report=report, source=Attachment.Source.REPORTER, sent_with_report=True)
    return [attachment_meta(attachment, data_key).sha256 for attachment in files.order_by("pk")]


@sensitive_variables("data_key", "content")
def submission_of(report: Report, data_key: bytes) -> dict[str, Any]:
    """Everything the reporter sent, as stored (the cleaned values): what the whole-submission fingerprint
    covers, in its canonical form (RFC 8785, strings NFC-normalised)."""
    content = crypto.open_content(data_key, bytes(report.content))
    return {
        "anonymity": report.anonymity,
        "reporter_sector": report.reporter_sector,
        "concern_types": sorted(report.concern_types),
        "local_authority": _code(report.local_authority),
        "about_authority": _code(report.about_authority),
        "child_at_immediate_risk": report.child_at_immediate_risk,
        "raised_internally": report.raised_internally,
        "already_reported": content.get("already_reported") or {"answer": report.already_reported},
        "summary": content.get("summary", ""),
        "details": content.get("details", ""),
        "organisation_name": content.get("organisation_name", ""),
        "internal_response": content.get("internal_response", ""),
        "contact": content.get("contact") or {},
        "files": submitted_files(report, data_key),
    }


@sensitive_variables("data_key", "submission")
def receipt_payload(report: Report, data_key: bytes, *, issued: date) -> dict[str, Any]:
    """The unsigned receipt of a report (version 1)."""
    submission = submission_of(report, data_key)
    answers = {
        field: receipts.text_fingerprint(str(submission[field]))
        for field in ANSWER_FIELDS
        if receipts.canonical_text(str(submission.get(field) or ""))
    }
    return {
        "v": receipts.FORMAT_VERSION,
        "service": settings.RECEIPT_SERVICE,
        "disclosed": timezone.localdate(report.submitted_at).isoformat(),
        "issued": issued.isoformat(),
        "reference": report.reference,
        "answers": answers,
        SUBMISSION_FIELD: receipts.object_fingerprint(submission),
        "files": submission["files"],
    }


def receipt_digest(block: str) -> str:
    """The SHA-256 of a receipt's text block (canonical, with its signature): what the audit trail keeps."""
    return hashlib.sha256(block.encode("ascii")).hexdigest()


# --- the worker ---------------------------------------------------------------------------------------------


@sensitive_variables("data_key", "receipt_key", "payload")
def receipt_sign(receipt_id: int) -> Retry | None:
    """Sign one report's receipt (the SIGN_RECEIPT handler, atomic with its outbox row). Nothing to do for a
    receipt already signed or a report whose content was destroyed; a worker without the key waits."""
    receipt = Receipt.objects.select_for_update().select_related("report").filter(pk=receipt_id).first()
    if receipt is None or receipt.issued_on is not None:
        return None
    report = receipt.report
    if report.content_destroyed_on is not None:
        return None
    if not receipts.can_sign():
        log.warning("receipt %s waits: this worker holds no receipt signing key", receipt_id)
        return Retry(at=bucket_ceil(timezone.now() + NO_KEY_RETRY), error="no receipt signing key")
    data_key = keystore.data_key_of(report)
    receipt_key = crypto.open_key_with(data_key, bytes(receipt.key_wrap))
    today = timezone.localdate()
    signed = receipts.sign(receipt_payload(report, data_key, issued=today))
    block = receipts.block_text(signed)
    receipt.body = crypto.seal_text(receipt_key, block)
    receipt.signing_key_id = str(signed["key"])
    receipt.issued_on = today
    receipt.save(update_fields=["body", "signing_key_id", "issued_on"])
    event_record(
        kind="receipt_signed",
        subject=(Subject.REPORT, report.pk),
        detail={"receipt_id": receipt.pk, "key_id": receipt.signing_key_id, "receipt_sha256": receipt_digest(block)},
        at=day_start(),
    )
    return None


def register_handlers() -> None:
    register(SIGN_RECEIPT, receipt_sign, atomic=True)


# --- for the reporter ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenedReceipt:
    """A signed receipt as its reporter gets it: the text block, and what it holds."""

    block: str
    receipt: dict[str, Any]

    @property
    def reference(self) -> str:
        return str(self.receipt.get("reference", ""))

    @property
    def disclosed(self) -> date:
        return date.fromisoformat(str(self.receipt["disclosed"]))

    @property
    def issued(self) -> date:
        return date.fromisoformat(str(self.receipt["issued"]))

    @property
    def answers(self) -> list[str]:
        """The plain names of the answers it fingerprints."""
        return [ANSWER_FIELDS[field] for field in ANSWER_FIELDS if field in self.receipt.get("answers", {})]

    @property
    def file_count(self) -> int:
        return len(self.receipt.get("files", []))

    @property
    def files(self) -> list[str]:
        return [str(digest) for digest in self.receipt.get("files", [])]

    @property
    def digest(self) -> str:
        return receipt_digest(self.block)


def _opened(receipt: Receipt, receipt_key: bytes) -> OpenedReceipt | None:
    if receipt.issued_on is None or not bytes(receipt.body):
        return None
    block = crypto.open_text(receipt_key, bytes(receipt.body))
    return OpenedReceipt(block=block, receipt=receipts.parse_block(block))


@sensitive_variables("data_key", "receipt_key")
def receipt_for_reporter(*, report: Report, data_key: bytes) -> OpenedReceipt | None:
    """The report's signed receipt, opened with its data key (from /check); None while it is not signed yet
    (or for a report sent before receipts existed)."""
    receipt = Receipt.objects.filter(report=report).first()
    if receipt is None:
        return None
    receipt_key = crypto.open_key_with(data_key, bytes(receipt.key_wrap))
    return _opened(receipt, receipt_key)


@sensitive_variables("receipt_key")
def receipt_with_key(*, reference: str, receipt_key: bytes) -> OpenedReceipt | None:
    """The receipt of the report just sent from this browser, opened with the receipt key its sent note holds
    (the confirmation page); None while it is not signed yet."""
    receipt = (
        Receipt.objects.filter(report__reference=reference, report__content_destroyed_on__isnull=True)
        .only("issued_on", "body")
        .first()
    )
    if receipt is None:
        return None
    return _opened(receipt, receipt_key)


def receipt_state(*, reference: str) -> str:
    """What the reporter's pages offer: "ready" (signed), "waiting" (not signed yet), or "" (a report sent
    before receipts existed, or destroyed)."""
    found = (
        Receipt.objects.filter(report__reference=reference, report__content_destroyed_on__isnull=True)
        .values_list("issued_on")
        .first()
    )
    if found is None:
        return ""
    return "ready" if found[0] is not None else "waiting"


# --- checking what someone says was submitted ------------------------------------------------------------------


class UnknownField(ValueError):
    """The receipt holds no fingerprint of this answer."""


def fingerprinted_fields(receipt: dict[str, Any]) -> list[str]:
    """The answers this receipt can check text against, and the whole submission."""
    answers = receipt.get("answers")
    named = [str(field) for field in answers] if isinstance(answers, dict) else []
    return [*named, SUBMISSION_FIELD] if SUBMISSION_FIELD in receipt else named


def text_matches(receipt: dict[str, Any], *, field: str, text: str) -> bool:
    """Whether ``text`` is what the receipt fingerprints as ``field`` (an answer, compared in its canonical
    text form; or ``submission``, the whole submission as JSON in any layout). Raises UnknownField for a field
    the receipt has no fingerprint of, and ValueError for a submission that is not JSON."""
    if field not in fingerprinted_fields(receipt):
        raise UnknownField(field)
    if field == SUBMISSION_FIELD:
        try:
            submission = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as error:
            raise ValueError("The whole submission is checked as JSON") from error
        return receipts.fingerprint_matches(receipt[SUBMISSION_FIELD], receipts.canonical_json(submission))
    data = receipts.canonical_text(text).encode("utf-8")
    return receipts.fingerprint_matches(receipt["answers"][field], data)


@dataclass(frozen=True)
class ReceiptCheck:
    """What /receipts/verify tells: whether the receipt is genuine and unaltered, and if a field's text was
    given, whether it matches that fingerprint (None when not asked, or when the receipt is not genuine)."""

    verdict: receipts.Verdict
    receipt: dict[str, Any]
    field: str = ""
    matches: bool | None = None

    @property
    def field_label(self) -> str:
        return FIELD_CHOICES.get(self.field, self.field)


# The fingerprints a checker may choose from, with their names on the page.
FIELD_CHOICES: dict[str, str] = {**ANSWER_FIELDS, SUBMISSION_FIELD: "The whole submission (as JSON)"}


def receipt_verify_take(*, client: str) -> bool:
    """Count one check against the client's RECEIPT_VERIFY_LIMIT; False when it is used up."""
    return throttle.throttle_take(
        key=throttle.throttle_key("receipt-verify", client),
        limit=settings.RECEIPT_VERIFY_LIMIT,
        window_seconds=settings.RECEIPT_VERIFY_WINDOW_SECONDS,
    )


def receipt_check(*, block: str, field: str = "", text: str = "") -> ReceiptCheck:
    """Check a receipt's text block, and optionally ``text`` against the fingerprint of ``field``. Raises
    core.receipts.NotAReceipt for text that is not a receipt, UnknownField for a fingerprint it does not hold,
    and ValueError for a whole submission that is not JSON."""
    receipt = receipts.parse_block(block)
    verdict = receipts.verify(receipt)
    if not field:
        return ReceiptCheck(verdict=verdict, receipt=receipt)
    matches = text_matches(receipt, field=field, text=text)
    return ReceiptCheck(verdict=verdict, receipt=receipt, field=field, matches=matches if verdict.genuine else None)

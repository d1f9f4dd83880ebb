"""Evidence export for an inquiry, a court or the police: one case, or every case of a local authority in a period.

1. A supervisor prepares it (``export_prepare``): the cases are resolved there and then to an exact list of case
   numbers, the recipient's public key is checked and fingerprinted, the legal basis and its reference are
   recorded, and so is whether the reporters will be told (with the reason when not). Those details are signed
   with the service's key (core.signing): the export's frozen record.
2. Another supervisor approves exactly that (``export_approve``), never the one who prepared it: the frozen
   record must still verify, and the digest the approver was shown must be the one stored. Approval puts each
   case on legal hold (triage.retention, basis "evidence_export"), tells each reporter in their mailbox what was
   shared, with whom and why (unless the export records a reason not to), and queues the build.
3. A worker builds the bundle (lifecycle.bundle): sealed to the recipient's key, so it never exists in clear here.
4. Only those two supervisors may download it, and each download is audited.

Every step is an audit event naming both supervisors (once there are two) and the legal basis, by code.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from audit.trail import event_record
from core import signing
from core.timetrail import day_start
from directory.models import LocalAuthority
from lifecycle.models import EvidenceExport
from lifecycle.recipient_keys import RecipientKey
from outbox.services import outbox_add
from triage import retention
from triage.case_actions import message_to_reporter
from triage.events import case_event
from triage.models import Case, LegalHold

BUILD_EVIDENCE_EXPORT = "build_evidence_export"
E = EvidenceExport


class ExportRefused(Exception):
    """What was asked cannot be done; the message says why, in the page's words, and ``field`` names the form
    field it is about ("" for the page as a whole)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def max_cases() -> int:
    return int(settings.EVIDENCE_EXPORT_MAX_CASES)


def export_dir() -> Path:
    return Path(settings.EVIDENCE_EXPORT_DIR)


def bundle_path(export: EvidenceExport) -> Path:
    return export_dir() / f"{export.public_id}.bundle"


def download_name(export: EvidenceExport) -> str:
    return f"evidence-{export.short_id}.bundle"


# --- which cases -------------------------------------------------------------------------------------------

# The year and the characters after it (core.identifiers makes six; any letters and digits are looked up).
_CASE_NUMBER = re.compile(r"^\d{4}-[A-Z0-9]{4,11}$")


def case_number_clean(text: str) -> str | None:
    """A case number as typed ("2026 k7m3qx", "2026-K7M3QX"), or None when it cannot be one."""
    cleaned = re.sub(r"[\s\-]+", "", (text or "").upper())
    candidate = f"{cleaned[:4]}-{cleaned[4:]}"
    return candidate if _CASE_NUMBER.match(candidate) else None


def day_words(day: date) -> str:
    return f"{day.day} {day:%B} {day.year}"


@dataclass(frozen=True)
class Resolved:
    """The cases an export's choice matches: those that go, and those whose content was already destroyed."""

    case_numbers: list[str]
    destroyed: list[str]


def cases_resolve(
    *,
    scope: str,
    case_number: str = "",
    authority: LocalAuthority | None = None,
    period: str = "",
    period_from: date | None = None,
    period_to: date | None = None,
) -> Resolved:
    """Resolve a choice of cases to case numbers, now. Raises ExportRefused when nothing can go."""
    if scope == E.Scope.CASE:
        number = case_number_clean(case_number)
        if number is None:
            raise ExportRefused("Enter a case number like 2026-K7M3QX", "case_number")
        case = Case.objects.select_related("report").filter(case_number=number).first()
        if case is None:
            raise ExportRefused(f"There is no case {number}: check the case number", "case_number")
        if case.report is None:
            raise ExportRefused(
                f"Case {number} is a national review case opened from a pattern alert: it has no report to export",
                "case_number",
            )
        destroyed_on = case.report.content_destroyed_on
        if destroyed_on is not None:
            raise ExportRefused(
                f"The content of case {number} was destroyed on {day_words(destroyed_on)} under the retention "
                "schedule: there is nothing left to export",
                "case_number",
            )
        return Resolved(case_numbers=[number], destroyed=[])
    if scope != E.Scope.FILTER:
        raise ExportRefused("Choose whether to export one case or every case of a local authority in a period", "scope")
    if authority is None or period not in E.Period.values or period_from is None or period_to is None:
        raise ExportRefused("Choose the local authority and the period", "authority")
    if period_to < period_from:
        raise ExportRefused("The end of the period must be the same as or after its start", "period_to")
    start, end = day_start(period_from), day_start(period_to + timedelta(days=1))
    within = (
        Q(report__submitted_at__gte=start, report__submitted_at__lt=end)
        if period == E.Period.SUBMITTED
        else Q(closed_at__gte=start, closed_at__lt=end)
    )
    matching = (
        Case.objects.filter(Q(authority=authority) | Q(conflict_authority=authority))
        .filter(within)
        .filter(report__isnull=False)  # a national review case has no report to export
    )
    rows = list(matching.order_by("case_number").values_list("case_number", "report__content_destroyed_on"))
    numbers = [number for number, destroyed_on in rows if destroyed_on is None]
    destroyed = [number for number, destroyed_on in rows if destroyed_on is not None]
    what = "reported" if period == E.Period.SUBMITTED else "closed"
    between = f"between {day_words(period_from)} and {day_words(period_to)}"
    if not numbers:
        also = f" ({len(destroyed)} were, but their content has been destroyed)" if destroyed else ""
        raise ExportRefused(f"No cases of {authority.name} were {what} {between}{also}", "authority")
    if len(numbers) > max_cases():
        raise ExportRefused(
            f"{len(numbers):,} cases of {authority.name} were {what} {between}: one export can hold at most "
            f"{max_cases():,}. Choose a shorter period",
            "period_from",
        )
    return Resolved(case_numbers=numbers, destroyed=destroyed)


# --- the frozen record -------------------------------------------------------------------------------------


def frozen_record(export: EvidenceExport) -> bytes:
    """The canonical bytes of everything that decides what goes and to whom: signed at preparation, checked at
    approval and at the build."""
    record = {
        "export": str(export.public_id),
        "scope": export.scope,
        "authority": export.authority.gss_code if export.authority_id and export.authority else "",
        "period": export.period,
        "period_from": export.period_from.isoformat() if export.period_from else "",
        "period_to": export.period_to.isoformat() if export.period_to else "",
        "case_numbers": list(export.case_numbers),
        "destroyed_case_numbers": list(export.destroyed_case_numbers),
        "recipient": export.recipient,
        "recipient_key": bytes(export.recipient_key).hex(),
        "recipient_key_format": export.recipient_key_format,
        "recipient_fingerprint": export.recipient_fingerprint,
        "basis": export.basis,
        "basis_reference": export.basis_reference,
        "tell_reporters": export.tell_reporters,
        "withheld_because": export.withheld_because,
        "requested_by": export.requested_by_id,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def frozen_intact(export: EvidenceExport) -> bool:
    """Whether the stored details are still those that were signed at preparation."""
    record = frozen_record(export)
    signed = export.frozen_signature if isinstance(export.frozen_signature, dict) else {}
    return hashlib.sha256(record).hexdigest() == export.frozen_digest and signing.verify(record, signed)


# --- the steps ---------------------------------------------------------------------------------------------


def _names(export: EvidenceExport) -> dict[str, object]:
    """What every audit event of an export names: codes, ids and the supervisors' usernames."""
    detail: dict[str, object] = {
        "export": str(export.public_id),
        "basis": export.basis,
        "requested_by": export.requested_by.username,
        "cases": len(export.case_numbers),
        "recipient_fingerprint": export.recipient_fingerprint,
    }
    if export.approved_by_id and export.approved_by:
        detail["approved_by"] = export.approved_by.username
    return detail


@transaction.atomic(durable=True)
def export_prepare(
    *,
    resolved: Resolved,
    scope: str,
    authority: LocalAuthority | None,
    period: str,
    period_from: date | None,
    period_to: date | None,
    recipient: str,
    key: RecipientKey,
    basis: str,
    basis_reference: str,
    tell_reporters: bool,
    withheld_because: str,
    acting_user: User,
) -> EvidenceExport:
    """Record an export, waiting for another supervisor's approval, with its details signed."""
    policy.require(acting_user, Permission.EVIDENCE_EXPORT)
    if basis not in E.Basis.values:
        raise ExportRefused("Choose the legal basis", "basis")
    if not tell_reporters and withheld_because not in E.Withheld.values:
        raise ExportRefused("Choose why the reporters must not be told", "withheld_because")
    export = EvidenceExport(
        scope=scope,
        authority=authority if scope == E.Scope.FILTER else None,
        period=period if scope == E.Scope.FILTER else "",
        period_from=period_from if scope == E.Scope.FILTER else None,
        period_to=period_to if scope == E.Scope.FILTER else None,
        case_numbers=list(resolved.case_numbers),
        destroyed_case_numbers=list(resolved.destroyed),
        recipient=recipient.strip(),
        recipient_key=key.raw,
        recipient_key_format=key.format,
        recipient_fingerprint=key.fingerprint,
        basis=basis,
        basis_reference=basis_reference.strip(),
        tell_reporters=tell_reporters,
        withheld_because="" if tell_reporters else withheld_because,
        requested_by=acting_user,
        requested_at=timezone.now(),
    )
    record = frozen_record(export)
    export.frozen_digest = hashlib.sha256(record).hexdigest()
    export.frozen_signature = signing.sign(record)
    export.save()
    event_record(
        kind="evidence_export_prepared",
        actor=acting_user,
        detail={
            **_names(export),
            "scope": export.scope,
            "authority": export.authority.gss_code if export.authority else "",
            "period": export.period,
            "tell_reporters": export.tell_reporters,
            "withheld_because": export.withheld_because,
            "frozen_digest": export.frozen_digest,
        },
    )
    return export


TAMPERED = (
    "This export's details are not those its preparer saw: they were changed after it was prepared. It has been "
    "stopped, and nothing was shared. Prepare it again, and tell the service's administrators"
)


class _Tampered(Exception):
    pass


def _stop(export_id: int, acting_user: User | None) -> None:
    """Stop an export whose frozen record no longer verifies: an audit event, and nothing goes."""
    with transaction.atomic(durable=True):
        export = EvidenceExport.objects.select_for_update(of=("self",)).select_related("requested_by").get(pk=export_id)
        if export.status in (E.Status.CANCELLED, E.Status.STOPPED, E.Status.BUILT):
            return
        export.status = E.Status.STOPPED
        export.stopped_at = timezone.now()
        export.save(update_fields=["status", "stopped_at"])
        event_record(
            kind="evidence_export_stopped",
            actor=acting_user,
            detail={"export": str(export.public_id), "why": "frozen_record_changed", "basis": export.basis},
        )


def reporter_told_text(export: EvidenceExport) -> str:
    """What each reporter reads in their mailbox when their concern is shared."""
    because = {
        E.Basis.INQUIRY_NOTICE: "a statutory inquiry required it by a notice under section 21 of the Inquiries "
        "Act 2005",
        E.Basis.COURT_ORDER: "a court ordered us to",
        E.Basis.POLICE_REQUEST: "the police asked us for it for their work",
    }[E.Basis(export.basis)]
    return (
        f"We have shared a copy of your concern with {export.recipient}, because {because}.\n\n"
        "We shared what you told us, our messages with you, the files you sent (with hidden details, such as who "
        "made them, removed) and our record of what we did. We left out your name and contact details.\n\n"
        "We will keep your concern for as long as they may need it, even if it would otherwise have been deleted.\n\n"
        "If you have any questions, reply to this message."
    )


def _hold_reason(export: EvidenceExport) -> str:
    return (
        f"Shared as evidence with {export.recipient} (export {export.short_id}): "
        f"{E.Basis(export.basis).label}, reference {export.basis_reference}."
    )


def export_approve(*, export: EvidenceExport, digest_seen: str, acting_user: User) -> EvidenceExport:
    """A second supervisor approves exactly what was prepared: each case goes on legal hold, each reporter is
    told (unless the export records why not), and the bundle's build is queued. Raises ExportRefused: for the
    supervisor who prepared it, one no longer waiting, a digest that is not the stored one, a case whose content
    was destroyed since; and when the stored details no longer verify, after stopping the export."""
    policy.require(acting_user, Permission.EVIDENCE_EXPORT)
    try:
        return _approve(export_id=export.pk, digest_seen=digest_seen, acting_user=acting_user)
    except _Tampered:
        _stop(export.pk, acting_user)
        raise ExportRefused(TAMPERED) from None


@transaction.atomic(durable=True)
def _approve(*, export_id: int, digest_seen: str, acting_user: User) -> EvidenceExport:
    export = (
        EvidenceExport.objects.select_for_update(of=("self",))
        .select_related("requested_by", "authority")
        .get(pk=export_id)
    )
    if export.status != E.Status.WAITING:
        raise ExportRefused("This export is no longer waiting for approval")
    if export.requested_by_id == acting_user.pk:
        raise ExportRefused("You prepared this export: another supervisor must approve it")
    if not frozen_intact(export):
        raise _Tampered
    if digest_seen != export.frozen_digest:
        raise ExportRefused("This export is not the one you were shown: open it again and check it before approving")
    cases = {
        case.case_number: case
        for case in Case.objects.select_for_update(of=("self",))
        .select_related("report")
        .filter(case_number__in=export.case_numbers)
    }
    for number in export.case_numbers:
        case = cases.get(number)
        if case is None:
            raise ExportRefused(f"Case {number} no longer exists: cancel this export and prepare it again")
        destroyed_on = case.report.content_destroyed_on if case.report is not None else None
        if destroyed_on is not None:
            raise ExportRefused(
                f"The content of case {number} was destroyed on {day_words(destroyed_on)}: cancel this export and "
                "prepare it again"
            )
    export.status = E.Status.APPROVED
    export.approved_by = acting_user
    export.approved_at = timezone.now()
    export.save(update_fields=["status", "approved_by", "approved_at"])
    names = _names(export)
    told = reporter_told_text(export) if export.tell_reporters else ""
    for number in export.case_numbers:
        case = cases[number]
        retention.hold_place(
            case=case, basis=LegalHold.Basis.EVIDENCE_EXPORT, reason=_hold_reason(export), acting_user=acting_user
        )
        # The hold moved the report's data key under the held key: read the report again.
        case = Case.objects.select_related("report").get(pk=case.pk)
        detail: dict[str, object] = {**names, "reporter_told": export.tell_reporters}
        if told:
            detail["message_id"] = message_to_reporter(case=case, body=told, acting_user=acting_user).pk
        else:
            detail["withheld_because"] = export.withheld_because
        case_event(kind="evidence_exported", case=case, actor=acting_user, detail=detail)
    event_record(
        kind="evidence_export_approved",
        actor=acting_user,
        detail={
            **names,
            "frozen_digest": export.frozen_digest,
            "tell_reporters": export.tell_reporters,
            "withheld_because": export.withheld_because,
        },
    )
    outbox_add(kind=BUILD_EVIDENCE_EXPORT, target_id=export.pk)
    return export


@transaction.atomic(durable=True)
def export_cancel(*, export: EvidenceExport, acting_user: User) -> EvidenceExport:
    """Cancel an export while it waits for approval (either supervisor, or any other): nothing is shared."""
    policy.require(acting_user, Permission.EVIDENCE_EXPORT)
    locked = EvidenceExport.objects.select_for_update(of=("self",)).select_related("requested_by").get(pk=export.pk)
    if locked.status != E.Status.WAITING:
        raise ExportRefused("Only an export waiting for approval can be cancelled")
    locked.status = E.Status.CANCELLED
    locked.cancelled_by = acting_user
    locked.cancelled_at = timezone.now()
    locked.save(update_fields=["status", "cancelled_by", "cancelled_at"])
    event_record(kind="evidence_export_cancelled", actor=acting_user, detail=_names(locked))
    return locked


# --- reading -----------------------------------------------------------------------------------------------


def exports_for(user: User) -> QuerySet[EvidenceExport]:
    policy.require(user, Permission.EVIDENCE_EXPORT)
    return EvidenceExport.objects.select_related("requested_by", "approved_by", "authority")


def export_get(*, user: User, public_id: uuid.UUID | str) -> EvidenceExport:
    export = exports_for(user).filter(public_id=public_id).first()
    if export is None:
        raise Http404("There is no such evidence export.")
    return export


def may_download(user: User, export: EvidenceExport) -> bool:
    """Only the two supervisors who prepared and approved it, while they still may export evidence."""
    return policy.may(user, Permission.EVIDENCE_EXPORT) and user.pk in (export.requested_by_id, export.approved_by_id)


NOT_YOURS = "Only the two supervisors who prepared and approved this export can download it."


@transaction.atomic(durable=True)
def export_download(*, export: EvidenceExport, acting_user: User) -> Path:
    """The bundle's file, for one of its two supervisors, and an audit event that they took it. PermissionDenied
    for anybody else; Http404 while it is not built (or if its file is missing)."""
    if not may_download(acting_user, export):
        raise PermissionDenied(NOT_YOURS)
    path = bundle_path(export)
    if export.status != E.Status.BUILT or not path.is_file():
        raise Http404("The bundle is not ready.")
    event_record(
        kind="evidence_export_downloaded",
        actor=acting_user,
        detail={"export": str(export.public_id), "bundle_sha256": export.bundle_sha256},
    )
    return path

"""Crypto-shredding: destroying a case's content so that no key, old or new, opens anything of it.

First the means to decrypt go (the report's data key under its custody key or the helpline's, and the
reporter's access-code wrap), then the ciphertext: the report's content, its messages, its files' sealed
chunks, names and keys, its receipt, the case's notes, its legal holds' reasons, its referrals' summaries,
particulars and references, and the authorities' notes, in one transaction per case. Files are rows (AttachmentChunk),
so their deletion commits with the rest.

What stays is a stub of metadata: the case number, dates, authority, outcome, concern-type codes, the
categorical facts (triage.CaseFacts), the deadline figures and the audit trail (which never held content,
so its chain still verifies). ``Report.content_destroyed_on`` says when.

Reports that share a data key (a retaliation report filed through a check-in shares its original's) are a
family, destroyed together: destroying one alone would leave its key opening the other's sibling rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from lifecycle import shredlog
from referrals.models import AuthorityAction, Referral
from reports.models import Attachment, AttachmentChunk, Message, Receipt, Report
from triage.events import case_event
from triage.models import Case, CaseKey, CaseNote, LegalHold

# The columns a report's data key seals, by model: emptied when its case is destroyed.
REPORT_EMPTIED = {
    "content": b"",
    "helpline_key_id": "",
    "helpline_sealed_key": b"",
    "custody_key_id": "",
    "custody_wrapped_key": b"",
    "reporter_kdf_salt": b"",
    "reporter_wrapped_key": b"",
}


class CaseHeld(Exception):
    """A case on legal hold is never destroyed."""


def family_of(report: Report) -> list[Report]:
    """The reports that share this one's data key: the original and its retaliation reports."""
    root = report.retaliation_of_id or report.pk
    return list(Report.objects.filter(Q(pk=root) | Q(retaliation_of_id=root)).order_by("pk"))


@dataclass(frozen=True)
class Destroyed:
    case_numbers: list[str]
    destroyed_on: date
    # The shred log's lines for what was destroyed (written already, unless the caller passed log=False).
    entries: list[shredlog.ShredEntry]


def _empty_report(report: Report) -> None:
    Message.objects.filter(report=report).update(body=b"")
    # Its receipt key was wrapped with the data key, now gone; the receipt itself goes too. The audit trail
    # keeps only the signed block's SHA-256.
    Receipt.objects.filter(report=report).delete()
    attachments = Attachment.objects.filter(report=report)
    AttachmentChunk.objects.filter(attachment__in=attachments).delete()
    attachments.update(key_wrap=b"", header=b"", meta=b"", chunk_count=0)


def _empty_case(case: Case) -> None:
    CaseNote.objects.filter(case=case).update(body=b"")
    LegalHold.objects.filter(case=case).update(reason=b"")
    Referral.objects.filter(case=case).update(summary=b"", particulars=b"", sent_reference=b"")
    AuthorityAction.objects.filter(case=case).update(note=b"")


@transaction.atomic
def shred_family(
    report: Report,
    *,
    why: str,
    acting_users: tuple[User, ...] = (),
    detail: dict[str, object] | None = None,
    destroyed_on: date | None = None,
    log: bool = True,
) -> Destroyed:
    """Destroy the content of a report and every report sharing its data key, and record it: a
    ``content_destroyed`` event on each case and a line each in the shred log (written before this commits).
    Idempotent: content already destroyed stays so. Raises CaseHeld if any of the cases is on legal hold.

    With ``log=False`` the log is not written here: either the caller writes the returned entries to it
    before its own transaction commits (the nightly schedule, a batch of cases at a time), or the log holds
    them already (a restore re-applying the log, which passes the day they were first destroyed)."""
    today = destroyed_on or timezone.localdate()
    members = list(
        Report.objects.select_for_update(of=("self",))
        .filter(pk__in=[member.pk for member in family_of(report)])
        .order_by("pk")
    )
    cases = {case.report_id: case for case in Case.objects.filter(report__in=members).select_for_update(of=("self",))}
    if LegalHold.objects.filter(case__in=cases.values(), released_on__isnull=True).exists():
        raise CaseHeld("A case on legal hold is never destroyed")
    pending = [member for member in members if member.content_destroyed_on is None]
    entries: list[shredlog.ShredEntry] = []
    for member in pending:
        Report.objects.filter(pk=member.pk).update(
            **REPORT_EMPTIED, content_destroyed_on=today, content_destroyed_early=why == "early"
        )
        _empty_report(member)
        case = cases.get(member.pk)
        if case is not None:
            _empty_case(case)
            case_event(
                kind="content_destroyed",
                case=case,
                actor=acting_users[0] if acting_users else None,
                detail={
                    "why": why,
                    "destroyed_on": today.isoformat(),
                    "by": [user.username for user in acting_users],
                    **(detail or {}),
                },
            )
            entries.append(shredlog.ShredEntry(case.case_number, member.reference, today))
        else:
            entries.append(shredlog.ShredEntry("", member.reference, today))
    # Durable before the commit: a destroyed case is always in the log (restore re-applies it).
    if log:
        shredlog.append(entries)
    return Destroyed(
        case_numbers=[entry.case_number for entry in entries if entry.case_number], destroyed_on=today, entries=entries
    )


# The columns of a review case's own key (triage.models.CaseKey), emptied when it is destroyed.
CASE_KEY_EMPTIED = {
    "helpline_key_id": "",
    "helpline_sealed_key": b"",
    "custody_key_id": "",
    "custody_wrapped_key": b"",
}


@transaction.atomic
def shred_review_case(
    case: Case,
    *,
    why: str,
    acting_users: tuple[User, ...] = (),
    detail: dict[str, object] | None = None,
    destroyed_on: date | None = None,
    log: bool = True,
) -> Destroyed:
    """shred_family for a case with no report (a pattern review case): its own data key goes, then its
    notes, holds' reasons, referrals' summaries and the authorities' notes. It has no family, no reporter and
    no reference: its shred-log line names the case number only. Idempotent; CaseHeld if it is on hold."""
    today = destroyed_on or timezone.localdate()
    locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if locked.report_id is not None:
        raise ValueError("shred_review_case is for a case with no report")
    if LegalHold.objects.filter(case=locked, released_on__isnull=True).exists():
        raise CaseHeld("A case on legal hold is never destroyed")
    key = CaseKey.objects.select_for_update().get(case=locked)
    entries: list[shredlog.ShredEntry] = []
    if key.content_destroyed_on is None:
        CaseKey.objects.filter(pk=key.pk).update(
            **CASE_KEY_EMPTIED, content_destroyed_on=today, content_destroyed_early=why == "early"
        )
        _empty_case(locked)
        case_event(
            kind="content_destroyed",
            case=locked,
            actor=acting_users[0] if acting_users else None,
            detail={
                "why": why,
                "destroyed_on": today.isoformat(),
                "by": [user.username for user in acting_users],
                **(detail or {}),
            },
        )
        entries.append(shredlog.ShredEntry(locked.case_number, "", today))
    if log:
        shredlog.append(entries)
    return Destroyed(case_numbers=[entry.case_number for entry in entries], destroyed_on=today, entries=entries)

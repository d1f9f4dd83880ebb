"""The retention schedule's clock, and which custody key holds a case's data key (core.keystore).

A case's content is kept for its outcome's period (``RETENTION_MONTHS``) after closure, or after the
reporter's last message or file if that came later. While the case is open its data key sits under the
open-cases key; at closure it moves to the epoch key of its destruction month; on legal hold, to the held
key. A reporter's message or file on a closed case moves its destruction day, and its key, later.

Every move happens in the caller's transaction, with the report row locked by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db.models import Max
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from accounts.models import User
from core import crypto, keystore
from core.rows import rows_update
from reports.models import Attachment, Message, Report
from triage.events import case_event
from triage.models import Case, CaseKey, CaseLink, LegalHold, Outcome


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = following.toordinal() - 1
    return date.fromordinal(min(date(year, month, 1).toordinal() + day.day - 1, last))


def period_months(outcome: str) -> int:
    """The outcome's retention period in months. Every outcome has one (a system check says so)."""
    return int(settings.RETENTION_MONTHS[outcome])


def missing_periods() -> list[str]:
    return [outcome for outcome in Outcome.values if outcome not in settings.RETENTION_MONTHS]


def last_reporter_activity(report: Report) -> date | None:
    """The day of the reporter's last message or file on their report (days only are kept)."""
    message = (
        Message.objects.filter(report=report, direction=Message.Direction.FROM_REPORTER)
        .aggregate(last=Max("sent_on"))
        .get("last")
    )
    file = (
        Attachment.objects.filter(report=report, source=Attachment.Source.REPORTER)
        .aggregate(last=Max("added_on"))
        .get("last")
    )
    days = [day for day in (message, file) if day is not None]
    return max(days) if days else None


def due_day(*, closed_on: date, outcome: str, activity: date | None) -> date:
    """The destruction day of a case closed on ``closed_on`` whose reporter last wrote on ``activity``."""
    start = max(closed_on, activity) if activity is not None else closed_on
    return add_months(start, period_months(outcome))


def destruction_day(case: Case) -> date | None:
    """When a closed case's content is due to be destroyed; None while it is open. A review case has no
    reporter: its clock runs from closure alone."""
    if case.closed_at is None or not case.outcome:
        return None
    return due_day(
        closed_on=timezone.localdate(case.closed_at),
        outcome=case.outcome,
        activity=last_reporter_activity(case.report) if case.report is not None else None,
    )


def envelope_of(case: Case, *, lock: bool = False) -> Report | CaseKey:
    """Where the case's data key is kept (core.keystore.Envelope): its report's columns, or, for a case with
    no report (a pattern review case), its own CaseKey. ``lock``: the row locked for the caller's
    transaction. Both carry ``content_destroyed_on``."""
    if case.report_id is not None:
        reports = Report.objects.select_for_update(of=("self",)) if lock else Report.objects
        return reports.get(pk=case.report_id)
    keys = CaseKey.objects.select_for_update() if lock else CaseKey.objects
    return keys.get(case_id=case.pk)


def case_key(case: Case) -> bytes:
    """The case's data key, opened with whichever custody key holds it (staff service and workers only)."""
    if case.report is not None:
        return keystore.data_key_of(case.report)
    return keystore.data_key_of(CaseKey.objects.get(case_id=case.pk))


def on_hold(case: Case) -> bool:
    return LegalHold.objects.filter(case=case, released_on__isnull=True).exists()


def epoch_for(destroy_on: date) -> str:
    """The epoch key for a case due on ``destroy_on``: its month's, or this month's once that day has passed
    (its own month's key may be destroyed already; this month's outlives the schedule's next run)."""
    return keystore.epoch_key_id(max(destroy_on, timezone.localdate()))


def custody_key_for(case: Case) -> str:
    """The custody key a case's data key belongs under now. A case already due (released from a hold after
    its day, or waiting for a report that shares its data key) goes under this month's epoch key: its own
    month's may be destroyed already, and this month's outlives the schedule's next run, which destroys it."""
    if on_hold(case):
        return keystore.held_key_id()
    if case.destroy_on is not None:
        return epoch_for(case.destroy_on)
    return keystore.open_key_id()


def content_destroyed_on(case: Case) -> date | None:
    """The day the case's content was destroyed (lifecycle.shredding); None while it is kept (and for a case
    not yet made, with no report)."""
    if case.report is None:
        if case.kind != Case.Kind.PATTERN_REVIEW or case.pk is None:
            return None
        return CaseKey.objects.filter(case_id=case.pk).values_list("content_destroyed_on", flat=True).first()
    return case.report.content_destroyed_on


def destroyed_how(early: bool) -> str:
    """How a case's content was destroyed, in words (as staff/content_destroyed.html says it)."""
    return "early, with a second supervisor's approval" if early else "under the retention schedule"


def destroyed_words(case: Case) -> str:
    """What a case whose content was destroyed says instead of it: the day, and how (early, or under the
    retention schedule), as the case and referral pages do."""
    envelope = case.report if case.report is not None else envelope_of(case)
    day = envelope.content_destroyed_on
    if day is None:
        raise ValueError("This case's content is kept")
    return f"Content destroyed on {day.day} {day:%B %Y} {destroyed_how(envelope.content_destroyed_early)}"


def rehome(case: Case) -> None:
    """Recompute the case's destruction day, and move its data key to the custody key it belongs under
    (nothing is written when both are right already). Destroyed content is left as it is. Runs in the
    caller's transaction, and locks the report row against a rotation re-wrapping it meanwhile.

    Called whenever either may change: routing (the data key leaves the helpline key for the open-cases
    key), closure, reopening, a reporter's message or file (a closed case's clock starts again), and a
    legal hold placed or released."""
    envelope = envelope_of(case, lock=True)
    if isinstance(envelope, Report):
        case.report = envelope
    if envelope.content_destroyed_on is not None:
        return
    destroy_on = destruction_day(case)
    if destroy_on != case.destroy_on:
        case.destroy_on = destroy_on
        Case.objects.filter(pk=case.pk).update(destroy_on=destroy_on)
    key_id = custody_key_for(case)
    if envelope.custody_key_id != key_id:
        fields = keystore.place(envelope, key_id)
        type(envelope).objects.filter(pk=envelope.pk).update(**{field: getattr(envelope, field) for field in fields})


def rehome_many(cases: list[Case]) -> None:
    """rehome for many cases at once (a bulk closure), in a fixed number of queries however many there are:
    their reports locked in one query, the reporters' last activity and the holds read in one each, and the
    destruction days and custody keys written in one update each."""
    for review in [case for case in cases if case.report_id is None]:
        rehome(review)
    cases = [case for case in cases if case.report_id is not None]
    if not cases:
        return
    report_ids = [case.report_id for case in cases if case.report_id is not None]
    reports = {
        report.pk: report
        for report in Report.objects.select_for_update(of=("self",)).filter(pk__in=report_ids).order_by("pk")
    }
    messages = dict(
        Message.objects.filter(report_id__in=report_ids, direction=Message.Direction.FROM_REPORTER)
        .values("report_id")
        .annotate(last=Max("sent_on"))
        .values_list("report_id", "last")
    )
    files = dict(
        Attachment.objects.filter(report_id__in=report_ids, source=Attachment.Source.REPORTER)
        .values("report_id")
        .annotate(last=Max("added_on"))
        .values_list("report_id", "last")
    )
    held = set(LegalHold.objects.filter(case__in=cases, released_on__isnull=True).values_list("case_id", flat=True))
    moved_cases: list[Case] = []
    moved_reports: list[Report] = []
    # Each custody key looked up and held once for the whole batch (epoch keys by destruction day).
    epochs: dict[date, str] = {}
    current: dict[str, str] = {}
    materials: dict[str, bytes] = {}
    for case in cases:
        report = reports[int(case.report_id or 0)]
        case.report = report
        if report.content_destroyed_on is not None:
            continue
        destroy_on = None
        if case.closed_at is not None and case.outcome:
            days = [day for day in (messages.get(report.pk), files.get(report.pk)) if day is not None]
            destroy_on = due_day(
                closed_on=timezone.localdate(case.closed_at),
                outcome=case.outcome,
                activity=max(days) if days else None,
            )
        if destroy_on != case.destroy_on:
            case.destroy_on = destroy_on
            moved_cases.append(case)
        if case.pk in held:
            key_id = current.get("held") or current.setdefault("held", keystore.held_key_id())
        elif case.destroy_on is not None:
            key_id = epochs.get(case.destroy_on) or epochs.setdefault(case.destroy_on, epoch_for(case.destroy_on))
        else:
            key_id = current.get("open") or current.setdefault("open", keystore.open_key_id())
        if report.custody_key_id != key_id:
            if key_id not in materials:
                materials[key_id] = keystore.wrapping_key(key_id)
            keystore.place(report, key_id, material=materials[key_id])
            moved_reports.append(report)
    rows_update(moved_cases, ["destroy_on"])
    rows_update(moved_reports, keystore.CUSTODY_FIELDS)


# --- legal hold ------------------------------------------------------------------------------------------

HOLD_REVIEW_MONTHS = 12


def linked_cases(case: Case) -> list[Case]:
    """The cases linked to this one, either way round (a duplicate, a retaliation report)."""
    ids = set(CaseLink.objects.filter(case=case).values_list("other_id", flat=True)) | set(
        CaseLink.objects.filter(other=case).values_list("case_id", flat=True)
    )
    ids.discard(case.pk)
    return list(Case.objects.filter(pk__in=ids).select_related("report").order_by("pk"))


@sensitive_variables("reason")
def hold_place(*, case: Case, basis: str, reason: str, acting_user: User) -> list[LegalHold]:
    """Put a case and its linked cases on legal hold (a case already held keeps its hold). Each new hold is
    an audit event and moves the case's data key under the held key. Returns the holds placed."""
    if basis not in LegalHold.Basis.values:
        raise ValueError("Choose the legal basis for the hold.")
    if not reason.strip():
        raise ValueError("Say why the case must be kept.")
    today = timezone.localdate()
    placed: list[LegalHold] = []
    origin: LegalHold | None = None
    for target in [case, *linked_cases(case)]:
        locked = Case.objects.select_for_update(of=("self",)).select_related("report").get(pk=target.pk)
        if content_destroyed_on(locked) is not None or on_hold(locked):
            continue
        hold = LegalHold.objects.create(
            case=locked,
            basis=basis,
            reason=crypto.seal_text(case_key(locked), reason.strip()),
            linked_from=origin,
            placed_by=acting_user,
            placed_on=today,
            review_due_on=add_months(today, HOLD_REVIEW_MONTHS),
        )
        origin = origin or hold
        rehome(locked)
        case_event(
            kind="legal_hold_placed",
            case=locked,
            actor=acting_user,
            detail={
                "hold_id": hold.pk,
                "basis": basis,
                "linked_from": case.case_number if locked != case else None,
                "status": locked.status,
            },
        )
        placed.append(hold)
    return placed


def hold_release(*, case: Case, acting_user: User) -> LegalHold | None:
    """Release a case's hold: the schedule applies to it again (a closed case whose day has passed is
    destroyed at the schedule's next run). An audit event."""
    locked = Case.objects.select_for_update(of=("self",)).select_related("report").get(pk=case.pk)
    hold = LegalHold.objects.filter(case=locked, released_on__isnull=True).first()
    if hold is None:
        return None
    hold.released_by = acting_user
    hold.released_on = timezone.localdate()
    hold.save(update_fields=["released_by", "released_on"])
    rehome(locked)
    case_event(
        kind="legal_hold_released", case=locked, actor=acting_user, detail={"hold_id": hold.pk, "status": locked.status}
    )
    return hold


def hold_review(*, hold: LegalHold, acting_user: User) -> LegalHold:
    """The yearly review of a hold decided it stays: its review moves on a year, from the day it was due (from
    today when that has passed, so an overdue review is never due again at once). An audit event. Runs in
    the caller's transaction; the hold must still be active."""
    locked = LegalHold.objects.select_for_update().select_related("case").get(pk=hold.pk)
    if locked.released_on is not None:
        raise ValueError("This hold has been released.")
    locked.review_due_on = add_months(max(locked.review_due_on, timezone.localdate()), HOLD_REVIEW_MONTHS)
    locked.save(update_fields=["review_due_on"])
    case_event(
        kind="legal_hold_reviewed",
        case=locked.case,
        actor=acting_user,
        detail={"hold_id": locked.pk, "review_due_on": locked.review_due_on.isoformat()},
    )
    return locked


def hold_reason(hold: LegalHold) -> str:
    """A hold's reason, opened with its case's data key (staff service only; the caller audits the view)."""
    return crypto.open_text(case_key(hold.case), bytes(hold.reason))


@dataclass(frozen=True)
class HoldShown:
    """A case's active hold as its page shows it: the hold, its reason opened, and the cases held with it."""

    hold: LegalHold
    reason: str
    review_overdue: bool
    # The cases held because this one was (its linked cases when the hold was placed), by case number.
    held_with: list[str]
    # The case whose hold brought this one, when it was placed as a linked case's ("" else).
    held_because_of: str


@sensitive_variables("reason")
def hold_shown(case: Case) -> HoldShown | None:
    """The case's active hold, with its reason opened (for the case page, whose view of the case is already
    an audit event), or None."""
    hold = (
        LegalHold.objects.select_related("placed_by", "linked_from__case", "case__report")
        .filter(case=case, released_on__isnull=True)
        .first()
    )
    if hold is None:
        return None
    held_with = list(
        LegalHold.objects.filter(linked_from=hold, released_on__isnull=True)
        .order_by("case__case_number")
        .values_list("case__case_number", flat=True)
    )
    return HoldShown(
        hold=hold,
        reason=hold_reason(hold),
        review_overdue=hold.review_due_on < timezone.localdate(),
        held_with=held_with,
        held_because_of=hold.linked_from.case.case_number if hold.linked_from else "",
    )

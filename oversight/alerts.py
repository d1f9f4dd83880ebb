"""Acting on a pattern alert (acknowledge, dismiss with a note), and an alert as the API and
``detect_patterns --format json`` give it. Every action is an audit event; the day it was taken is kept,
not the time (an alert is derived from reports)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User
from accounts.policy import Permission, require
from audit.trail import event_record
from core.identifiers import ALPHABET
from oversight.alert_display import alerts_shown
from oversight.models import PatternAlert
from referrals.review_cases import review_case_open

NOTE_MAX = 500
NOTE_REQUIRED = "Enter a note saying why the alert is dismissed"
NOTE_TOO_LONG = f"The note must be {NOTE_MAX} characters or fewer"
NOTE_IDENTIFYING = (
    "The note must not include a case number, a report reference, an email address or a phone number: "
    "write about the figures only"
)

# core.identifiers: a reference ``HX7K-29QM`` (8 characters of its alphabet, the hyphen optional, as
# normalise_reference accepts it) and a case number ``2026-K7M3QX``.
_CHARS = f"[{ALPHABET}{ALPHABET.lower()}]"
IDENTIFYING = [
    re.compile(rf"\b\d{{4}}-{_CHARS}{{6}}\b"),  # a case number
    # A report reference, as it is shown (capitals, with or without its hyphen): an ordinary word is not one.
    re.compile(rf"\b[{ALPHABET}]{{4}}-?[{ALPHABET}]{{4}}\b"),
    re.compile(r"[^\s@]+@[^\s@]+\.[^\s@]+"),  # an email address
    re.compile(r"(?:\+|\b)(?:\d[\s\-().]*){9,}\d\b"),  # a phone number: ten digits or more
]


def note_problem(note: str) -> str | None:
    """What is wrong with a dismissal note (a message for the person), or None."""
    text = note.strip()
    if not text:
        return NOTE_REQUIRED
    if len(text) > NOTE_MAX:
        return NOTE_TOO_LONG
    if any(pattern.search(text) for pattern in IDENTIFYING):
        return NOTE_IDENTIFYING
    return None


class AlertNotOpen(Exception):
    """Only an open alert can be acknowledged or dismissed (or an acknowledged one turned into a review)."""


def alerts_listed() -> QuerySet[PatternAlert]:
    """Every alert, open first, then acknowledged, then the rest; the latest weeks first."""
    order = Case(
        When(status=PatternAlert.Status.OPEN, then=Value(0)),
        When(status=PatternAlert.Status.ACKNOWLEDGED, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    return PatternAlert.objects.annotate(status_order=order).order_by("status_order", "-period_end", "kind", "id")


def _act(alert: PatternAlert, user: User, status: str, note: str = "") -> PatternAlert:
    require(user, Permission.PATTERN_ALERTS)
    with transaction.atomic():
        locked = PatternAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.status != PatternAlert.Status.OPEN:
            raise AlertNotOpen(f"This alert is already {locked.get_status_display().lower()}")
        locked.status = status
        locked.note = note
        locked.acted_by = user
        locked.acted_on = timezone.localdate()
        locked.save(update_fields=["status", "note", "acted_by", "acted_on"])
        # Codes and ids only: the note stays on the alert, never in the trail.
        event_record(
            kind=f"pattern_alert_{status}",
            actor=user,
            detail={"pattern_alert": locked.pk, "alert_kind": locked.kind, "series": locked.series_key},
        )
    return locked


def alert_acknowledge(alert: PatternAlert, *, user: User) -> PatternAlert:
    return _act(alert, user, PatternAlert.Status.ACKNOWLEDGED)


def alert_dismiss(alert: PatternAlert, *, user: User, note: str) -> PatternAlert:
    problem = note_problem(note)
    if problem:
        raise ValueError(problem)
    return _act(alert, user, PatternAlert.Status.DISMISSED, note.strip())


def alert_row(alert: PatternAlert) -> dict[str, Any]:
    """An alert as the API and ``detect_patterns --format json`` give it."""
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "series": dict(alert.series),
        "period": {"start": alert.period_start.isoformat(), "end": alert.period_end.isoformat()},
        "observed": alert.observed,
        "expected": round(alert.expected, 3),
        "threshold": None if alert.threshold is None else round(alert.threshold, 3),
        "method": alert.method,
        "status": alert.status,
    }


def _day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def review_summary(alert: PatternAlert) -> str:
    """What a review case opened from ``alert`` says about it: the alert's metadata only (its kind, series,
    weeks and figures), never anything a reporter wrote."""
    [shown] = alerts_shown([alert])
    series = ", ".join(f"{name.replace('_', ' ')} {value}" for name, value in sorted(alert.series.items()))
    bound = "none" if alert.threshold is None else f"{alert.threshold:.1f}"
    return "\n".join(
        [
            f"National review of a pattern alert ({alert.get_kind_display().lower()}, alert {alert.pk}):",
            f"{shown.title}.",
            f"Series: {series or alert.series_key}.",
            f"Weeks: {_day(alert.period_start)} to {_day(alert.period_end)}.",
            f"Observed {alert.observed}; expected {alert.expected:.1f}; upper bound {bound}. {shown.method}.",
        ]
    )


REVIEWABLE = frozenset({PatternAlert.Status.OPEN, PatternAlert.Status.ACKNOWLEDGED})


def alert_review(alert: PatternAlert, *, user: User) -> PatternAlert:
    """Turn the alert into a case for independent national review (referrals.review_cases): a case with no
    report, in the review team's queue, summarised from the alert's figures. Audited. Idempotent: an alert
    that already has its review case keeps it (a second press opens nothing). A dismissed alert is not
    reviewed (AlertNotOpen)."""
    require(user, Permission.OPEN_REVIEW_CASE)
    with transaction.atomic():
        locked = PatternAlert.objects.select_for_update().get(pk=alert.pk)
        if locked.review_case_id is not None:
            return locked
        if locked.status not in REVIEWABLE:
            raise AlertNotOpen(f"This alert is already {locked.get_status_display().lower()}")
        detail: dict[str, object] = {"pattern_alert": locked.pk, "alert_kind": locked.kind}
        case = review_case_open(summary=review_summary(locked), acting_user=user, detail=detail)
        locked.status = PatternAlert.Status.REVIEW
        locked.review_case = case
        locked.acted_by = user
        locked.acted_on = timezone.localdate()
        locked.save(update_fields=["status", "review_case", "acted_by", "acted_on"])
        event_record(
            kind="pattern_alert_review",
            actor=user,
            detail={**detail, "series": locked.series_key, "case_number": case.case_number},
        )
    return locked

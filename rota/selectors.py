"""Who is on call when, and where the rota leaves nobody: read by the rota page, by triage's paging and by the
start page's promise (reports)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError
from django.db.models import QuerySet
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from core.office_hours import open_intervals
from rota.models import Shift

# How far ahead the rota page lists shifts, and checks for gaps.
LIST_DAYS = 14
GAP_DAYS = 7


@dataclass(frozen=True)
class OnCall:
    primary: Shift | None
    secondary: Shift | None


def on_call_staff() -> QuerySet[User]:
    """Who may be put on the rota: active helpline staff (accounts.policy)."""
    return policy.holders(Permission.HELPLINE_WORK).order_by("username")


def _covering(role: str, moment: datetime) -> Shift | None:
    return (
        Shift.objects.filter(role=role, starts_at__lte=moment, ends_at__gt=moment, person__is_active=True)
        .select_related("person")
        .order_by("starts_at", "id")
        .first()
    )


def on_call_at(moment: datetime | None = None) -> OnCall:
    """The primary and secondary on call at ``moment`` (now by default); either may be nobody."""
    moment = moment or timezone.now()
    return OnCall(primary=_covering(Shift.Role.PRIMARY, moment), secondary=_covering(Shift.Role.SECONDARY, moment))


def rota_configured(moment: datetime | None = None) -> bool:
    """Whether a primary is on call now: then the helpline answers urgent concerns day and night. False when the
    database cannot say (the start page then promises only what office hours keep, and still shows)."""
    try:
        return on_call_at(moment).primary is not None
    except DatabaseError:
        return False


def shifts_between(start: datetime, end: datetime) -> QuerySet[Shift]:
    return (
        Shift.objects.filter(ends_at__gt=start, starts_at__lt=end)
        .select_related("person")
        .order_by("starts_at", "role")
    )


def primary_overlapping(starts_at: datetime, ends_at: datetime, *, exclude_id: int | None = None) -> Shift | None:
    """A primary shift that shares any time with ``starts_at``–``ends_at`` (one primary at a time)."""
    shifts = Shift.objects.filter(role=Shift.Role.PRIMARY, starts_at__lt=ends_at, ends_at__gt=starts_at)
    if exclude_id is not None:
        shifts = shifts.exclude(pk=exclude_id)
    return shifts.select_related("person").order_by("starts_at").first()


@dataclass(frozen=True)
class Gap:
    start: datetime
    end: datetime
    # "primary", "secondary" or both: who is missing throughout.
    missing: tuple[str, ...]


def rota_gaps(start: datetime | None = None, days: int = GAP_DAYS) -> list[Gap]:
    """The times in the next ``days`` outside office hours (core.office_hours: bank holidays and weekends
    as the configured hours say) with no primary or no secondary on call, merged where the same roles are
    missing."""
    start = start or timezone.now()
    end = start + timedelta(days=days)
    staffed = open_intervals(start, end)
    shifts = [s for s in shifts_between(start, end) if s.person.is_active]
    cuts = {start, end}
    for opens, closes in staffed:
        cuts |= {opens, closes}
    for shift in shifts:
        cuts |= {max(shift.starts_at, start), min(shift.ends_at, end)}
    points = sorted(cuts)
    gaps: list[Gap] = []
    for left, right in zip(points, points[1:], strict=False):
        if left >= right or any(opens <= left and right <= closes for opens, closes in staffed):
            continue
        missing = tuple(
            role
            for role in Shift.Role.values
            if not any(s.role == role and s.starts_at <= left and right <= s.ends_at for s in shifts)
        )
        if not missing:
            continue
        if gaps and gaps[-1].end == left and gaps[-1].missing == missing:
            gaps[-1] = Gap(gaps[-1].start, right, missing)
        else:
            gaps.append(Gap(left, right, missing))
    return gaps

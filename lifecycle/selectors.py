"""What supervisors and administrators read of a case's life after its work: the cases due for destruction,
the cases on legal hold and the requests to destroy a case early. Case numbers, codes and dates only, never
content; each read asks accounts.policy first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from lifecycle.models import EarlyDestruction
from triage.models import Case, LegalHold, Outcome

# Supervisors are warned of a case this many days before the retention schedule destroys it.
WARNING_DAYS = 30
DUE_PAGE_SIZE = 50
OUTCOMES = dict(Outcome.choices)


def _active_hold() -> Exists:
    return Exists(LegalHold.objects.filter(case=OuterRef("pk"), released_on__isnull=True))


def _due(today: date) -> Q:
    """Closed cases whose day falls within the warning window, or has passed, whose content is still here."""
    kept = Q(report__isnull=False, report__content_destroyed_on__isnull=True) | Q(
        report__isnull=True, own_key__content_destroyed_on__isnull=True
    )
    return Q(kept, destroy_on__lte=today + timedelta(days=WARNING_DAYS))


@dataclass(frozen=True)
class DuePage:
    rows: list[dict[str, Any]]
    page: int
    total: int
    today: date
    last_day: date
    has_next: bool = False
    pages: int = 1
    overdue: int = 0


def destruction_due(*, user: User, page: int = 1) -> DuePage:
    """The cases the retention schedule destroys in the next WARNING_DAYS days, or should have already (it runs
    daily), that are not on legal hold: soonest first, a page at a time. Three queries, whatever the page."""
    policy.require(user, Permission.DESTRUCTION_DUE)
    today = timezone.localdate()
    cases = Case.objects.filter(_due(today)).exclude(_active_hold())
    total = cases.count()
    overdue = cases.filter(destroy_on__lt=today).count()
    pages = max(1, -(-total // DUE_PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * DUE_PAGE_SIZE
    rows: list[dict[str, Any]] = []
    for row in cases.order_by("destroy_on", "id").values(
        "case_number", "destroy_on", "outcome", "closed_at", "authority__name"
    )[start : start + DUE_PAGE_SIZE]:
        day = row["destroy_on"]
        rows.append(
            {
                **row,
                "outcome_label": OUTCOMES.get(row["outcome"], row["outcome"]),
                "overdue": day is not None and day < today,
                "today": day == today,
            }
        )
    return DuePage(
        rows=rows,
        page=page,
        total=total,
        today=today,
        last_day=today + timedelta(days=WARNING_DAYS),
        has_next=page < pages,
        pages=pages,
        overdue=overdue,
    )


@dataclass(frozen=True)
class HeldCases:
    rows: list[dict[str, Any]]
    today: date
    overdue: int = 0
    shows_case_pages: bool = False  # whether the reader may open the cases (helpline staff)


def holds_active(*, user: User) -> HeldCases:
    """Every active legal hold, for the yearly review: the reviews most overdue first, then the soonest due.
    One query."""
    policy.require(user, Permission.LEGAL_HOLD)
    today = timezone.localdate()
    holds = (
        LegalHold.objects.filter(released_on__isnull=True)
        .order_by("review_due_on", "id")
        .values(
            "id",
            "case__case_number",
            "case__status",
            "case__destroy_on",
            "basis",
            "placed_on",
            "placed_by__username",
            "review_due_on",
            "linked_from__case__case_number",
        )
    )
    bases = dict(LegalHold.Basis.choices)
    rows = []
    for hold in holds:
        rows.append(
            {
                **hold,
                "basis_label": bases.get(hold["basis"], hold["basis"]),
                "review_overdue": hold["review_due_on"] < today,
                # Offered "keep for another year" from a month before the review is due.
                "review_soon": hold["review_due_on"] <= today + timedelta(days=WARNING_DAYS),
                "destroy_passed": hold["case__destroy_on"] is not None and hold["case__destroy_on"] <= today,
            }
        )
    return HeldCases(
        rows=rows,
        today=today,
        overdue=sum(1 for row in rows if row["review_overdue"]),
        shows_case_pages=policy.may(user, Permission.HELPLINE_WORK),
    )


def hold_get(*, user: User, hold_id: int) -> LegalHold | None:
    """One active hold, for its release page."""
    policy.require(user, Permission.LEGAL_HOLD)
    return (
        LegalHold.objects.select_related("case", "placed_by", "linked_from__case")
        .filter(pk=hold_id, released_on__isnull=True)
        .first()
    )


def holds_held_with(hold: LegalHold) -> list[str]:
    """The case numbers held because of ``hold`` (its linked cases when it was placed), still held."""
    return list(
        LegalHold.objects.filter(linked_from=hold, released_on__isnull=True)
        .order_by("case__case_number")
        .values_list("case__case_number", flat=True)
    )


# --- early destruction ---------------------------------------------------------------------------------

RECENT_DECISIONS = 20


def early_destruction_requests(*, user: User) -> tuple[list[EarlyDestruction], list[EarlyDestruction]]:
    """The requests waiting for a second supervisor, oldest first, and the latest decided. Two queries."""
    policy.require(user, Permission.DESTROY_EARLY)
    requests = EarlyDestruction.objects.select_related("case", "requested_by", "decided_by")
    pending = list(requests.filter(status=EarlyDestruction.Status.PENDING).order_by("requested_at", "id"))
    decided = list(
        requests.exclude(status=EarlyDestruction.Status.PENDING).order_by("-decided_at", "-id")[:RECENT_DECISIONS]
    )
    return pending, decided


def early_destruction_get(*, user: User, request_id: int) -> EarlyDestruction | None:
    policy.require(user, Permission.DESTROY_EARLY)
    return (
        EarlyDestruction.objects.select_related("case__report", "case__authority", "requested_by", "decided_by")
        .filter(pk=request_id)
        .first()
    )


def early_destruction_pending_for(*, case: Case) -> EarlyDestruction | None:
    """The request waiting on ``case``, if there is one (for its page)."""
    return (
        EarlyDestruction.objects.select_related("requested_by")
        .filter(case=case, status=EarlyDestruction.Status.PENDING)
        .first()
    )


@dataclass(frozen=True)
class RetentionWork:
    """What waits for a supervisor in the case's life after its work, for the staff home page."""

    due: int
    overdue: int
    reviews_due: int
    requests_waiting: int


def retention_work(*, user: User) -> RetentionWork:
    """Counts only: the cases due for destruction in the warning window (and those overdue), the holds whose
    yearly review is due within it, and the early destruction requests another supervisor made, waiting for
    this one."""
    policy.require(user, Permission.DESTRUCTION_DUE)
    today = timezone.localdate()
    due = Case.objects.filter(_due(today)).exclude(_active_hold())
    requests = 0
    if policy.may(user, Permission.DESTROY_EARLY):
        requests = (
            EarlyDestruction.objects.filter(status=EarlyDestruction.Status.PENDING).exclude(requested_by=user).count()
        )
    reviews = 0
    if policy.may(user, Permission.LEGAL_HOLD):
        reviews = LegalHold.objects.filter(
            released_on__isnull=True, review_due_on__lte=today + timedelta(days=WARNING_DAYS)
        ).count()
    return RetentionWork(
        due=due.count(),
        overdue=due.filter(destroy_on__lt=today).count(),
        reviews_due=reviews,
        requests_waiting=requests,
    )

"""Statistics for boards (their area) and national oversight (every area). Codes and counts only, from
the summary views; suppression applied before anything is shown or exported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import QuerySet, Sum

from accounts.models import User
from directory.models import LocalAuthority
from oversight import patterns
from oversight.models import CaseFact, ConcernFact
from oversight.suppression import Table, suppress
from reports.models import ConcernType
from triage.models import AuthorityOutcome, Outcome

ACK_COLUMNS = [
    ("on_time", "Acknowledged on time"),
    ("late", "Acknowledged late"),
    ("missed", "Not acknowledged, overdue"),
    ("pending", "Awaiting acknowledgement"),
]
OUTCOME_COLUMNS = [
    ("on_time", "Outcome on time"),
    ("late", "Outcome late"),
    ("missed", "No outcome, overdue"),
    ("pending", "Awaiting outcome"),
]


@dataclass(frozen=True)
class Scope:
    """What statistics a user may see: one region (a board) or all (national)."""

    region: str | None
    national: bool

    @property
    def label(self) -> str:
        return "England" if self.national else str(self.region)


def scope_for(user: User) -> Scope:
    """What statistics this user may see; PermissionDenied for everybody else. Decided here only."""
    if user.role == User.Role.OVERSIGHT_ANALYST or user.role == User.Role.SUPERVISOR:
        return Scope(region=None, national=True)
    if user.role == User.Role.BOARD_REVIEWER and user.area:
        return Scope(region=user.area, national=False)
    raise PermissionDenied


@dataclass(frozen=True)
class PatternView:
    alerts: list[patterns.Alert]
    show_cases: bool  # only the helpline may open the cases behind an alert


def pattern_alerts_for(user: User) -> PatternView:
    """National pattern alerts, for national oversight and helpline supervisors only."""
    if user.role not in (User.Role.OVERSIGHT_ANALYST, User.Role.SUPERVISOR):
        raise PermissionDenied
    return PatternView(alerts=patterns.pattern_alerts(), show_cases=user.is_helpline)


FactT = TypeVar("FactT", CaseFact, ConcernFact)


def _scoped(facts: QuerySet[FactT], scope: Scope) -> QuerySet[FactT]:
    if scope.national:
        return facts
    # A board never sees cases about a council of its own area (they go to independent review).
    own = LocalAuthority.objects.filter(region=scope.region).values("pk")
    return facts.filter(region=scope.region).exclude(conflict_authority__in=own)


def stats_refresh() -> None:
    # The owner's SECURITY DEFINER function (oversight migration 0004): the runtime role may run it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT oversight_refresh_summaries()")


def _pivot(
    rows: list[dict[str, Any]],
    row_key: str,
    col_key: str,
    row_labels: list[tuple[str, str]],
    col_labels: list[tuple[str, str]],
) -> Table:
    index = {(str(r[row_key]), str(r[col_key])): int(r["total"] or 0) for r in rows}
    counts = [[index.get((rk, ck), 0) for ck, _ in col_labels] for rk, _ in row_labels]
    return suppress(
        Table(
            row_labels=[label for _, label in row_labels],
            column_labels=[label for _, label in col_labels],
            counts=counts,
        )
    )


def authority_rows(scope: Scope) -> list[tuple[str, str]]:
    authorities = LocalAuthority.objects.order_by("name")
    if not scope.national:
        authorities = authorities.filter(region=scope.region)
    return [(str(pk), name) for pk, name in authorities.values_list("pk", "name")]


def timeliness(scope: Scope, *, since: date, column: str = "ack") -> Table:
    """Per authority: referrals acknowledged (or outcomes recorded) on time, late, overdue, pending."""
    facts = _scoped(CaseFact.objects.filter(month__gte=since, **{f"{column}__isnull": False}), scope)
    rows = list(facts.values("authority_id", column).annotate(total=Sum("cases")))
    columns = ACK_COLUMNS if column == "ack" else OUTCOME_COLUMNS
    return _pivot(rows, "authority_id", column, authority_rows(scope), columns)


def outcomes(scope: Scope, *, since: date) -> Table:
    facts = _scoped(CaseFact.objects.filter(month__gte=since, status="closed"), scope)
    rows = [{**r, "col": "closed"} for r in facts.values("outcome").annotate(total=Sum("cases"))]
    return _pivot(rows, "outcome", "col", list(Outcome.choices), [("closed", "Closed cases")])


def authority_outcomes(scope: Scope, *, since: date) -> Table:
    facts = _scoped(CaseFact.objects.filter(month__gte=since).exclude(authority_outcome=""), scope)
    rows = [{**r, "col": "recorded"} for r in facts.values("authority_outcome").annotate(total=Sum("cases"))]
    return _pivot(rows, "authority_outcome", "col", list(AuthorityOutcome.choices), [("recorded", "Referrals")])


def quarter_of(month: date) -> str:
    return f"{month.year} Q{(month.month - 1) // 3 + 1}"


def concern_trends(scope: Scope, *, quarters: list[str], since: date) -> Table:
    """Concern types by quarter. A report can have several types, so columns do not sum to reports."""
    facts = _scoped(ConcernFact.objects.filter(month__gte=since), scope)
    totals: dict[tuple[str, str], int] = {}
    for row in facts.values("concern_type", "month").annotate(total=Sum("cases")):
        key = (row["concern_type"], quarter_of(row["month"]))
        totals[key] = totals.get(key, 0) + int(row["total"] or 0)
    rows = [{"concern_type": k[0], "quarter": k[1], "total": v} for k, v in totals.items()]
    table = _pivot(rows, "concern_type", "quarter", list(ConcernType.choices), [(q, q) for q in quarters])
    return table


def closed_case_list(scope: Scope, *, since: date) -> list[tuple[str, str, str, str]]:
    """A coarse list of closed cases: outcome, authority outcome, month and count, small groups hidden."""
    facts = _scoped(CaseFact.objects.filter(month__gte=since, status="closed"), scope)
    grouped = facts.values("month", "outcome", "authority_outcome").annotate(total=Sum("cases")).order_by("-month")
    outcome_labels = dict(Outcome.choices)
    authority_labels = dict(AuthorityOutcome.choices)
    return [
        (
            row["month"].strftime("%B %Y"),
            outcome_labels.get(row["outcome"], row["outcome"] or "Not recorded"),
            authority_labels.get(row["authority_outcome"], row["authority_outcome"] or "None recorded"),
            "fewer than 5" if int(row["total"] or 0) < 5 else str(row["total"]),
        )
        for row in grouped[:240]
    ]

"""Statistics for safeguarding partnerships (their authorities) and national oversight (every area). Codes
and counts only, from the summary views; suppression applied before anything is shown or exported."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Min, QuerySet, Subquery, Sum
from django.utils import timezone

from accounts import policy
from accounts.models import User
from accounts.policy import Permission
from directory.models import LocalAuthority, Partnership
from oversight import published
from oversight.alerts import alerts_listed
from oversight.models import (
    CaseFact,
    ConcernFact,
    FactsVersion,
    PatternAlert,
    PictureFact,
    ReportedFact,
    StoredStatistics,
    StoredSuppression,
)
from oversight.periods import Measure, Period, Rollup, SameFigure, SuppressionStore, publish_year, quarter_of
from oversight.picture import picture_measures
from oversight.stored import DatabaseStore
from oversight.suppression import Table
from referrals.models import LOCAL_AUTHORITY, RECIPIENT_KINDS, AuthorityOutcome
from reports.models import AlreadyReported, ConcernType
from triage.models import Outcome

# Referrals by kind of recipient: a local authority or a national body's kind (referrals.models).
BY_RECIPIENT = "referrals-by-recipient"
# Its local authorities' row counts the referrals the tables by authority count: the same figure as their
# grand total, suppressed alike (in the scope's authorities; a partnership's body referrals are those of its
# authorities' cases, which no table by authority counts).
RECIPIENT_SAME_FIGURE: SameFigure = (
    (BY_RECIPIENT, [code for code, _ in RECIPIENT_KINDS].index(LOCAL_AUTHORITY), 0),
    ("acknowledgements", -1, -1),
)

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
    """What statistics a user may see: all of England (national), or a safeguarding partnership's
    authorities (one or more: ``authority_ids``, with the partnership's ``name``)."""

    national: bool
    name: str = ""
    authority_ids: tuple[int, ...] = ()
    partnership_id: int | None = None

    @property
    def label(self) -> str:
        return "England" if self.national else self.name

    @property
    def key(self) -> str:
        """What the stored statistics are kept under: a partnership's id and a digest of its authorities, so
        that figures stored before an administrator changed which authorities it covers are never read."""
        if self.national:
            return "national"
        covered = hashlib.sha256(",".join(map(str, self.authority_ids)).encode()).hexdigest()[:16]
        return f"partnership:{self.partnership_id}:{covered}"


NATIONAL = Scope(national=True)


def partnership_scope(partnership: Partnership) -> Scope:
    """A partnership's scope (its authorities as they are now: one query, or none when prefetched)."""
    return Scope(
        national=False,
        name=partnership.name,
        authority_ids=tuple(sorted(authority.pk for authority in partnership.authorities.all())),
        partnership_id=partnership.pk,
    )


def scope_for(user: User) -> Scope:
    """What statistics this user may see (accounts.policy decides); PermissionDenied for everybody else."""
    partnership = policy.statistics_partnership(user)
    return NATIONAL if partnership is None else partnership_scope(partnership)


@dataclass(frozen=True)
class PatternView:
    alerts: list[PatternAlert]
    show_cases: bool  # only the helpline may open the cases behind an alert


def pattern_alerts_for(user: User) -> PatternView:
    """National pattern alerts (open first), for national oversight and helpline supervisors only."""
    policy.require(user, Permission.PATTERN_ALERTS)
    return PatternView(alerts=list(alerts_listed()), show_cases=policy.may(user, Permission.HELPLINE_WORK))


def pattern_alert_for(user: User, *, alert_id: int) -> tuple[PatternAlert, bool] | None:
    """One alert and whether its cases may be opened; None when there is no such alert."""
    policy.require(user, Permission.PATTERN_ALERTS)
    found = PatternAlert.objects.select_related("review_case").filter(pk=alert_id).first()
    return (found, policy.may(user, Permission.HELPLINE_WORK)) if found else None


def published_figures_for(user: User, *, year: int) -> tuple[Scope, list[published.Figure]]:
    """The year's published performance figures this user may see: all of England, or their partnership's
    authorities (accounts.policy decides, as for every statistic); PermissionDenied for everybody else."""
    scope = scope_for(user)
    return scope, published.published_figures(year, None if scope.national else scope.authority_ids)


FactT = TypeVar("FactT", CaseFact, ConcernFact, PictureFact, ReportedFact)


def _scoped(facts: QuerySet[FactT], scope: Scope) -> QuerySet[FactT]:
    if scope.national:
        return facts
    # A partnership never sees concerns about a council it covers (they go to independent review).
    own = list(scope.authority_ids)
    return facts.filter(authority__in=own).exclude(conflict_authority__in=own)


def stats_refresh() -> None:
    """Refresh the summary views, and count the refresh: statistics stored for earlier figures are not read."""
    # The owner's SECURITY DEFINER function (oversight migration 0004): the runtime role may run it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT oversight_refresh_summaries()")
        cursor.execute("SELECT oversight_refresh_picture()")
        cursor.execute(
            "INSERT INTO oversight_facts_version (id, version, refreshed_at) VALUES (1, 1, now()) "
            "ON CONFLICT (id) DO UPDATE SET version = oversight_facts_version.version + 1, refreshed_at = now()"
        )


STORED_GRACE = timedelta(minutes=10)


def figures_refreshed_at() -> datetime | None:
    """When the workers last refreshed the summary views; None before the first refresh (every count 0)."""
    found: datetime | None = FactsVersion.objects.filter(id=1).values_list("refreshed_at", flat=True).first()
    return found


def _facts_version() -> int | None:
    found: int | None = FactsVersion.objects.filter(id=1).values_list("version", flat=True).first()
    return found


def statistics_prepare() -> int:
    """Work out and store the statistics of every year on offer, for national oversight and each safeguarding
    partnership, for the figures of the last refresh; drop what earlier figures gave. After each refresh, in the
    workers, so that no page works a year out itself. How many (year, scope) were prepared."""
    version = _facts_version()
    if version is None:
        return 0  # never refreshed: no figures to work out
    store = DatabaseStore()
    partnerships = Partnership.objects.prefetch_related("authorities").order_by("pk")
    scopes = [NATIONAL, *(partnership_scope(partnership) for partnership in partnerships)]
    today = timezone.localdate()
    first = first_month()
    years = range(today.year, (first.year if first is not None and first <= today else today.year) - 1, -1)
    for year in years:
        for scope in scopes:
            if not StoredStatistics.objects.filter(version=version, scope=scope.key, year=year).exists():
                _store_year(scope, year, version, _year_tables(scope, Period(year), store))
    StoredStatistics.objects.exclude(version=version).delete()
    # What earlier figures hid goes, once no page that read those figures can still be asking for it.
    stale = timezone.now() - STORED_GRACE
    StoredSuppression.objects.exclude(digest__in=store.used).filter(stored_at__lt=stale).delete()
    return len(years) * len(scopes)


Published = tuple[list[tuple[str, str]], dict[tuple[str, Period], Table]]  # (slug, title) of each, the tables


def _store_year(scope: Scope, year: int, version: int | None, published: Published) -> None:
    if version is None:
        return  # never refreshed: there are no figures to keep it for
    measures, tables = published
    encoded = [
        {
            "slug": slug,
            "title": title,
            "periods": {
                period.slug: {
                    "rows": table.row_labels,
                    "columns": table.column_labels,
                    "counts": table.counts,
                    "primary": sorted(table.primary),
                    "secondary": sorted(table.secondary),
                }
                for (measure, period), table in tables.items()
                if measure == slug
            },
        }
        for slug, title in measures
    ]
    StoredStatistics.objects.bulk_create(
        [StoredStatistics(version=version, scope=scope.key, year=year, tables=encoded)],
        ignore_conflicts=True,
    )


def _stored_year(scope: Scope, year: int) -> list[dict[str, Any]] | None:
    """The year's tables stored for the figures of the last refresh, if any: one query."""
    current = FactsVersion.objects.filter(id=1).values("version")[:1]
    found: list[dict[str, Any]] | None = (
        StoredStatistics.objects.filter(version=Subquery(current), scope=scope.key, year=year)
        .values_list("tables", flat=True)
        .first()
    )
    return found


def _stored_tables(stored: list[dict[str, Any]], period: Period) -> list[tuple[str, str, Table]]:
    def table(saved: dict[str, Any]) -> Table:
        return Table(
            row_labels=saved["rows"],
            column_labels=saved["columns"],
            counts=saved["counts"],
            primary={(r, c) for r, c in saved["primary"]},
            secondary={(r, c) for r, c in saved["secondary"]},
        )

    return [(m["slug"], m["title"], table(m["periods"][period.slug])) for m in stored]


def first_month() -> date | None:
    """The first month any statistics exist for: where the choice of periods starts."""
    first: date | None = CaseFact.objects.aggregate(first=Min("month"))["first"]
    return first


def _quarter_counts(
    rows: Sequence[Mapping[str, Any]],
    row_key: str,
    col_key: str | None,
    row_labels: list[tuple[str, str]],
    col_labels: list[tuple[str, str]],
) -> list[list[list[int]]]:
    """Counts by quarter ([quarter - 1][row][column]) from summary rows carrying a month and a total;
    with no ``col_key``, each quarter has the one column."""
    index: dict[tuple[str, str, int], int] = {}
    for r in rows:
        key = (str(r[row_key]), str(r[col_key]) if col_key else "", quarter_of(r["month"]))
        index[key] = index.get(key, 0) + int(r["total"] or 0)
    columns = [ck for ck, _ in col_labels] if col_key else [""]
    return [[[index.get((rk, ck, q), 0) for ck in columns] for rk, _ in row_labels] for q in range(1, 5)]


def authority_rows(scope: Scope) -> list[tuple[str, str]]:
    return [(pk, name) for pk, name, _ in _authorities(scope)]


def _authorities(scope: Scope) -> list[tuple[str, str, str]]:
    """(id, name, region) of the authorities in scope, by name: one query."""
    authorities = LocalAuthority.objects.order_by("name")
    if not scope.national:
        authorities = authorities.filter(pk__in=scope.authority_ids)
    return [(str(pk), name, region) for pk, name, region in authorities.values_list("pk", "name", "region")]


def _region_rollup(slug: str, title: str, detail: Measure, regions: list[str]) -> tuple[Measure, Rollup]:
    """The detail's rows (authorities) added up by region, and how (no query: from the detail's counts)."""
    groups = tuple(tuple(r for r, region in enumerate(regions) if region == name) for name in sorted(set(regions)))
    columns = range(len(detail.column_labels))
    measure = Measure(
        slug=slug,
        title=title,
        row_labels=sorted(set(regions)),
        column_labels=list(detail.column_labels),
        quarter_counts=[
            [[sum(quarter[r][c] for r in group) for c in columns] for group in groups]
            for quarter in detail.quarter_counts
        ],
        columns_are_quarters=detail.columns_are_quarters,
    )
    return measure, Rollup(detail=detail.slug, summary=slug, groups=groups)


def _measure(
    slug: str,
    title: str,
    rows: Sequence[Mapping[str, Any]],
    keys: tuple[str, str | None],
    row_labels: list[tuple[str, str]],
    col_labels: list[tuple[str, str]],
    *,
    columns_are_quarters: bool = False,
) -> Measure:
    return Measure(
        slug=slug,
        title=title,
        row_labels=[label for _, label in row_labels],
        column_labels=[label for _, label in col_labels],
        quarter_counts=_quarter_counts(rows, keys[0], keys[1], row_labels, col_labels),
        columns_are_quarters=columns_are_quarters,
    )


# The six sums the statistics take from the case facts, as (grouping, what GROUPING() says of it): each
# row of the one query below belongs to one of them. GROUPING(authority_id, ack, outcome_timeliness,
# closed_outcome, recorded, recipient) has a bit set, first argument first, for each column the row is not
# grouped by. The files received are summed by month alone (every bit set).
_CASE_FACT_SUMS = """
SELECT authority_id, ack, outcome_timeliness, closed_outcome, recorded, recipient, month, SUM(cases),
       GROUPING(authority_id, ack, outcome_timeliness, closed_outcome, recorded, recipient),
       SUM(files_from_reporter), SUM(files_from_caller)
FROM (
    SELECT authority_id, ack, outcome_timeliness, recipient, month, cases, files_from_reporter, files_from_caller,
           CASE WHEN status = 'closed' AND outcome <> '' THEN outcome END AS closed_outcome,
           CASE WHEN authority_outcome <> '' THEN authority_outcome END AS recorded
    FROM ({facts}) facts
) f
GROUP BY GROUPING SETS (
    (authority_id, ack, month), (authority_id, outcome_timeliness, month), (closed_outcome, month), (recorded, month),
    (recipient, month), (month)
)
"""
_BY_ACK, _BY_OUTCOME_TIMELINESS, _CLOSED, _RECORDED, _BY_RECIPIENT = 0b001111, 0b010111, 0b111011, 0b111101, 0b111110
_BY_MONTH = 0b111111

# Files received with the reports (a count, never a name or a type): who sent them.
FILES_RECEIVED = "files-received"
FILE_SOURCES = [
    ("reporter", "Sent by reporters"),
    ("caller", "Emailed in by callers and added by the helpline"),
]


@dataclass(frozen=True)
class CaseFactSums:
    """What the statistics take from the case facts, each by month: the referrals to local authorities by
    authority and acknowledgement (``ack``) and by authority and outcome timeliness, the closed cases by
    outcome, what the authorities recorded, every referral by kind of recipient, and the files received by
    who sent them."""

    referred: dict[str, list[dict[str, Any]]]
    closed: list[dict[str, Any]]
    recorded: list[dict[str, Any]]
    by_recipient: list[dict[str, Any]]
    files: list[dict[str, Any]]


def _case_fact_sums(case_facts: QuerySet[CaseFact]) -> CaseFactSums:
    """The case facts' sums (CaseFactSums): what five queries gave (``values(...).annotate(total=Sum("cases"))``
    over the facts with that column set), from one scan of the summary view, which at a million cases has
    some 300,000 rows. A referral to a national body has no acknowledgement, outcome timeliness or
    authority's outcome (oversight migration 0010): it counts by recipient only."""
    facts, params = case_facts.values(
        "authority_id",
        "ack",
        "outcome_timeliness",
        "status",
        "outcome",
        "authority_outcome",
        "recipient",
        "month",
        "cases",
        "files_from_reporter",
        "files_from_caller",
    ).query.sql_with_params()
    sums = CaseFactSums(
        referred={"ack": [], "outcome_timeliness": []}, closed=[], recorded=[], by_recipient=[], files=[]
    )
    with connection.cursor() as cursor:
        # The inner query is the ORM's own, with its parameters; nothing else is interpolated.
        cursor.execute(_CASE_FACT_SUMS.format(facts=facts), params)
        for row in cursor.fetchall():
            authority, ack, timeliness, outcome, authority_outcome, recipient, month, total, grouping = row[:9]
            if grouping == _BY_MONTH:
                from_reporter, from_caller = row[9:]
                sums.files.append({"source": "reporter", "month": month, "total": from_reporter})
                sums.files.append({"source": "caller", "month": month, "total": from_caller})
                continue
            if grouping == _BY_ACK and ack is not None:
                sums.referred["ack"].append({"authority_id": authority, "ack": ack, "month": month, "total": total})
            elif grouping == _BY_OUTCOME_TIMELINESS and timeliness is not None:
                sums.referred["outcome_timeliness"].append(
                    {"authority_id": authority, "outcome_timeliness": timeliness, "month": month, "total": total}
                )
            elif grouping == _CLOSED and outcome is not None:
                sums.closed.append({"outcome": outcome, "month": month, "total": total})
            elif grouping == _RECORDED and authority_outcome is not None:
                sums.recorded.append({"authority_outcome": authority_outcome, "month": month, "total": total})
            elif grouping == _BY_RECIPIENT and recipient is not None:
                sums.by_recipient.append({"recipient": recipient, "month": month, "total": total})
    return sums


def statistics_tables(scope: Scope, *, period: Period) -> list[tuple[str, str, Table]]:
    """The statistics tables for one whole quarter or year, as (slug, title, table).

    The year holding the period is suppressed as a whole (the year and its four quarters together), so
    that no hidden figure of any of them can be worked out from the others. The workers store every year's
    tables after each refresh (``statistics_prepare``): they are read from there, and only worked out here
    (and stored) when nothing is stored for the figures of the last refresh."""
    stored = _stored_year(scope, period.year)
    if stored is None:
        version = _facts_version()
        published = _year_tables(scope, period.year_period, DatabaseStore())
        _store_year(scope, period.year, version, published)
        measures, tables = published
        return [(slug, _titled(slug, title, period), tables[(slug, period)]) for slug, title in measures]
    return [(slug, _titled(slug, title, period), table) for slug, title, table in _stored_tables(stored, period)]


def _titled(slug: str, title: str, period: Period) -> str:
    """A quarter's table of concern types has the one quarter: not "by quarter"."""
    return "Concern types" if slug == "concern-trends" and period.quarter is not None else title


def _year_tables(scope: Scope, year: Period, store: SuppressionStore | None) -> Published:
    """Every table of the year and of its quarters, from the summary views, suppressed together."""
    case_facts = _scoped(CaseFact.objects.filter(month__gte=year.start, month__lt=year.end), scope)
    concern_facts = _scoped(ConcernFact.objects.filter(month__gte=year.start, month__lt=year.end), scope)
    listed = _authorities(scope)
    authorities = [(pk, name) for pk, name, _ in listed]
    sums = _case_fact_sums(case_facts)
    concerns = list(concern_facts.values("concern_type", "month").annotate(total=Sum("cases")))
    reported_facts = _scoped(ReportedFact.objects.filter(month__gte=year.start, month__lt=year.end), scope)
    reported = list(reported_facts.values("already_reported", "month").annotate(total=Sum("cases")))
    quarters = [(q.slug, q.short_label) for q in year.quarters()]
    measures = [
        _measure(
            "acknowledgements",
            "Acknowledgement of referrals, by authority",
            sums.referred["ack"],
            ("authority_id", "ack"),
            authorities,
            ACK_COLUMNS,
        ),
        _measure(
            "outcome-timeliness",
            "Outcomes within 45 working days, by authority",
            sums.referred["outcome_timeliness"],
            ("authority_id", "outcome_timeliness"),
            authorities,
            OUTCOME_COLUMNS,
        ),
        _measure(
            BY_RECIPIENT,
            "Referrals by kind of recipient",
            sums.by_recipient,
            ("recipient", None),
            RECIPIENT_KINDS,
            [("", "Referrals")],
        ),
        _measure(
            FILES_RECEIVED,
            "Files received with the reports",
            sums.files,
            ("source", None),
            FILE_SOURCES,
            [("", "Files")],
        ),
        _measure(
            "outcomes",
            "Closed cases by outcome",
            sums.closed,
            ("outcome", None),
            list(Outcome.choices),
            [("", "Closed cases")],
        ),
        _measure(
            "authority-outcomes",
            "What authorities recorded",
            sums.recorded,
            ("authority_outcome", None),
            list(AuthorityOutcome.choices),
            [("", "Referrals")],
        ),
        _measure(
            "concern-trends",
            "Concern types by quarter",
            concerns,
            ("concern_type", None),
            list(ConcernType.choices),
            quarters,
            columns_are_quarters=True,
        ),
        _measure(
            "already-reported",
            "Already reported to the police or the council",
            reported,
            ("already_reported", None),
            list(AlreadyReported.choices),
            [("", "Cases")],
        ),
    ]
    shared: tuple[tuple[str, str], ...] = (("acknowledgements", "outcome-timeliness"),)
    rollups: tuple[Rollup, ...] = ()
    if scope.national:
        # National oversight also sees each region's figures: suppressed with the authorities' (each region
        # is the sum of its authorities), so that no hidden figure can be worked out by subtraction.
        regions = [region or "Region not recorded" for _, _, region in listed]
        by_region = [
            _region_rollup(f"{m.slug}-by-region", title, m, regions)
            for m, title in (
                (measures[0], "Acknowledgement of referrals, by region"),
                (measures[1], "Outcomes within 45 working days, by region"),
            )
        ]
        measures += [measure for measure, _ in by_region]
        rollups = tuple(rollup for _, rollup in by_region)
        shared += (("acknowledgements-by-region", "outcome-timeliness-by-region"),)
    # The national picture (oversight.picture): its tables suppressed with these, with the sums between them.
    picture_facts = _scoped(PictureFact.objects.filter(month__gte=year.start, month__lt=year.end), scope)
    picture = picture_measures(picture_facts, authorities)
    measures += picture.measures
    shared += picture.shared_row_totals
    published = publish_year(
        measures,
        year=year.year,
        shared_row_totals=shared,
        rollups=rollups,
        store=store,
        same_figures=(*picture.same_figures, RECIPIENT_SAME_FIGURE),
    )
    return [(m.slug, m.title) for m in measures], published

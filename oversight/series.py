"""Weekly count series for pattern detection (oversight.detection), straight from the database.

A "week" is PATTERN_PERIOD_DAYS days (7 by default) starting on a Monday, London time. Each family of series
is one aggregate query grouped by week (and the series' key), never a Python loop over cases or referrals:

* ``concern_series``: reports per region x concern type, by the week the report was submitted. A report with
  several concern types counts once in each; a case with no known authority has no region and is left out.
* ``facts_series``: the same, per region x setting, group-based exploitation and Ofsted's classification
  (the helpline's CaseFacts), each a family of series of its own.
* ``lateness_series``: referrals to local authorities per authority x outcome class, by the week the
  deadline fell in (a referral's lateness is only known once its deadline has passed, so counting by the week
  it was referred would leave the latest weeks empty): ``ack_late`` (the acknowledgement deadline passed
  with no acknowledgement, or it came after) and ``outcome_late`` (the same for the authority's outcome).
  A referral withdrawn before its deadline is not counted.
* ``standard_lateness``: per authority, the referrals of a span of weeks and how many were acknowledged after
  the statutory 1 working day (core.calendar: weekends and bank holidays), or not at all.

Counts only, weekly: nothing here dates anything a reporter did more finely than its week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from core.calendar import nth_working_day_after
from core.timetrail import day_start
from directory.models import LocalAuthority
from referrals.models import Referral
from reports.models import Report
from triage.models import Case, CaseFacts

# Any Monday: every period starts a whole number of periods after it.
ANCHOR = date(2001, 1, 1)
LONDON = "Europe/London"

# Outcome classes of the authority series (the codes alerts and the API name).
ACK_LATE = "ack_late"
OUTCOME_LATE = "outcome_late"
OUTCOME_CLASSES = {
    ACK_LATE: "Acknowledgements late or missing",
    OUTCOME_LATE: "Outcomes late or missing",
}


def period_days() -> int:
    return int(settings.PATTERN_PERIOD_DAYS)


def period_start(day: date) -> date:
    """The first day of the period (the week, by default from Monday) that ``day`` falls in."""
    days = period_days()
    return ANCHOR + timedelta(days=((day - ANCHOR).days // days) * days)


@dataclass(frozen=True)
class Weeks:
    """The complete periods a run judges: ``first`` (the oldest read) up to ``last`` (the latest complete one,
    the one judged). The current, partial period is never judged: its count would look low until it ends."""

    first: date
    last: date

    @property
    def end(self) -> date:
        """The day after the last period judged (exclusive)."""
        return self.last + timedelta(days=period_days())

    def starts(self) -> list[date]:
        step = timedelta(days=period_days())
        found, day = [], self.first
        while day <= self.last:
            found.append(day)
            day += step
        return found

    def index(self, day: date) -> int:
        return (period_start(day) - self.first).days // period_days()


def weeks_judged(today: date, *, history: int | None = None) -> Weeks:
    """The latest complete period before ``today``'s and ``history`` periods before it (PATTERN_HISTORY_WEEKS)."""
    count = settings.PATTERN_HISTORY_WEEKS if history is None else history
    last = period_start(today) - timedelta(days=period_days())
    return Weeks(first=last - timedelta(days=period_days() * (count - 1)), last=last)


@dataclass
class Series:
    """One series: what it counts (``key``: codes only) and its count for every period of ``weeks``, oldest
    first (zeros included). ``first`` is the index of the first period with data in the series' family: the
    periods before it are before the service had any (a model would read them as a long run of zeros)."""

    family: str
    key: dict[str, str]
    counts: list[int]
    first: int = 0
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def key_text(self) -> str:
        return "|".join(f"{name}={value}" for name, value in sorted(self.key.items()))

    @property
    def history(self) -> list[int]:
        return self.counts[self.first :]


def _bucket(column: str) -> str:
    """SQL for the first day of the period of a timestamp column, London time (integer days since ANCHOR)."""
    days = period_days()
    return (
        f"(DATE '{ANCHOR.isoformat()}' + ((({column} AT TIME ZONE '{LONDON}')::date "
        f"- DATE '{ANCHOR.isoformat()}') / {days}) * {days})"
    )


def _bounds(weeks: Weeks) -> tuple[datetime, datetime]:
    return day_start(weeks.first), day_start(weeks.end)


def _assemble(
    family: str, weeks: Weeks, rows: list[tuple[date, tuple[str, ...], int]], names: tuple[str, ...]
) -> list[Series]:
    size = len(weeks.starts())
    found: dict[tuple[str, ...], list[int]] = {}
    earliest = size
    for week, key, count in rows:
        position = weeks.index(week)
        if not 0 <= position < size:
            continue
        found.setdefault(key, [0] * size)[position] += count
        earliest = min(earliest, position)
    return [
        Series(family=family, key=dict(zip(names, key, strict=True)), counts=counts, first=min(earliest, size - 1))
        for key, counts in sorted(found.items())
    ]


def concern_series(weeks: Weeks) -> list[Series]:
    """Reports per region x concern type per week: one query."""
    start, end = _bounds(weeks)
    sql = f"""
        SELECT {_bucket("r.submitted_at")} AS week, la.region, concern, count(*)
        FROM {Case._meta.db_table} c
        JOIN {Report._meta.db_table} r ON r.id = c.report_id
        JOIN {LocalAuthority._meta.db_table} la ON la.id = c.authority_id
        CROSS JOIN LATERAL unnest(r.concern_types) AS concern
        WHERE r.submitted_at >= %s AND r.submitted_at < %s
        GROUP BY 1, 2, 3
    """  # noqa: S608 - table names from the models, the period a setting (an int)
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end])
        rows: list[tuple[date, tuple[str, ...], int]] = [
            (week, (region, concern), count) for week, region, concern, count in cursor.fetchall()
        ]
    return _assemble("concern", weeks, rows, ("region", "concern_type"))


# The law-and-data dimensions of a case (triage.facts, recorded by the helpline) detected on like concern types.
FACT_DIMENSIONS = ("setting", "group_based", "ofsted_class")


def facts_series(weeks: Weeks) -> list[Series]:
    """Reports per region x setting, region x group-based exploitation ("yes") and region x Ofsted's
    classification, by the week the report was submitted: one query. The helpline records these after
    triage, so a week's counts can still grow after it ends (a surge shows once its facts are recorded)."""
    start, end = _bounds(weeks)
    sql = f"""
        SELECT {_bucket("r.submitted_at")} AS week, la.region, fact.dimension, fact.category, count(*)
        FROM {Case._meta.db_table} c
        JOIN {Report._meta.db_table} r ON r.id = c.report_id
        JOIN {LocalAuthority._meta.db_table} la ON la.id = c.authority_id
        JOIN {CaseFacts._meta.db_table} f ON f.case_id = c.id
        CROSS JOIN LATERAL (
            SELECT 'setting' AS dimension, unnest(f.settings) AS category
            UNION ALL SELECT 'group_based', f.group_based WHERE f.group_based = 'yes'
            UNION ALL SELECT 'ofsted_class', f.ofsted_class WHERE f.ofsted_class <> ''
        ) fact
        WHERE r.submitted_at >= %s AND r.submitted_at < %s
        GROUP BY 1, 2, 3, 4
    """  # noqa: S608 - as above
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end])
        fetched = cursor.fetchall()
    found: list[Series] = []
    for dimension in FACT_DIMENSIONS:
        rows: list[tuple[date, tuple[str, ...], int]] = [
            (week, (region, category), count) for week, region, kind, category, count in fetched if kind == dimension
        ]
        found.extend(_assemble("facts", weeks, rows, ("region", dimension)))
    return found


def lateness_series(weeks: Weeks) -> list[Series]:
    """Referrals to local authorities per authority x outcome class, by the week the deadline fell in: one
    query (a row per week and authority, a column per class)."""
    start, end = _bounds(weeks)
    table = Referral._meta.db_table
    sql = f"""
        SELECT week, la.gss_code, sum(ack_late)::int, sum(outcome_late)::int
        FROM (
            SELECT {_bucket("ref.ack_due_at")} AS week, ref.authority_id,
                   (ref.acknowledged_at IS NULL OR ref.acknowledged_at > ref.ack_due_at)::int AS ack_late,
                   0 AS outcome_late
            FROM {table} ref
            WHERE ref.authority_id IS NOT NULL AND ref.ack_due_at >= %s AND ref.ack_due_at < %s
              AND (ref.withdrawn_at IS NULL OR ref.withdrawn_at > ref.ack_due_at)
            UNION ALL
            SELECT {_bucket("ref.outcome_due_at")}, ref.authority_id, 0,
                   (ref.outcome_at IS NULL OR ref.outcome_at > ref.outcome_due_at)::int
            FROM {table} ref
            WHERE ref.authority_id IS NOT NULL AND ref.outcome_due_at >= %s AND ref.outcome_due_at < %s
              AND (ref.withdrawn_at IS NULL OR ref.withdrawn_at > ref.outcome_due_at)
        ) due
        JOIN {LocalAuthority._meta.db_table} la ON la.id = due.authority_id
        GROUP BY 1, 2
    """  # noqa: S608 - as above
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end, start, end])
        fetched = cursor.fetchall()
    rows: list[tuple[date, tuple[str, ...], int]] = []
    for week, gss, ack_late, outcome_late in fetched:
        rows.append((week, (gss, ACK_LATE), ack_late))
        rows.append((week, (gss, OUTCOME_LATE), outcome_late))
    return _assemble("lateness", weeks, rows, ("authority", "outcome_class"))


@dataclass(frozen=True)
class StandardLateness:
    authority: str  # GSS code
    referrals: int
    late: int


def standard_lateness(first: date, end: date) -> list[StandardLateness]:
    """Per authority, the referrals made on the days ``first`` to ``end`` (exclusive) whose 1 working day has
    passed by ``end``, and how many were acknowledged after it or not at all: one query, the calendar's due
    day for each referral day given to it as a table (a row per day, not per referral)."""
    days: list[tuple[date, date]] = []
    day = first
    while day < end:
        due = nth_working_day_after(day, 1)
        if due < end:
            days.append((day, due))
        day += timedelta(days=1)
    if not days:
        return []
    values = ", ".join(["(%s::date, %s::date)"] * len(days))
    sql = f"""
        SELECT la.gss_code, count(*)::int,
               count(*) FILTER (
                   WHERE ref.acknowledged_at IS NULL
                      OR (ref.acknowledged_at AT TIME ZONE '{LONDON}')::date > due.due_day
               )::int
        FROM {Referral._meta.db_table} ref
        JOIN (VALUES {values}) AS due (referred_day, due_day)
          ON due.referred_day = (ref.referred_at AT TIME ZONE '{LONDON}')::date
        JOIN {LocalAuthority._meta.db_table} la ON la.id = ref.authority_id
        WHERE ref.authority_id IS NOT NULL
          AND (ref.withdrawn_at IS NULL OR (ref.withdrawn_at AT TIME ZONE '{LONDON}')::date > due.due_day)
        GROUP BY 1
        ORDER BY 1
    """  # noqa: S608 - as above
    params: list[Any] = [value for pair in days for value in pair]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [StandardLateness(gss, total, late) for gss, total, late in cursor.fetchall()]

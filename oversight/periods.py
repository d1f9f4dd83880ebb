"""The periods statistics are published for: whole calendar quarters and whole calendar years, nothing else.

Free date ranges would let a reader subtract one overlapping range from another and recover a count that
each range hides. Quarters and years form a hierarchy instead: periods never overlap unless one holds the
other, and a year is exactly the sum of its four quarters. So a year and its quarters are suppressed
together (``publish_year``), with "the year is the sum of its quarters" as extra lines of the same
equations, and whichever of the five a partnership looks at, it is one of the same five consistent tables.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from oversight import suppression
from oversight.suppression import Hidden, Line, Table, suppress_together

QUARTER_MONTHS = ("January to March", "April to June", "July to September", "October to December")
PERIOD_PATTERN = re.compile(r"(?P<year>[0-9]{4})(?:-Q(?P<quarter>[1-4]))?")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar year (``quarter`` None) or one of its quarters."""

    year: int
    quarter: int | None = None

    @property
    def slug(self) -> str:
        """How the period is written in the address: ``2025`` or ``2025-Q2``."""
        return str(self.year) if self.quarter is None else f"{self.year}-Q{self.quarter}"

    @property
    def label(self) -> str:
        if self.quarter is None:
            return f"January to December {self.year}"
        return f"{QUARTER_MONTHS[self.quarter - 1]} {self.year}"

    @property
    def short_label(self) -> str:
        return str(self.year) if self.quarter is None else f"{self.year} Q{self.quarter}"

    @property
    def start(self) -> date:
        return date(self.year, 1 if self.quarter is None else 3 * self.quarter - 2, 1)

    @property
    def end(self) -> date:
        """The first day after the period."""
        if self.quarter is None or self.quarter == 4:
            return date(self.year + 1, 1, 1)
        return date(self.year, 3 * self.quarter + 1, 1)

    @property
    def year_period(self) -> Period:
        return Period(self.year)

    def quarters(self) -> list[Period]:
        return [Period(self.year, q) for q in range(1, 5)] if self.quarter is None else [self]


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def period_parse(text: str) -> Period | None:
    """``2025`` or ``2025-Q2``; None for anything else."""
    match = PERIOD_PATTERN.fullmatch(text)
    if match is None:
        return None
    quarter = match.group("quarter")
    return Period(int(match.group("year")), int(quarter) if quarter else None)


def periods_allowed(*, first_month: date | None, today: date) -> list[Period]:
    """Every year and quarter from the first month with data (this quarter when there is none) to today,
    newest first, each year before its quarters."""
    first = first_month if first_month is not None and first_month <= today else today
    periods = []
    for year in range(today.year, first.year - 1, -1):
        periods.append(Period(year))
        last_quarter = quarter_of(today) if year == today.year else 4
        first_quarter = quarter_of(first) if year == first.year else 1
        periods += [Period(year, q) for q in range(last_quarter, first_quarter - 1, -1)]
    return periods


@dataclass(frozen=True)
class Measure:
    """One table's counts for each quarter of a year. Unless ``columns_are_quarters`` (a table of
    counts by quarter), every quarter has the same columns and the year's counts are their sum."""

    slug: str
    title: str
    row_labels: list[str]
    column_labels: list[str]
    quarter_counts: list[list[list[int]]]  # [quarter - 1][row][column]
    columns_are_quarters: bool = False


@dataclass(frozen=True)
class Rollup:
    """A measure whose rows add up rows of another, column by column (regions of authorities, say):
    row ``i`` of ``summary`` is the sum of the rows ``groups[i]`` of ``detail``, and the two tables' total
    rows are the same figures. Suppressed together, so that no hidden figure of the detail can be worked
    out from the sums."""

    detail: str
    summary: str
    groups: tuple[tuple[int, ...], ...]


# Where a figure is in a measure's table: (slug, row, column), -1 for the totals' row or column.
Figure = tuple[str, int, int]
# Two figures of different measures that are the same number in every period (the cases not known in a
# table by category, and the not known column's total of the completeness table of that field, say).
SameFigure = tuple[Figure, Figure]


def _year_counts(measure: Measure) -> list[list[int]]:
    if measure.columns_are_quarters:
        return [[quarter[r][0] for quarter in measure.quarter_counts] for r in range(len(measure.row_labels))]
    return [
        [sum(quarter[r][c] for quarter in measure.quarter_counts) for c in range(len(measure.column_labels))]
        for r in range(len(measure.row_labels))
    ]


class SuppressionStore(Protocol):
    """Somewhere every process can read what a year's tables hide, by a digest of their figures
    (``oversight.stored.DatabaseStore``: the workers fill it after each refresh of the summary views)."""

    def get(self, digest: str) -> Hidden | None: ...

    def put(self, digest: str, hidden: Hidden) -> None: ...


# What a year's tables hide follows from their figures, the sums between them (built here) and the rule
# (oversight.suppression): a stored answer is kept under a digest of all of them, so that new figures or a
# changed rule never read an old one.
RULE = hashlib.sha256(Path(suppression.__file__).read_bytes() + Path(__file__).read_bytes()).hexdigest()


def year_digest(
    measures: list[Measure],
    *,
    year: int,
    shared_row_totals: tuple[tuple[str, str], ...],
    rollups: tuple[Rollup, ...],
    same_figures: tuple[SameFigure, ...] = (),
) -> str:
    """The digest of everything ``publish_year`` suppresses a year from (labels aside: they hide nothing)."""
    figures = [(m.slug, m.columns_are_quarters, len(m.column_labels), m.quarter_counts) for m in measures]
    sums: tuple[object, ...] = (shared_row_totals, [(r.detail, r.summary, r.groups) for r in rollups])
    if same_figures:  # only when given, so that the digests of years stored before them stand
        sums = (*sums, same_figures)
    return hashlib.sha256(repr((RULE, year, figures, sums)).encode()).hexdigest()


def publish_year(
    measures: list[Measure],
    *,
    year: int,
    shared_row_totals: tuple[tuple[str, str], ...] = (),
    rollups: tuple[Rollup, ...] = (),
    store: SuppressionStore | None = None,
    same_figures: tuple[SameFigure, ...] = (),
) -> dict[tuple[str, Period], Table]:
    """Every measure's table for the year and for each of its quarters, suppressed together.

    ``shared_row_totals`` names pairs of measures whose row totals (and grand totals) are the same
    numbers, such as referrals by acknowledgement and the same referrals by outcome: a total one table
    hides must not be printed by the other. ``rollups`` names measures whose rows add up another's rows
    (``Rollup``): each summary figure is the sum of its group's figures, in every period, the row total
    included, and the two tables' total rows are the same figures. ``same_figures`` names single figures
    of two measures that are the same number in every period.

    With a ``store``, what these figures hide is read from it when it holds it (without even setting up
    the sums: a national year's are some 50,000 numbers), else worked out and kept in it."""
    tables, index = _year_tables(measures, year)
    digest = ""
    if store is not None:
        digest = year_digest(
            measures, year=year, shared_row_totals=shared_row_totals, rollups=rollups, same_figures=same_figures
        )
        found = store.get(digest)
        if found is not None and len(found) == len(tables):
            for table, (primary, secondary) in zip(tables, found, strict=True):
                table.primary, table.secondary = set(primary), set(secondary)
            return {key: tables[i] for key, i in index.items()}
    links = _year_links(measures, year, tables, index, shared_row_totals, rollups)
    suppress_together(tables, links + _same_links(year, tables, index, same_figures))
    if store is not None:
        store.put(digest, tuple((frozenset(t.primary), frozenset(t.secondary)) for t in tables))
    return {key: tables[i] for key, i in index.items()}


def _year_tables(measures: list[Measure], year: int) -> tuple[list[Table], dict[tuple[str, Period], int]]:
    """Each measure's four quarters' tables and the year's, and where each is among them."""
    tables: list[Table] = []
    index: dict[tuple[str, Period], int] = {}
    for measure in measures:
        for q, counts in enumerate(measure.quarter_counts, start=1):
            columns = [measure.column_labels[q - 1]] if measure.columns_are_quarters else list(measure.column_labels)
            index[(measure.slug, Period(year, q))] = len(tables)
            tables.append(
                Table(row_labels=list(measure.row_labels), column_labels=columns, counts=[list(r) for r in counts])
            )
        index[(measure.slug, Period(year))] = len(tables)
        tables.append(
            Table(
                row_labels=list(measure.row_labels),
                column_labels=list(measure.column_labels),
                counts=_year_counts(measure),
            )
        )
    return tables, index


def _year_links(
    measures: list[Measure],
    year: int,
    tables: list[Table],
    index: dict[tuple[str, Period], int],
    shared_row_totals: tuple[tuple[str, str], ...],
    rollups: tuple[Rollup, ...],
) -> list[Line]:
    """The sums that hold between the tables: the year of its quarters, shared row totals, roll-ups."""
    links: list[Line] = []
    for measure in measures:
        n_rows, n_cols = len(measure.row_labels), len(measure.column_labels)
        whole = index[(measure.slug, Period(year))]
        parts = [index[(measure.slug, Period(year, q))] for q in range(1, 5)]
        if measure.columns_are_quarters:
            # The year's column for a quarter is that quarter's only column.
            for q, part in enumerate(parts):
                links += [([(part, r, 0)], (whole, r, q)) for r in range(n_rows + 1)]
        else:
            links += [
                ([(part, r, c) for part in parts], (whole, r, c)) for r in range(n_rows + 1) for c in range(n_cols + 1)
            ]
    by_slug = {measure.slug: measure for measure in measures}
    for first, second in shared_row_totals:
        for period in [Period(year), *Period(year).quarters()]:
            a, b = index[(first, period)], index[(second, period)]
            a_cols, b_cols = tables[a].n_cols, tables[b].n_cols
            links += [([(a, r, a_cols)], (b, r, b_cols)) for r in range(len(by_slug[first].row_labels) + 1)]
    for rollup in rollups:
        detail_rows, summary_rows = len(by_slug[rollup.detail].row_labels), len(by_slug[rollup.summary].row_labels)
        for period in [Period(year), *Period(year).quarters()]:
            d, s = index[(rollup.detail, period)], index[(rollup.summary, period)]
            for c in range(tables[d].n_cols + 1):
                links += [([(d, r, c) for r in group], (s, g, c)) for g, group in enumerate(rollup.groups)]
                links.append(([(d, detail_rows, c)], (s, summary_rows, c)))
    return links


def _same_links(
    year: int, tables: list[Table], index: dict[tuple[str, Period], int], same_figures: tuple[SameFigure, ...]
) -> list[Line]:
    """Each pair of same figures as a line of one figure and its "sum", in the year and each quarter."""
    links: list[Line] = []
    for period in [Period(year), *Period(year).quarters()]:
        cells = []
        for (slug_a, row_a, col_a), (slug_b, row_b, col_b) in same_figures:
            a, b = index[(slug_a, period)], index[(slug_b, period)]
            cells.append(((a, *_position(tables[a], row_a, col_a)), (b, *_position(tables[b], row_b, col_b))))
        links += [([first], second) for first, second in cells]
    return links


def _position(table: Table, row: int, column: int) -> tuple[int, int]:
    return (table.n_rows if row < 0 else row, table.n_cols if column < 0 else column)

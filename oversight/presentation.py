"""What the statistics page and its CSV show, worked out once for both from the published (suppressed)
tables, so that the two always agree:

* authorities with no referrals in the period are named once ("Authorities with no referrals in this
  period: …"), not given a row of zeros in each table by authority;
* a table with one column does not repeat it as a "Total" column (the two would be the same figures);
* national oversight's tables by region come first, before the chart and the tables by authority.

Nothing here works out or uncovers a figure. Every figure shown is one the suppressed table publishes, in
the same words ("fewer than 5", "hidden"); a row is left out only when its published total is 0, which
already says that every figure in it is 0 (counts are never negative), and a table's "Total" column is
left out only when it repeats the table's one column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from oversight.picture import COMPLETENESS_TITLE, completeness_rows, is_completeness
from oversight.suppression import LEGEND, SUPPRESSED, Table

AUTHORITY_TABLES = ("acknowledgements", "outcome-timeliness")
REGION_TABLES = ("acknowledgements-by-region", "outcome-timeliness-by-region")
NO_REFERRALS = "Authorities with no referrals in this period"
NO_ROWS = "No referrals in this period."
TOTAL = "Total"


@dataclass(frozen=True)
class ShownTable:
    slug: str
    title: str
    columns: list[str]  # the headings of the figures, "Total" last when the table has more than one column
    rows: list[tuple[str, list[str]]]  # (label, figures), rows of nothing but zeros left out
    total: list[str]  # the figures of the "Total" row


@dataclass(frozen=True)
class Shown:
    regions: list[ShownTable]  # national oversight's tables by region (none for a partnership)
    no_referrals: list[str]  # the authorities left out of the tables by authority, in the tables' order
    tables: list[ShownTable]  # the tables by authority, then the others

    def table(self, slug: str) -> ShownTable:
        return next(table for table in [*self.regions, *self.tables] if table.slug == slug)


def _one(figure: str, total: str) -> str:
    """A one-column table's figure: its row total is the same count, suppressed alike; should the two
    ever differ, the suppressed one is shown."""
    if figure == total or figure in SUPPRESSED:
        return figure
    return total if total in SUPPRESSED else figure


def _shown_table(slug: str, title: str, table: Table, leave_out: set[str]) -> ShownTable:
    single = table.n_cols == 1
    rows = [
        (label, [_one(cells[0], total)] if single else [*cells, total])
        for label, cells, total in table.rows()
        if label not in leave_out
    ]
    totals, grand = table.totals(), table.grand_total_text()
    return ShownTable(
        slug=slug,
        title=title,
        columns=list(table.column_labels) if single else [*table.column_labels, TOTAL],
        rows=rows,
        total=[_one(totals[0], grand)] if single else [*totals, grand],
    )


def _order(slug: str) -> int:
    first = (*REGION_TABLES, *AUTHORITY_TABLES)
    return first.index(slug) if slug in first else len(first)


def statistics_shown(tables: Sequence[tuple[str, str, Table]]) -> Shown:
    """The tables as shown: by region first (national oversight only), then by authority without the
    authorities that have no referrals (named once instead), then the rest in their order."""
    by_authority = [table for slug, _, table in tables if slug in AUTHORITY_TABLES]
    # Both tables by authority count the same referrals (they share their row totals): an authority is
    # left out only where every one of them publishes a total of 0.
    zero = [{label for label, _, total in table.rows() if total == "0"} for table in by_authority]
    leave_out = set.intersection(*zero) if zero else set()
    no_referrals = [label for label in by_authority[0].row_labels if label in leave_out] if by_authority else []
    shown = [
        _shown_table(slug, title, table, leave_out if slug in AUTHORITY_TABLES else set())
        for slug, title, table in sorted(tables, key=lambda entry: _order(entry[0]))
        if not is_completeness(slug)
    ]
    # The completeness of the national picture's record (oversight.picture): one table of shares, last.
    completeness = completeness_rows(tables)
    if completeness is not None:
        shown.append(
            ShownTable(
                slug="completeness",
                title=COMPLETENESS_TITLE,
                columns=completeness.columns,
                rows=completeness.rows,
                total=completeness.total,
            )
        )
    return Shown(
        regions=[table for table in shown if table.slug in REGION_TABLES],
        no_referrals=no_referrals,
        tables=[table for table in shown if table.slug not in REGION_TABLES],
    )


def statistics_csv_rows(heading: str, shown: Shown) -> list[list[str]]:
    """The CSV of the page, in the page's order and words (the chart aside): the tables by region, the
    authorities with no referrals named once, then the other tables, each with its "Total" row."""
    rows: list[list[str]] = [[heading, LEGEND]]
    rows += _csv_tables(shown.regions)
    if shown.no_referrals:
        rows += [[], [NO_REFERRALS], *([label] for label in shown.no_referrals)]
    rows += _csv_tables(shown.tables)
    return rows


def _csv_tables(tables: list[ShownTable]) -> list[list[str]]:
    rows: list[list[str]] = []
    for table in tables:
        rows += [[], [table.title]]
        if not table.rows:
            rows.append([NO_ROWS])
            continue
        rows.append(["", *table.columns])
        rows += [[label, *figures] for label, figures in table.rows]
        rows.append([TOTAL, *table.total])
    return rows

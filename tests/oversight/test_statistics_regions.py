"""National oversight's roll-up by region: each region's acknowledgements and outcomes, added up from its
authorities and suppressed together with them, so that no region's figure lets a reader subtract their
way to an authority's hidden one — whichever periods of the year they hold side by side."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from django.db.models import F
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accounts.models import User
from directory.models import LocalAuthority
from oversight import selectors
from oversight.suppression import FEWER, SUPPRESSED, Table, suppress
from referrals.models import Referral
from tests.factories import partnership_of_region, signed_in_as
from tests.fuzzing import examples
from tests.oversight.helpers import (
    MANCHESTER,
    ROTHERHAM,
    SHEFFIELD,
    YORKSHIRE,
    csv_rows,
    csv_sections,
    page_tables,
    referred_case,
)

BOLTON = "E08000001"
NORTH_WEST = "North West"
REGIONS = [
    "East Midlands",
    "East of England",
    "London",
    "North East",
    "North West",
    "South East",
    "South West",
    "West Midlands",
    "Yorkshire and The Humber",
]
YEAR = 2025

# --- the reader: every published figure of a year, and every sum that holds between them ----------------

Key = tuple[str, str]  # (table, period)
Figure = tuple[Key, int, int]  # a figure of a table's grid with totals: (table, row, column)
Term = tuple[Figure, int]


def grid_sums(key: Key, table: Table) -> list[list[Term]]:
    """Each row and column of the grid with totals adds up to its total."""
    sums = [
        [*(((key, r, c), 1) for c in range(table.n_cols)), ((key, r, table.n_cols), -1)]
        for r in range(table.n_rows + 1)
    ]
    sums += [
        [*(((key, r, c), 1) for r in range(table.n_rows)), ((key, table.n_rows, c), -1)]
        for c in range(table.n_cols + 1)
    ]
    return sums


def year_sums(slug: str, tables: dict[Key, Table], year: str, quarters: list[str]) -> list[list[Term]]:
    """Each figure of the year is the sum of the same figure in its four quarters."""
    whole = tables[(slug, year)]
    return [
        [*(((((slug, q), r, c)), 1) for q in quarters), (((slug, year), r, c), -1)]
        for r in range(whole.n_rows + 1)
        for c in range(whole.n_cols + 1)
    ]


def region_sums(
    tables: dict[Key, Table], detail: str, summary: str, groups: list[list[int]], periods: list[str]
) -> list[list[Term]]:
    """Each region's figure is the sum of its authorities'; the two tables' totals are the same figures."""
    sums: list[list[Term]] = []
    for period in periods:
        d, s = tables[(detail, period)], tables[(summary, period)]
        for c in range(d.n_cols + 1):
            for g, rows in enumerate(groups):
                sums.append([*((((detail, period), r, c), 1) for r in rows), (((summary, period), g, c), -1)])
            sums.append([(((detail, period), d.n_rows, c), 1), (((summary, period), s.n_rows, c), -1)])
    return sums


def worked_out(tables: dict[Key, Table], sums: list[list[Term]]) -> list[Figure]:
    """The hidden figures a reader pins down exactly by adding and subtracting published ones: in the
    reduced row echelon form of the sums (published figures are constants, hidden ones unknowns), a row
    with a single non-zero entry names one."""
    unknown = [
        (key, r, c)
        for key, t in tables.items()
        for r in range(t.n_rows + 1)
        for c in range(t.n_cols + 1)
        if t.text(r, c) in SUPPRESSED
    ]
    position = {figure: i for i, figure in enumerate(unknown)}
    matrix: list[list[Fraction]] = []
    for terms in sums:
        row = [Fraction(0)] * len(unknown)
        for figure, sign in terms:
            if figure in position:
                row[position[figure]] += sign
        if any(row):
            matrix.append(row)
    pivots: list[int] = []
    done = 0
    for col in range(len(unknown)):
        pivot = next((i for i in range(done, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[done], matrix[pivot] = matrix[pivot], matrix[done]
        lead = matrix[done][col]
        matrix[done] = [v / lead for v in matrix[done]]
        for i in range(len(matrix)):
            if i != done and matrix[i][col] != 0:
                factor = matrix[i][col]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[done], strict=True)]
        pivots.append(col)
        done += 1
    return [unknown[col] for row, col in enumerate(pivots) if sum(v != 0 for v in matrix[row]) == 1]


# --- the roll-up, on its own ----------------------------------------------------------------------------


def publish(quarter_counts: list[list[list[int]]], groups: list[list[int]]) -> dict[Key, Table]:
    """An authority table and its roll-up by region, for a year and its quarters, published together."""
    from oversight.periods import Measure, Rollup, publish_year

    n_cols = len(quarter_counts[0][0])
    authorities = Measure(
        slug="authorities",
        title="by authority",
        row_labels=[f"authority {r}" for r in range(len(quarter_counts[0]))],
        column_labels=[f"column {c}" for c in range(n_cols)],
        quarter_counts=quarter_counts,
    )
    regions = Measure(
        slug="regions",
        title="by region",
        row_labels=[f"region {g}" for g in range(len(groups))],
        column_labels=list(authorities.column_labels),
        quarter_counts=[
            [[sum(quarter[r][c] for r in rows) for c in range(n_cols)] for rows in groups] for quarter in quarter_counts
        ],
    )
    rollup = Rollup(detail="authorities", summary="regions", groups=tuple(tuple(rows) for rows in groups))
    published = publish_year([authorities, regions], year=YEAR, rollups=(rollup,))
    return {(slug, period.slug): published[(slug, period)] for slug, period in published}


def reader_sums(tables: dict[Key, Table], groups: list[list[int]]) -> list[list[Term]]:
    year, quarters = str(YEAR), [f"{YEAR}-Q{q}" for q in range(1, 5)]
    sums = [s for key, t in tables.items() for s in grid_sums(key, t)]
    for slug in ("authorities", "regions"):
        sums += year_sums(slug, tables, year, quarters)
    return sums + region_sums(tables, "authorities", "regions", groups, [year, *quarters])


# Two regions: authorities 0 and 1, and 2 and 3. In the fourth quarter authority 1 acknowledged 2 on time
# and authority 3 three; authorities 0 and 2 six and seven. Published on their own, the authority table
# shows 6 and 7 and hides the 2 and the 3 (their column's total of 18 cannot split them); a region's sum
# beside it (8 = 6 + the hidden 2) would give the 2 away.
LEAKY = [[[0, 0], [0, 0], [0, 0], [0, 0]]] * 3 + [[[6, 0], [2, 0], [7, 0], [3, 0]]]
LEAKY_GROUPS = [[0, 1], [2, 3]]


def test_a_region_added_up_beside_a_table_suppressed_on_its_own_gives_a_hidden_figure_away() -> None:
    """The check below can fail: the authority table suppressed on its own, and the region's sum printed
    beside it, as a roll-up computed after suppression would be."""
    alone = suppress(Table(row_labels=list("abcd"), column_labels=["x", "y"], counts=[list(r) for r in LEAKY[3]]))
    assert alone.text(1, 0) == FEWER and alone.text(0, 0) == "6"
    regions = Table(row_labels=["r0", "r1"], column_labels=["x", "y"], counts=[[8, 0], [10, 0]])  # nothing hidden
    tables = {("authorities", "Q4"): alone, ("regions", "Q4"): regions}
    sums = [s for key, t in tables.items() for s in grid_sums(key, t)]
    sums += region_sums(tables, "authorities", "regions", LEAKY_GROUPS, ["Q4"])

    assert (("authorities", "Q4"), 1, 0) in worked_out(tables, sums)


def test_a_region_suppressed_with_its_authorities_gives_nothing_away() -> None:
    published = publish(LEAKY, LEAKY_GROUPS)

    q4 = published[("authorities", f"{YEAR}-Q4")]
    assert q4.text(1, 0) == FEWER
    assert worked_out(published, reader_sums(published, LEAKY_GROUPS)) == []
    # The region of the hidden 2 is not printed beside its authorities' other figures.
    regions = published[("regions", f"{YEAR}-Q4")]
    assert regions.text(0, 0) in SUPPRESSED or q4.text(0, 0) in SUPPRESSED


year_counts = st.tuples(st.integers(2, 5), st.integers(1, 3)).flatmap(
    lambda shape: st.tuples(
        st.lists(
            st.lists(
                st.lists(st.sampled_from([0, 0, 1, 2, 4, 5, 6, 9, 13]), min_size=shape[1], max_size=shape[1]),
                min_size=shape[0],
                max_size=shape[0],
            ),
            min_size=4,
            max_size=4,
        ),
        st.lists(st.integers(0, 1), min_size=shape[0], max_size=shape[0]),
    )
)


@pytest.mark.slow
@pytest.mark.isolated
@settings(max_examples=examples(60), deadline=None)
@given(year_counts)
@example((LEAKY, [0, 0, 1, 1]))
def test_no_combination_of_regions_authorities_and_periods_reveals_a_hidden_figure(
    data: tuple[list[list[list[int]]], list[int]],
) -> None:
    """Authorities in one or two regions, a year and its quarters: a reader holding every table, with
    every sum between them, still pins down no hidden figure; every count from 1 to 4 is still "fewer
    than 5", in the regions too."""
    counts, region_of = data
    groups = [rows for rows in ([r for r, g in enumerate(region_of) if g == n] for n in (0, 1)) if rows]
    published = publish(counts, groups)

    assert worked_out(published, reader_sums(published, groups)) == [], data
    for key, t in published.items():
        for r in range(t.n_rows):
            for c in range(t.n_cols):
                if 0 < t.counts[r][c] < 5:
                    assert t.text(r, c) == FEWER, (key, r, c)


# --- the pages ------------------------------------------------------------------------------------------


def acknowledged_on_time(code: str, count: int) -> None:
    cases = [referred_case(code) for _ in range(count)]
    Referral.objects.filter(case__in=[c.pk for c in cases]).update(acknowledged_at=F("ack_due_at") - timedelta(hours=1))


@pytest.mark.slow
@pytest.mark.isolated
@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_national_oversight_sees_each_regions_figures_and_a_board_does_not() -> None:
    acknowledged_on_time(ROTHERHAM, 6)
    acknowledged_on_time(SHEFFIELD, 5)
    acknowledged_on_time(MANCHESTER, 7)
    selectors.stats_refresh()
    analyst, _ = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    board, _ = signed_in_as(User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))

    response = analyst.get("/staff/statistics")

    assert sorted(set(LocalAuthority.objects.values_list("region", flat=True))) == REGIONS
    by_region = page_tables(response)["acknowledgements-by-region"]
    assert by_region[0] == [
        "",
        "Acknowledged on time",
        "Acknowledged late",
        "Not acknowledged, overdue",
        "Awaiting acknowledgement",
        "Total",
    ]
    rows = {row[0]: row[1:] for row in by_region[1:]}
    assert list(rows) == [*REGIONS, "Total"]
    assert rows[YORKSHIRE] == ["11", "0", "0", "0", "11"]
    assert rows[NORTH_WEST] == ["7", "0", "0", "0", "7"]
    assert rows["London"] == ["0", "0", "0", "0", "0"]
    assert rows["Total"] == ["18", "0", "0", "0", "18"]
    outcomes = {row[0]: row[1:] for row in page_tables(response)["outcome-timeliness-by-region"][1:]}
    assert outcomes[YORKSHIRE][-1] == "11"
    # First on the page, before the chart and the tables by authority; and in the CSV, in the same words.
    body = response.content.decode()
    assert body.index('id="acknowledgements-by-region"') < body.index('data-testid="ack-chart"')
    assert body.index('id="outcome-timeliness-by-region"') < body.index('id="acknowledgements"')
    sections = csv_sections(csv_rows(analyst.get("/staff/statistics.csv")))
    assert sections["Acknowledgement of referrals, by region"] == by_region
    assert list(sections)[:2] == [
        "Acknowledgement of referrals, by region",
        "Outcomes within 45 working days, by region",
    ]
    # A board sees its own authorities only: no other region, no roll-up.
    seen_by_board = board.get("/staff/statistics")
    assert "acknowledgements-by-region" not in page_tables(seen_by_board)
    assert NORTH_WEST not in seen_by_board.content.decode()
    assert "by region" not in board.get("/staff/statistics.csv").content.decode()


@pytest.mark.slow
@pytest.mark.isolated
@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_no_region_on_the_national_page_gives_an_authoritys_hidden_figure_away() -> None:
    """Yorkshire: Rotherham 6 and Sheffield 2 acknowledged on time; the North West: Manchester 7 and Bolton
    3. The 2 and the 3 are "fewer than 5"; had Yorkshire's 8 been printed beside Rotherham's 6, the 2
    would be out. A reader with every period of the year on offer, the regions and the authorities, and
    every sum between them, pins down nothing hidden."""
    acknowledged_on_time(ROTHERHAM, 6)
    acknowledged_on_time(SHEFFIELD, 2)
    acknowledged_on_time(MANCHESTER, 7)
    acknowledged_on_time(BOLTON, 3)
    selectors.stats_refresh()
    analyst, user = signed_in_as(User.Role.OVERSIGHT_ANALYST)
    assert analyst.get("/staff/statistics").status_code == 200

    year = timezone.localdate().year
    periods = [str(year), *(f"{year}-Q{q}" for q in range(1, 5))]
    from oversight.periods import period_parse

    tables: dict[Key, Table] = {}
    for slug in periods:
        period = period_parse(slug)
        assert period is not None
        for table_slug, _, table in selectors.statistics_tables(selectors.scope_for(user), period=period):
            tables[(table_slug, slug)] = table
    quarter = f"{year}-Q{(timezone.localdate().month - 1) // 3 + 1}"
    authorities = tables[("acknowledgements", quarter)]
    regions = tables[("acknowledgements-by-region", quarter)]
    names = authorities.row_labels
    region_of = dict(LocalAuthority.objects.values_list("name", "region"))
    groups = [[r for r, name in enumerate(names) if region_of[name] == region] for region in REGIONS]
    assert regions.row_labels == REGIONS

    sheffield, rotherham = names.index("Sheffield"), names.index("Rotherham")
    assert authorities.text(sheffield, 0) == FEWER
    assert regions.text(REGIONS.index(YORKSHIRE), 0) in SUPPRESSED or authorities.text(rotherham, 0) in SUPPRESSED

    sums = [s for key, t in tables.items() for s in grid_sums(key, t)]
    for slug in (
        "acknowledgements",
        "outcome-timeliness",
        "acknowledgements-by-region",
        "outcome-timeliness-by-region",
    ):
        sums += year_sums(slug, tables, str(year), periods[1:])
    for detail in ("acknowledgements", "outcome-timeliness"):
        sums += region_sums(tables, detail, f"{detail}-by-region", groups, periods)
    # The two tables of each kind count the same referrals: their row totals are the same figures.
    for first, second in (
        ("acknowledgements", "outcome-timeliness"),
        ("acknowledgements-by-region", "outcome-timeliness-by-region"),
    ):
        for period in periods:
            a, b = tables[(first, period)], tables[(second, period)]
            sums += [
                [(((first, period), r, a.n_cols), 1), (((second, period), r, b.n_cols), -1)]
                for r in range(a.n_rows + 1)
            ]
    assert worked_out(tables, sums) == []

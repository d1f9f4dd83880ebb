"""Statistics for whole quarters and whole years only, suppressed a year at a time: no combination of the
periods on offer gives a hidden figure away, whichever of them a reader puts side by side."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from oversight.periods import Measure, Period, period_parse, periods_allowed, publish_year
from oversight.suppression import FEWER, SUPPRESSED, Table, suppress
from tests.fuzzing import examples

YEAR = 2025
QUARTERS = [Period(YEAR, q) for q in range(1, 5)]
ALL = [*QUARTERS, Period(YEAR)]

# --- which periods exist --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period"),
    [("2025", Period(2025)), ("2025-Q1", Period(2025, 1)), ("2024-Q4", Period(2024, 4))],
)
def test_a_year_or_a_quarter_is_read_from_the_address(text: str, period: Period) -> None:
    assert period_parse(text) == period
    assert period.slug == text


@pytest.mark.parametrize("text", ["", "2025-Q5", "2025-Q0", "2025-03", "2025-01-01..2025-06-30", "25", "2025Q1", "x"])
def test_anything_but_a_year_or_a_quarter_is_refused(text: str) -> None:
    assert period_parse(text) is None


def test_the_periods_on_offer_run_from_the_first_data_to_today_in_whole_years_and_quarters() -> None:
    offered = periods_allowed(first_month=date(2024, 8, 1), today=date(2025, 5, 14))

    assert [p.slug for p in offered] == ["2025", "2025-Q2", "2025-Q1", "2024", "2024-Q4", "2024-Q3"]
    assert periods_allowed(first_month=None, today=date(2025, 5, 14)) == [Period(2025), Period(2025, 2)]


def test_a_quarter_covers_three_whole_months_and_a_year_twelve() -> None:
    assert (Period(2025, 4).start, Period(2025, 4).end) == (date(2025, 10, 1), date(2026, 1, 1))
    assert (Period(2025, 2).start, Period(2025, 2).end) == (date(2025, 4, 1), date(2025, 7, 1))
    assert (Period(2025).start, Period(2025).end) == (date(2025, 1, 1), date(2026, 1, 1))
    assert Period(2025).quarters() == QUARTERS


# --- the reader who holds every period of a year --------------------------------------------------------

Unknown = tuple[Period, int, int]  # a hidden figure: (period, row, column) in the grid with totals


def figure(t: Table, r: int, c: int) -> str:
    return t.text(r, c)


def unknowns(tables: dict[Period, Table]) -> list[Unknown]:
    return [
        (period, r, c)
        for period, t in tables.items()
        for r in range(t.n_rows + 1)
        for c in range(t.n_cols + 1)
        if figure(t, r, c) in SUPPRESSED
    ]


def equations(tables: dict[Period, Table], variables: list[Unknown]) -> list[list[Fraction]]:
    """What a reader knows: every row and column of each table adds up to its total, and each figure of
    the year is the sum of the same figure in its four quarters. Published figures are constants; only
    the hidden ones are variables."""
    position = {v: i for i, v in enumerate(variables)}
    found: list[list[Fraction]] = []

    def add(terms: list[tuple[Unknown, int]]) -> None:
        row = [Fraction(0)] * len(variables)
        for variable, sign in terms:
            if variable in position:
                row[position[variable]] += sign
        if any(row):
            found.append(row)

    for period, t in tables.items():
        for r in range(t.n_rows + 1):
            add([*(((period, r, c), 1) for c in range(t.n_cols)), ((period, r, t.n_cols), -1)])
        for c in range(t.n_cols + 1):
            add([*(((period, r, c), 1) for r in range(t.n_rows)), ((period, t.n_rows, c), -1)])
    year = tables[Period(YEAR)]
    for r in range(year.n_rows + 1):
        for c in range(year.n_cols + 1):
            add([*(((q, r, c), 1) for q in QUARTERS), ((Period(YEAR), r, c), -1)])
    return found


def worked_out(tables: dict[Period, Table]) -> list[Unknown]:
    """Hidden figures the reader can pin down exactly by adding and subtracting published ones: in the
    reduced row echelon form of the equations, a row with a single non-zero entry names one."""
    variables = unknowns(tables)
    matrix = equations(tables, variables)
    pivots: list[int] = []
    found = 0
    for col in range(len(variables)):
        pivot = next((i for i in range(found, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[found], matrix[pivot] = matrix[pivot], matrix[found]
        lead = matrix[found][col]
        matrix[found] = [value / lead for value in matrix[found]]
        for i in range(len(matrix)):
            if i != found and matrix[i][col] != 0:
                factor = matrix[i][col]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[found], strict=True)]
        pivots.append(col)
        found += 1
    return [variables[col] for row, col in enumerate(pivots) if sum(value != 0 for value in matrix[row]) == 1]


def year_published(quarter_counts: list[list[list[int]]]) -> dict[Period, Table]:
    n_cols = len(quarter_counts[0][0])
    measure = Measure(
        slug="m",
        title="m",
        row_labels=[f"row {r}" for r in range(len(quarter_counts[0]))],
        column_labels=[f"col {c}" for c in range(n_cols)],
        quarter_counts=quarter_counts,
    )
    published = publish_year([measure], year=YEAR)
    return {period: published[("m", period)] for period in ALL}


def each_period_alone(quarter_counts: list[list[list[int]]]) -> dict[Period, Table]:
    """What suppressing each period on its own would publish (what free periods amount to)."""
    year = [
        [sum(q[r][c] for q in quarter_counts) for c in range(len(quarter_counts[0][0]))]
        for r in range(len(quarter_counts[0]))
    ]
    tables = {}
    for period, counts in zip(ALL, [*quarter_counts, year], strict=True):
        tables[period] = suppress(
            Table(
                row_labels=[f"row {r}" for r in range(len(counts))],
                column_labels=[f"col {c}" for c in range(len(counts[0]))],
                counts=[list(row) for row in counts],
            )
        )
    return tables


def no_quarter_given_away_by_its_year(tables: dict[Period, Table]) -> list[tuple[int, int]]:
    """Where a year's figure is published and three of its quarters' are, the fourth must be too."""
    year = tables[Period(YEAR)]
    leaks = []
    for r in range(year.n_rows + 1):
        for c in range(year.n_cols + 1):
            hidden = [q for q in QUARTERS if figure(tables[q], r, c) in SUPPRESSED]
            if figure(year, r, c) not in SUPPRESSED and len(hidden) == 1:
                leaks.append((r, c))
    return leaks


# Rotherham acknowledged 5, 5 and 5 referrals on time in the first three quarters and 2 in the fourth:
# the year's 17 less 15 is the hidden 2.
GIVEN_AWAY = [[[5, 0]], [[5, 0]], [[5, 0]], [[2, 0]]]


def test_suppressing_each_period_on_its_own_would_let_the_year_give_a_quarter_away() -> None:
    """The check below can fail: periods suppressed one by one, as free date ranges would be, leak."""
    alone = each_period_alone(GIVEN_AWAY)

    assert figure(alone[Period(YEAR, 4)], 0, 0) == FEWER
    assert figure(alone[Period(YEAR)], 0, 0) == "17"
    assert no_quarter_given_away_by_its_year(alone) != []
    assert (Period(YEAR, 4), 0, 0) in worked_out(alone)


def test_a_year_and_its_quarters_suppressed_together_give_nothing_away() -> None:
    published = year_published(GIVEN_AWAY)

    assert figure(published[Period(YEAR, 4)], 0, 0) == FEWER
    assert no_quarter_given_away_by_its_year(published) == []
    assert worked_out(published) == []


quarter_counts = st.tuples(st.integers(1, 3), st.integers(1, 3)).flatmap(
    lambda shape: st.lists(
        st.lists(
            st.lists(st.sampled_from([0, 0, 1, 2, 4, 5, 6, 9, 13]), min_size=shape[1], max_size=shape[1]),
            min_size=shape[0],
            max_size=shape[0],
        ),
        min_size=4,
        max_size=4,
    )
)


@settings(max_examples=examples(100), deadline=None)
@given(quarter_counts)
@example(GIVEN_AWAY)
@example([[[5, 1], [6, 0]], [[5, 5], [0, 0]], [[5, 0], [0, 7]], [[3, 0], [9, 0]]])
def test_no_combination_of_a_years_periods_reveals_a_hidden_figure(counts: list[list[list[int]]]) -> None:
    """Periods are whole years and quarters, so they nest and never partly overlap: the only sums between
    them are "a year is its four quarters", and years are disjoint. A reader holding all five tables of
    a year, with every equation between them, still cannot pin down any hidden figure."""
    published = year_published(counts)

    assert no_quarter_given_away_by_its_year(published) == [], counts
    assert worked_out(published) == [], counts
    # Every count from 1 to 4 is still shown as "fewer than 5", in every period.
    for period, t in published.items():
        for r in range(t.n_rows):
            for c in range(t.n_cols):
                if 0 < t.counts[r][c] < 5:
                    assert figure(t, r, c) == FEWER, (period, r, c)


def test_two_tables_that_share_their_row_totals_hide_them_alike() -> None:
    """Referrals by acknowledgement and the same referrals by outcome have the same total per authority:
    a total one table hides must not be printed by the other."""
    ack = [[[0, 0, 0, 0], [0, 0, 0, 0]]] * 3 + [[[2, 0, 0, 0], [7, 0, 0, 0]]]
    outcome = [[[0, 0, 0, 0], [0, 0, 0, 0]]] * 3 + [[[0, 0, 0, 2], [0, 0, 0, 7]]]
    measures = [
        Measure(slug=slug, title=slug, row_labels=["a", "b"], column_labels=list("wxyz"), quarter_counts=counts)
        for slug, counts in (("ack", ack), ("outcome", outcome))
    ]
    published = publish_year(measures, year=YEAR, shared_row_totals=(("ack", "outcome"),))

    for period in ALL:
        first, second = published[("ack", period)], published[("outcome", period)]
        for r in range(3):
            assert (figure(first, r, 4) in SUPPRESSED) == (figure(second, r, 4) in SUPPRESSED), (period, r)

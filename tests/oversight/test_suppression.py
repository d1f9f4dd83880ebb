"""Small-number suppression: primary (1–4 shown as "fewer than 5"), secondary (so nothing hidden can be
worked out by subtraction), hidden small totals, and the CSV export carrying exactly what the page shows.

The subtraction attempts play the reader who has the whole published table — every visible cell, row
total, column total and the grand total — and tries to pin down a hidden value exactly."""

from __future__ import annotations

import csv
import html
import io
from fractions import Fraction
from itertools import product

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accounts.models import User
from directory.lookup import authority_by_code
from oversight import selectors
from oversight.suppression import FEWER, HIDDEN, SUPPRESSED, THRESHOLD, Table, suppress
from referrals import services as referral_services
from referrals.models import Referral
from tests.factories import partnership_of_region, sign_in, staff_user, staff_with_mfa, submit_report
from tests.fuzzing import examples
from triage.intake import report_route


def table(counts: list[list[int]]) -> Table:
    return suppress(
        Table(
            row_labels=[f"row {r}" for r in range(len(counts))],
            column_labels=[f"col {c}" for c in range(len(counts[0]))],
            counts=[list(row) for row in counts],
        )
    )


# --- the reader's view of a published table -------------------------------------------------------------

# An unknown is a hidden cell ("cell", r, c), a hidden row total ("row", r), a hidden column total
# ("col", c) or a hidden grand total ("grand",).
Unknown = tuple[object, ...]


def published(t: Table) -> dict[str, object]:
    return {
        "rows": t.rows(),
        "totals": t.totals(),
        "grand": t.grand_total_text(),
    }


def unknowns(t: Table) -> list[Unknown]:
    n_rows, n_cols = len(t.counts), len(t.column_labels)
    found: list[Unknown] = [("cell", r, c) for r in range(n_rows) for c in range(n_cols) if t.cell(r, c) in SUPPRESSED]
    found += [("row", r) for r in range(n_rows) if t.row_total_text(r) in SUPPRESSED]
    found += [("col", c) for c in range(n_cols) if t.column_total_text(c) in SUPPRESSED]
    if t.grand_total_text() in SUPPRESSED:
        found.append(("grand",))
    return found


def equations(t: Table, variables: list[Unknown]) -> list[dict[Unknown, int]]:
    """The table's additive structure, as coefficients over the unknowns (known values drop out)."""
    n_rows, n_cols = len(t.counts), len(t.column_labels)
    wanted = set(variables)

    def only(coefficients: dict[Unknown, int]) -> dict[Unknown, int]:
        return {k: v for k, v in coefficients.items() if k in wanted}

    found = []
    for r in range(n_rows):
        found.append(only({**{("cell", r, c): 1 for c in range(n_cols)}, ("row", r): -1}))
    for c in range(n_cols):
        found.append(only({**{("cell", r, c): 1 for r in range(n_rows)}, ("col", c): -1}))
    found.append(only({**{("row", r): 1 for r in range(n_rows)}, ("grand",): -1}))
    found.append(only({**{("col", c): 1 for c in range(n_cols)}, ("grand",): -1}))
    return [e for e in found if e]


def rank(rows: list[list[Fraction]]) -> int:
    matrix = [list(row) for row in rows]
    rank_found, n_cols = 0, len(matrix[0]) if matrix else 0
    for col in range(n_cols):
        pivot = next((i for i in range(rank_found, len(matrix)) if matrix[i][col] != 0), None)
        if pivot is None:
            continue
        matrix[rank_found], matrix[pivot] = matrix[pivot], matrix[rank_found]
        for i in range(len(matrix)):
            if i != rank_found and matrix[i][col] != 0:
                factor = matrix[i][col] / matrix[rank_found][col]
                matrix[i] = [a - factor * b for a, b in zip(matrix[i], matrix[rank_found], strict=True)]
        rank_found += 1
    return rank_found


def recoverable_by_subtraction(t: Table) -> list[Unknown]:
    """Hidden values pinned down by adding and subtracting published figures: an unknown is determined
    exactly when its unit vector lies in the row space of the table's equations."""
    variables = unknowns(t)
    if not variables:
        return []
    rows = [[Fraction(e.get(v, 0)) for v in variables] for e in equations(t, variables)]
    base = rank(rows) if rows else 0
    found = []
    for i, variable in enumerate(variables):
        unit = [Fraction(1 if j == i else 0) for j in range(len(variables))]
        if rank([*rows, unit]) == base:
            found.append(variable)
    return found


# --- primary suppression --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_counts_from_1_to_4_are_shown_as_fewer_than_5(count: int) -> None:
    t = table([[count, 20], [30, 40]])
    assert t.cell(0, 0) == "fewer than 5"
    assert t.rows()[0][1][0] == "fewer than 5"


@pytest.mark.parametrize("count", [0, 5, 6, 17])
def test_zero_and_counts_of_5_or_more_are_shown(count: int) -> None:
    t = table([[count, 20], [30, 40]])
    assert t.cell(0, 0) == str(count)
    assert t.hidden == set()


def test_a_table_with_nothing_small_hides_nothing() -> None:
    t = table([[5, 0, 9], [12, 7, 0]])
    assert t.hidden == set()
    assert [total for _, _, total in t.rows()] == ["14", "19"]
    assert t.totals() == ["17", "7", "9"]
    assert t.grand_total_text() == "33"


def test_totals_below_5_are_hidden() -> None:
    t = table([[1, 2, 0], [0, 0, 0], [0, 1, 30]])
    assert t.row_total_text(0) == FEWER  # 3
    assert t.row_total_text(1) == "0"
    assert t.column_total_text(0) == FEWER  # 1
    assert t.column_total_text(1) == FEWER  # 3
    assert t.grand_total_text() == "34"
    tiny = table([[1, 1], [0, 1]])
    assert tiny.grand_total_text() == FEWER


# --- secondary suppression ------------------------------------------------------------------------------


def test_a_row_with_a_single_hidden_cell_gets_a_second_one_hidden() -> None:
    t = table([[3, 8, 20], [9, 40, 50], [10, 60, 70]])
    row = [t.cell(0, c) for c in range(3)]
    assert row[0] == FEWER
    assert sum(text in SUPPRESSED for text in row) >= 2, row
    assert t.row_total_text(0) == "31"
    # Its smallest other non-zero cell (8) is the one hidden with it.
    assert (0, 1) in t.hidden


def test_a_column_with_a_single_hidden_cell_gets_a_second_one_hidden() -> None:
    t = table([[3, 0], [9, 40], [10, 60]])
    column = [t.cell(r, 0) for r in range(3)]
    assert sum(text in SUPPRESSED for text in column) >= 2, column


def test_a_row_whose_only_other_cells_are_zero_hides_its_total() -> None:
    t = table([[0, 3, 0], [20, 30, 40], [25, 35, 45]])
    assert t.cell(0, 1) == FEWER
    assert t.row_total_text(0) == FEWER


def test_the_worked_examples_resist_subtraction() -> None:
    for counts in ([[3, 8, 20], [9, 40, 50]], [[2, 9], [7, 11]], [[2, 9, 7], [7, 11, 3], [6, 6, 6]]):
        t = table(counts)
        assert recoverable_by_subtraction(t) == [], (counts, published(t))


def test_a_hidden_column_total_is_given_away_by_the_grand_total_and_unravels_the_table() -> None:
    """[[0, 3, 0], [20, 30, 40]]: the 3 hides the 30 below it, which hides the 20 beside it, whose column
    has nothing else, so its total (20) is hidden. But 93 - 33 - 40 = 20 gives that total back, then
    90 - 20 - 40 = 30, then 33 - 30 = 3: every hidden figure falls."""
    t = table([[0, 3, 0], [20, 30, 40]])
    assert t.cell(0, 1) == FEWER
    assert recoverable_by_subtraction(t) == [], published(t)


# --- subtraction attempts -------------------------------------------------------------------------------

small_tables = st.integers(min_value=1, max_value=4).flatmap(
    lambda n_cols: st.lists(
        st.lists(st.sampled_from([0, 0, 0, 1, 2, 3, 4, 5, 6, 9, 12, 30]), min_size=n_cols, max_size=n_cols),
        min_size=1,
        max_size=4,
    )
)


@settings(max_examples=examples(200))
@given(small_tables)
def test_every_row_and_column_holding_a_hidden_cell_hides_at_least_two_of_its_cells_or_its_total(
    counts: list[list[int]],
) -> None:
    t = table(counts)
    n_rows, n_cols = len(counts), len(counts[0])
    for r in range(n_rows):
        hidden = sum(t.cell(r, c) in SUPPRESSED for c in range(n_cols)) + (t.row_total_text(r) in SUPPRESSED)
        assert hidden == 0 or hidden >= 2, (f"row {r}", counts, published(t))
    for c in range(n_cols):
        hidden = sum(t.cell(r, c) in SUPPRESSED for r in range(n_rows)) + (t.column_total_text(c) in SUPPRESSED)
        assert hidden == 0 or hidden >= 2, (f"column {c}", counts, published(t))
    # Every count from 1 to 4 is hidden, whatever else is.
    for r, c in product(range(n_rows), range(n_cols)):
        if 0 < counts[r][c] < THRESHOLD:
            assert t.cell(r, c) == FEWER


@settings(max_examples=examples(200))
@given(small_tables)
@example([[0, 0, 1, 1], [0, 0, 2, 0], [0, 1, 5, 2]])  # found by make fuzz: see the test below
def test_no_hidden_figure_can_be_worked_out_by_adding_and_subtracting_what_is_published(
    counts: list[list[int]],
) -> None:
    """The row totals form a column of their own, summing to the grand total (and the column totals a
    row): a single hidden total there is given away by the grand total, and the cell it protected with it."""
    t = table(counts)
    assert recoverable_by_subtraction(t) == [], (counts, published(t))


def test_a_figure_whose_lines_hold_only_hidden_figures_and_zeros_is_protected_by_hiding_a_zero() -> None:
    """Found by ``make fuzz``. Row 0 is [0, 0, 1, 1] with its total hidden, and column 3 is [1, 0, 2] with its
    total hidden: neither line has a non-zero figure left to hide, yet the equations together give cell
    (0, 3) away. The only way left to protect it is to hide a zero in one of its lines."""
    counts = [[0, 0, 1, 1], [0, 0, 2, 0], [0, 1, 5, 2]]
    t = table(counts)
    assert recoverable_by_subtraction(t) == [], published(t)
    assert HIDDEN in [cell for _, cells, _ in t.rows() for cell in cells]


def test_a_hidden_row_total_is_given_away_by_the_grand_total() -> None:
    """The smallest case the property test finds: row 0 is [3, 0] with its total hidden. Unless another
    row total or the grand total is hidden too, the grand total minus the other rows' totals gives row
    0's total, 3, and with it the hidden cell."""
    t = table([[3, 0], [10, 10]])
    assert t.cell(0, 0) == FEWER
    assert t.row_total_text(0) == FEWER
    assert {t.row_total_text(1), t.grand_total_text()} & set(SUPPRESSED), (
        f"the hidden 3 is {t.grand_total_text()} - {t.row_total_text(1)} - 0: {published(t)}"
    )


@pytest.mark.parametrize(
    ("counts", "why"),
    [
        ([[1, 1, 9], [0, 0, 9]], "two hidden 1s in a row of 11 with 9 shown: each is (11 - 9) / 2 = 1"),
        ([[4, 4, 6], [0, 0, 9]], "two hidden 4s in a row of 14 with 6 shown: each is at most 4, so both are 4"),
    ],
)
def test_hidden_cells_cannot_be_pinned_down_by_their_range(counts: list[list[int]], why: str) -> None:
    """Every cell shown as "fewer than 5" is known to be 1 to 4, and one shown as "hidden" to be at least 5
    (it is only hidden to protect another). When the hidden cells of a row can only add up to what is
    left at their least (all 1s and 5s) or at their most (all 4s), subtraction gives each of them away."""
    t = table(counts)
    n_cols = len(counts[0])
    for r in range(len(counts)):
        hidden = [c for c in range(n_cols) if t.cell(r, c) in SUPPRESSED]
        if not hidden or t.row_total_text(r) in SUPPRESSED:
            continue
        residual = int(t.row_total_text(r)) - sum(int(t.cell(r, c)) for c in range(n_cols) if c not in hidden)
        small = sum(t.cell(r, c) == FEWER for c in hidden)
        large = len(hidden) - small
        low = small + large * THRESHOLD
        high = small * (THRESHOLD - 1) if large == 0 else float("inf")
        assert low < residual < high, f"row {r}: {why} ({published(t)})"


def test_a_cell_hidden_only_to_protect_another_is_not_presented_as_fewer_than_5() -> None:
    """Secondary suppression hides a cell of 40 next to a 3: the page must not say it is "fewer than 5"
    (that is false, and a reader who trusts it works backwards from wrong bounds)."""
    t = table([[3, 40, 50], [6, 45, 55]])
    secondary = [(r, c) for r, c in t.hidden if t.counts[r][c] >= THRESHOLD]
    assert secondary, "expected a secondary-suppressed cell"
    for r, c in secondary:
        assert t.cell(r, c) != "fewer than 5", f"cell {r},{c} holds {t.counts[r][c]} but is shown as fewer than 5"


# --- the CSV export carries the page's suppression ------------------------------------------------------

YORKSHIRE = "Yorkshire and The Humber"


@pytest.mark.django_db
@pytest.mark.usefixtures("fast_kdf", "local_authorities")
def test_the_csv_export_applies_exactly_the_suppression_on_the_page() -> None:
    supervisor = staff_user("sup", role=User.Role.SUPERVISOR)
    rotherham, sheffield = authority_by_code("E08000018"), authority_by_code("E08000039")
    acknowledged = []
    for authority_, n in ((rotherham, 7), (sheffield, 2)):
        for _ in range(n):
            case = report_route(report_id=submit_report(local_authority=authority_).report.pk)
            referral_services.case_refer(case=case, summary="s", acting_user=supervisor)
            acknowledged.append(case.pk)
    Referral.objects.filter(case__in=acknowledged).update(acknowledged_at=timezone.now())
    selectors.stats_refresh()
    board = staff_with_mfa("board", role=User.Role.PARTNERSHIP, partnership=partnership_of_region(YORKSHIRE))[0]
    client = Client()
    sign_in(client, board)

    page = client.get("/staff/statistics")
    export = client.get("/staff/statistics.csv")

    assert page.status_code == 200
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")
    body = html.unescape(page.content.decode())
    lines = list(csv.reader(io.StringIO(export.content.decode())))
    no_referrals = page.context["shown"].no_referrals
    for slug, title, t in page.context["tables"]:
        if slug.startswith("completeness-"):
            continue  # shown as one table of shares (tests/oversight/test_picture.py)
        # As on the page: an authority with no referrals (a published total of 0) is named once rather
        # than given a row of zeros, and a one-column table has no "Total" column repeating its figures.
        single = t.n_cols == 1
        left_out = set(no_referrals) if slug in ("acknowledgements", "outcome-timeliness") else set()
        rows = [(label, cells, total) for label, cells, total in t.rows() if label not in left_out]
        assert all(total == "0" for label, _, total in t.rows() if label in left_out)
        start = lines.index([title])
        assert lines[start + 1] == ["", *t.column_labels, *([] if single else ["Total"])]
        for offset, (label, cells, total) in enumerate(rows, start=2):
            assert not single or cells[0] == total
            assert lines[start + offset] == [label, *cells, *([] if single else [total])]
        totals = [*t.totals(), *([] if single else [t.grand_total_text()])]
        assert lines[start + 2 + len(rows)] == ["Total", *totals]
    ack = next(t for slug, _, t in page.context["tables"] if slug == "acknowledgements")
    sheffield_row = ack.row_labels.index("Sheffield")
    assert ack.cell(sheffield_row, 0) == FEWER  # 2 acknowledged on time
    assert ack.row_total_text(sheffield_row) == FEWER
    assert "Sheffield" in body
    sheffield_line = next(line for line in lines if line and line[0] == "Sheffield")
    assert "2" not in sheffield_line
    assert sheffield_line[1] == FEWER

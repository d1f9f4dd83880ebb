"""``oversight.presentation`` on its own: what the page and the CSV show of suppressed tables. Every figure
shown is the one published, in its words; a row is left out only when its published total is 0; a
one-column table's figure is the same as its total, suppressed alike."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from oversight.presentation import statistics_csv_rows, statistics_shown
from oversight.suppression import HIDDEN, SUPPRESSED, Table, suppress
from tests.fuzzing import examples


def _published(counts: list[list[int]]) -> Table:
    return suppress(
        Table(
            row_labels=[f"Authority {r}" for r in range(len(counts))],
            column_labels=[f"column {c}" for c in range(len(counts[0]))],
            counts=[list(row) for row in counts],
        )
    )


@settings(max_examples=examples(100), deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n_cols: st.lists(
            st.lists(st.sampled_from([0, 0, 0, 1, 3, 5, 7, 12]), min_size=n_cols, max_size=n_cols),
            min_size=1,
            max_size=6,
        )
    )
)
def test_every_figure_shown_is_the_published_one_and_only_rows_published_as_zero_are_left_out(
    counts: list[list[int]],
) -> None:
    ack = _published(counts)
    outcome = _published(counts)
    shown = statistics_shown([("acknowledgements", "a", ack), ("outcome-timeliness", "o", outcome)])

    table = shown.table("acknowledgements")
    single = ack.n_cols == 1
    kept = {label for label, _ in table.rows}
    for r, (label, cells, total) in enumerate(ack.rows()):
        if label in kept:
            figures = dict(table.rows)[label]
            assert figures == ([cells[0]] if single else [*cells, total])
            if single:
                assert (cells[0] in SUPPRESSED) == (total in SUPPRESSED)
        else:
            assert total == "0" and all(value == 0 for value in ack.counts[r])
            assert label in shown.no_referrals
    assert table.total == ([ack.totals()[0]] if single else [*ack.totals(), ack.grand_total_text()])
    assert table.columns == (list(ack.column_labels) if single else [*ack.column_labels, "Total"])
    lines = statistics_csv_rows("heading", shown)
    for label in shown.no_referrals:
        assert sum(line.count(label) for line in lines) == 1


def test_a_row_of_zeros_whose_total_is_hidden_keeps_its_row() -> None:
    """Suppression may hide a zero as a last resort: a row whose total is published as "hidden" is not
    a row with no referrals, and saying so would give the hidden figure away."""
    ack = Table(row_labels=["A", "B"], column_labels=["x", "y"], counts=[[0, 0], [6, 0]])
    ack.secondary = {(0, 2)}
    outcome = Table(row_labels=["A", "B"], column_labels=["x", "y"], counts=[[0, 0], [6, 0]])

    shown = statistics_shown([("acknowledgements", "a", ack), ("outcome-timeliness", "o", outcome)])

    assert shown.no_referrals == []
    assert dict(shown.table("acknowledgements").rows)["A"] == ["0", "0", HIDDEN]
    assert dict(shown.table("outcome-timeliness").rows)["A"] == ["0", "0", "0"]

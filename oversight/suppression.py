"""Small-number suppression for statistics shown outside the helpline.

Counts of 1 to 4 are shown as "fewer than 5" (primary suppression). Then, so that a hidden cell cannot
be worked out by subtracting the others from a total, any row or column with exactly one hidden cell
has a second one hidden too: its smallest other non-zero cell, or its total when there is none
(secondary suppression), repeated until nothing changes. Totals below 5 are hidden as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field

THRESHOLD = 5
FEWER = "fewer than 5"


@dataclass
class Table:
    row_labels: list[str]
    column_labels: list[str]
    counts: list[list[int]]
    hidden: set[tuple[int, int]] = field(default_factory=set)
    hidden_row_totals: set[int] = field(default_factory=set)
    hidden_column_totals: set[int] = field(default_factory=set)
    with_totals: bool = True

    def row_total(self, r: int) -> int:
        return sum(self.counts[r])

    def column_total(self, c: int) -> int:
        return sum(row[c] for row in self.counts)

    def cell(self, r: int, c: int) -> str:
        return FEWER if (r, c) in self.hidden else str(self.counts[r][c])

    def row_total_text(self, r: int) -> str:
        return FEWER if r in self.hidden_row_totals else str(self.row_total(r))

    def column_total_text(self, c: int) -> str:
        return FEWER if c in self.hidden_column_totals else str(self.column_total(c))

    def grand_total_text(self) -> str:
        total = sum(self.row_total(r) for r in range(len(self.counts)))
        return FEWER if 0 < total < THRESHOLD else str(total)

    def rows(self) -> list[tuple[str, list[str], str]]:
        return [
            (label, [self.cell(r, c) for c in range(len(self.column_labels))], self.row_total_text(r))
            for r, label in enumerate(self.row_labels)
        ]

    def totals(self) -> list[str]:
        return [self.column_total_text(c) for c in range(len(self.column_labels))]


def _second_cell(values: list[tuple[int, tuple[int, int]]], hidden: set[tuple[int, int]]) -> tuple[int, int] | None:
    candidates = [(count, position) for count, position in values if position not in hidden and count > 0]
    return min(candidates)[1] if candidates else None


def suppress(table: Table) -> Table:
    n_rows, n_cols = len(table.counts), len(table.column_labels)
    for r in range(n_rows):
        for c in range(n_cols):
            if 0 < table.counts[r][c] < THRESHOLD:
                table.hidden.add((r, c))
    for r in range(n_rows):
        if 0 < table.row_total(r) < THRESHOLD:
            table.hidden_row_totals.add(r)
    for c in range(n_cols):
        if 0 < table.column_total(c) < THRESHOLD:
            table.hidden_column_totals.add(c)
    if not table.with_totals:
        return table
    changed = True
    while changed:
        changed = False
        for r in range(n_rows):
            in_row = [(r, c) for c in range(n_cols) if (r, c) in table.hidden]
            if len(in_row) == 1 and r not in table.hidden_row_totals:
                second = _second_cell([(table.counts[r][c], (r, c)) for c in range(n_cols)], table.hidden)
                if second is None:
                    table.hidden_row_totals.add(r)
                else:
                    table.hidden.add(second)
                changed = True
        for c in range(n_cols):
            in_col = [(r, c) for r in range(n_rows) if (r, c) in table.hidden]
            if len(in_col) == 1 and c not in table.hidden_column_totals:
                second = _second_cell([(table.counts[r][c], (r, c)) for r in range(n_rows)], table.hidden)
                if second is None:
                    table.hidden_column_totals.add(c)
                else:
                    table.hidden.add(second)
                changed = True
    return table

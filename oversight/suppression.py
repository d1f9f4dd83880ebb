"""Small-number suppression for statistics shown outside the helpline.

A table is treated with its totals as cells: the body, each row's total, each column's total and the
grand total, so every row and column of that bigger grid is a line whose last cell is the sum of the
others. Then:

* primary: counts of 1 to 4 (in the body or among the totals) are shown as "fewer than 5";
* secondary: a line with exactly one hidden figure would give it away by subtraction, so a second one is
  hidden — its smallest other non-zero cell, or its total when it has none — shown as "hidden" (it is
  not small, and saying so would mislead);
* range: a hidden small count is known to be 1 to 4 (and a secondary one at least 5), so when the
  hidden figures of a line can only add up to what is left in one way — all at their least, or all at
  their most — one more is hidden;
* across lines: a hidden figure may still follow from several lines together (the grand total minus
  other totals, say). The lines are solved as linear equations; any hidden figure they determine gets
  another figure hidden beside it.
Repeated until nothing changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

THRESHOLD = 5
FEWER = "fewer than 5"
HIDDEN = "hidden"
SUPPRESSED = (FEWER, HIDDEN)
LEGEND = f'"{FEWER}": a count from 1 to 4. "{HIDDEN}": hidden so that a small count cannot be worked out.'

Position = tuple[int, int]


@dataclass
class Table:
    row_labels: list[str]
    column_labels: list[str]
    counts: list[list[int]]
    # Positions in the grid with totals: row len(counts) holds column totals, column len(columns) row totals.
    primary: set[Position] = field(default_factory=set)
    secondary: set[Position] = field(default_factory=set)
    _values: dict[Position, int] = field(default_factory=dict, repr=False)

    @property
    def n_rows(self) -> int:
        return len(self.counts)

    @property
    def n_cols(self) -> int:
        return len(self.column_labels)

    @property
    def hidden(self) -> set[Position]:
        """Hidden body cells."""
        return {(r, c) for r, c in self.primary | self.secondary if r < self.n_rows and c < self.n_cols}

    def value(self, r: int, c: int) -> int:
        cached = self._values.get((r, c))
        if cached is not None:
            return cached
        if r < self.n_rows and c < self.n_cols:
            return self.counts[r][c]
        if r < self.n_rows:
            return sum(self.counts[r])
        if c < self.n_cols:
            return sum(row[c] for row in self.counts)
        return sum(sum(row) for row in self.counts)

    def text(self, r: int, c: int) -> str:
        if (r, c) in self.primary:
            return FEWER
        if (r, c) in self.secondary:
            return HIDDEN
        return str(self.value(r, c))

    def row_total(self, r: int) -> int:
        return self.value(r, self.n_cols)

    def column_total(self, c: int) -> int:
        return self.value(self.n_rows, c)

    def cell(self, r: int, c: int) -> str:
        return self.text(r, c)

    def row_total_text(self, r: int) -> str:
        return self.text(r, self.n_cols)

    def column_total_text(self, c: int) -> str:
        return self.text(self.n_rows, c)

    def grand_total_text(self) -> str:
        return self.text(self.n_rows, self.n_cols)

    def rows(self) -> list[tuple[str, list[str], str]]:
        return [
            (label, [self.cell(r, c) for c in range(self.n_cols)], self.row_total_text(r))
            for r, label in enumerate(self.row_labels)
        ]

    def totals(self) -> list[str]:
        return [self.column_total_text(c) for c in range(self.n_cols)]


def _lines(table: Table) -> list[tuple[list[Position], Position]]:
    """Every row and column of the grid with totals: (the cells that add up, the cell holding their sum)."""
    rows, cols = table.n_rows, table.n_cols
    lines = [([(r, c) for c in range(cols)], (r, cols)) for r in range(rows + 1)]
    lines += [([(r, c) for r in range(rows)], (rows, c)) for c in range(cols + 1)]
    return lines


def _pinned(table: Table, members: list[Position], total: Position) -> bool:
    """With the total shown, can the hidden members only add up to what is left in one way?"""
    hidden = set(table.primary | table.secondary)
    if total in hidden:
        return False
    unknown = [p for p in members if p in hidden]
    left = table.value(*total) - sum(table.value(*p) for p in members if p not in hidden)
    least = sum(1 if p in table.primary else THRESHOLD for p in unknown)
    most = math.inf if any(p in table.secondary for p in unknown) else 4 * len(unknown)
    return left in (least, most)


def _hide_another(table: Table, members: list[Position], total: Position, *, zeros: bool = False) -> bool:
    """Hide the line's smallest other non-zero figure, else its total; with ``zeros``, a zero as a last
    resort (a line whose other figures are all hidden or zero could otherwise not be protected at all)."""
    hidden = table.primary | table.secondary
    candidates = [(table.value(*p), p) for p in members if p not in hidden and table.value(*p) > 0]
    if candidates:
        table.secondary.add(min(candidates)[1])
        return True
    if total not in hidden:
        table.secondary.add(total)
        return True
    if zeros:
        left = [p for p in members if p not in hidden]
        if left:
            table.secondary.add(left[0])
            return True
    return False


def recoverable(table: Table) -> list[Position]:
    """Hidden figures that the published ones determine exactly: those whose unit vector lies in the row
    space of the lines' equations over the hidden figures (reduced row echelon form, exact fractions,
    rows kept sparse: each figure is in only two lines)."""
    hidden = sorted(table.primary | table.secondary)
    index = {position: i for i, position in enumerate(hidden)}
    rows: list[dict[int, Fraction]] = []
    for members, total in _lines(table):
        row = {index[position]: Fraction(1) for position in members if position in index}
        if total in index:
            row[index[total]] = Fraction(-1)
        if row:
            rows.append(row)
    pivot_rows: dict[int, dict[int, Fraction]] = {}
    for row in rows:
        # Reduce against the pivots found so far, then make it a pivot row of its own.
        while True:
            reducible = [c for c in row if c in pivot_rows]
            if not reducible:
                break
            col = reducible[0]
            factor = row[col]
            for c, v in pivot_rows[col].items():
                updated = row.get(c, Fraction(0)) - factor * v
                if updated:
                    row[c] = updated
                else:
                    row.pop(c, None)
        if not row:
            continue
        lead = min(row)
        scale = row[lead]
        row = {c: v / scale for c, v in row.items()}
        for other in pivot_rows.values():
            multiple = other.get(lead)
            if multiple:
                for c, v in row.items():
                    updated = other.get(c, Fraction(0)) - multiple * v
                    if updated:
                        other[c] = updated
                    else:
                        other.pop(c, None)
        pivot_rows[lead] = row
    return [hidden[col] for col, row in pivot_rows.items() if len(row) == 1]


def suppress(table: Table) -> Table:
    table._values = {(r, c): table.value(r, c) for r in range(table.n_rows + 1) for c in range(table.n_cols + 1)}
    for r in range(table.n_rows + 1):
        for c in range(table.n_cols + 1):
            if 0 < table.value(r, c) < THRESHOLD:
                table.primary.add((r, c))
    changed = True
    while changed:
        changed = False
        for members, total in _lines(table):
            hidden = table.primary | table.secondary
            count = sum(p in hidden for p in [*members, total])
            if count == 1 or (count >= 2 and _pinned(table, members, total)):
                changed = _hide_another(table, members, total) or changed
        if changed:
            continue
        # Protect every figure the equations give away in one pass, then solve again.
        lines = _lines(table)
        for position in recoverable(table):
            own = [(members, total) for members, total in lines if position in (*members, total)]
            if any(_hide_another(table, m, t) for m, t in own) or any(
                _hide_another(table, m, t, zeros=True) for m, t in own
            ):
                changed = True
    return table

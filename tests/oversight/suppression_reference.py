"""The suppression rule as it was before it was made fast (exact fractions, every line looked at on every
pass, the equations solved once in the lines' order): kept here only, as the reference the fast
implementation in ``oversight/suppression.py`` must match exactly (``test_suppression_equivalence.py``).
Slow: several seconds for a national year. Do not "improve" it; it is the definition being compared
against. Copied from ``oversight/suppression.py`` at commit 85140c1."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from oversight.suppression import THRESHOLD, Table

Cell = tuple[int, int, int]  # (which table, row, column) among tables suppressed together
Line = tuple[list[Cell], Cell]  # figures that add up, and the figure holding their sum


def _lines(tables: list[Table]) -> list[Line]:
    """Every row and column of each table's grid with totals, as (the cells that add up, their sum)."""
    lines: list[Line] = []
    for t, table in enumerate(tables):
        rows, cols = table.n_rows, table.n_cols
        lines += [([(t, r, c) for c in range(cols)], (t, r, cols)) for r in range(rows + 1)]
        lines += [([(t, r, c) for r in range(rows)], (t, rows, c)) for c in range(cols + 1)]
    return lines


@dataclass
class _Release:
    """Figures published together: whatever one of them hides, a reader may combine all the others."""

    values: dict[Cell, int]
    lines: list[Line]
    primary: set[Cell] = field(default_factory=set)
    secondary: set[Cell] = field(default_factory=set)
    hidden: set[Cell] = field(default_factory=set)

    def hide(self, cell: Cell) -> None:
        self.secondary.add(cell)
        self.hidden.add(cell)

    def pinned(self, members: list[Cell], total: Cell) -> bool:
        """With the total shown, can the hidden members only add up to what is left in one way?"""
        if total in self.hidden:
            return False
        unknown = [p for p in members if p in self.hidden]
        left = self.values[total] - sum(self.values[p] for p in members if p not in self.hidden)
        least = sum(1 if p in self.primary else THRESHOLD for p in unknown)
        most = math.inf if any(p in self.secondary for p in unknown) else 4 * len(unknown)
        return left in (least, most)

    def hide_another(self, members: list[Cell], total: Cell, *, zeros: bool = False) -> bool:
        """Hide the line's smallest other non-zero figure, else its total; with ``zeros``, a zero as a
        last resort (a line whose other figures are all hidden or zero could otherwise not be protected)."""
        candidates = [(self.values[p], p) for p in members if p not in self.hidden and self.values[p] > 0]
        if candidates:
            self.hide(min(candidates)[1])
            return True
        if total not in self.hidden:
            self.hide(total)
            return True
        if zeros:
            left = [p for p in members if p not in self.hidden]
            if left:
                self.hide(left[0])
                return True
        return False

    def recoverable(self) -> list[Cell]:
        """Hidden figures that the published ones determine exactly: those whose unit vector lies in the
        row space of the lines' equations over the hidden figures (reduced row echelon form, exact
        fractions, rows kept sparse)."""
        hidden = sorted(self.hidden)
        index = {position: i for i, position in enumerate(hidden)}
        pivot_rows: dict[int, dict[int, Fraction]] = {}
        for members, total in self.lines:
            row = {index[position]: Fraction(1) for position in members if position in index}
            if total in index:
                row[index[total]] = Fraction(-1)
            # Reduce against the pivots found so far, then make it a pivot row of its own.
            while row:
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


def suppress_together(tables: list[Table], links: list[Line] | None = None) -> list[Table]:
    """Suppress tables that are published side by side, so that no hidden figure of any of them can be
    worked out from all of them together. ``links`` are further sums that hold between the tables'
    figures: a year's cell is the sum of its quarters' cells, two tables share a row total, and so on."""
    values: dict[Cell, int] = {}
    for t, table in enumerate(tables):
        table.primary.clear()
        table.secondary.clear()
        table._values = {}  # recomputed from the counts
        table._values = {(r, c): table.value(r, c) for r in range(table.n_rows + 1) for c in range(table.n_cols + 1)}
        values.update({(t, r, c): v for (r, c), v in table._values.items()})
    release = _Release(values=values, lines=_lines(tables) + list(links or []))
    release.primary = {cell for cell, value in values.items() if 0 < value < THRESHOLD}
    release.hidden = set(release.primary)
    lines_of: dict[Cell, list[Line]] = {}
    for line in release.lines:
        for cell in (*line[0], line[1]):
            lines_of.setdefault(cell, []).append(line)
    changed = True
    while changed:
        changed = False
        for members, total in release.lines:
            count = sum(p in release.hidden for p in members) + (total in release.hidden)
            if count == 1 or (count >= 2 and release.pinned(members, total)):
                changed = release.hide_another(members, total) or changed
        if changed:
            continue
        # Protect every figure the equations give away in one pass, then solve again.
        for position in release.recoverable():
            own = lines_of.get(position, [])
            if any(release.hide_another(m, t) for m, t in own) or any(
                release.hide_another(m, t, zeros=True) for m, t in own
            ):
                changed = True
    for t, table in enumerate(tables):
        table.primary = {(r, c) for tt, r, c in release.primary if tt == t}
        table.secondary = {(r, c) for tt, r, c in release.secondary if tt == t}
    return tables

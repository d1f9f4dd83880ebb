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

Tables published side by side (a year and its quarters, two tables sharing their row totals) are
suppressed together (``suppress_together``): the sums that hold between them are lines too.
"""

from __future__ import annotations

import gc
import heapq
import math
from collections.abc import Container, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

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
    # Lines (by index) last found with nothing to do, none of whose figures has been hidden since: looking
    # at one again would find the same, so it is skipped until one of its figures is hidden.
    settled: set[int] = field(default_factory=set)
    lines_at: dict[Cell, list[int]] = field(default_factory=dict)
    newly_hidden: list[Cell] = field(default_factory=list)  # since the equations last heard of it

    def hide(self, cell: Cell) -> None:
        self.secondary.add(cell)
        self.hidden.add(cell)
        self.settled.difference_update(self.lines_at.get(cell, ()))
        self.newly_hidden.append(cell)

    def pinned(self, members: list[Cell], total: Cell) -> bool:
        """With the total shown, can the hidden members only add up to what is left in one way?"""
        if total in self.hidden:
            return False
        unknown = [p for p in members if p in self.hidden]
        left = self.values[total] - sum(self.values[p] for p in members if p not in self.hidden)
        least = sum(1 if p in self.primary else THRESHOLD for p in unknown)
        most = math.inf if any(p in self.secondary for p in unknown) else 4 * len(unknown)
        return left in (least, most)

    def another(
        self, members: list[Cell], total: Cell, *, zeros: bool = False, hidden: Container[Cell] | None = None
    ) -> Cell | None:
        """The figure ``hide_another`` would hide in this line, if any (with ``hidden`` hidden)."""
        hidden = self.hidden if hidden is None else hidden
        candidates = [(self.values[p], p) for p in members if p not in hidden and self.values[p] > 0]
        if candidates:
            return min(candidates)[1]
        if total not in hidden:
            return total
        if zeros:
            left = [p for p in members if p not in hidden]
            if left:
                return left[0]
        return None

    def hide_another(self, members: list[Cell], total: Cell, *, zeros: bool = False) -> bool:
        """Hide the line's smallest other non-zero figure, else its total; with ``zeros``, a zero as a
        last resort (a line whose other figures are all hidden or zero could otherwise not be protected)."""
        cell = self.another(members, total, zeros=zeros)
        if cell is None:
            return False
        self.hide(cell)
        return True

    def protect(self, own: list[Line]) -> bool:
        """Hide a figure beside a determined one: in the first of its lines that has one to hide, or failing
        that a zero in the first that has one. Whether anything was hidden."""
        return any(self.hide_another(m, t) for m, t in own) or any(self.hide_another(m, t, zeros=True) for m, t in own)

    def first_line(self, own: list[Line]) -> tuple[Line, bool] | None:
        """The line ``protect`` would hide a figure in, given a determined figure's lines, and whether it
        would be a zero (no line has anything else to hide); None when it would hide nothing."""
        for zeros in (False, True):
            for line in own:
                if self.another(*line, zeros=zeros) is not None:
                    return line, zeros
        return None

    def queue(self, line: Line, *, zeros: bool) -> list[Cell]:
        """What ``another`` hides in this line, one after the other, as figures are protected in it."""
        members, total = line
        if zeros:
            return [p for p in members if p not in self.hidden]
        shown = sorted((self.values[p], p) for p in members if p not in self.hidden and self.values[p] > 0)
        return [p for _, p in shown] + ([total] if total not in self.hidden else [])

    def rehearse(self, order: list[Cell], lines_of: dict[Cell, list[Line]]) -> list[Cell | None]:
        """What ``protect`` would hide for each of these in turn, hiding nothing."""
        extra: set[Cell] = set()
        hidden = _Both(self.hidden, extra)
        chosen: list[Cell | None] = []
        for position in order:
            cell = None
            for zeros in (False, True):
                for members, total in lines_of.get(position, []):
                    cell = self.another(members, total, zeros=zeros, hidden=hidden)
                    if cell is not None:
                        break
                if cell is not None:
                    break
            if cell is not None:
                extra.add(cell)
            chosen.append(cell)
        return chosen

    def recoverable(self) -> list[Cell]:
        """Hidden figures that the published ones determine exactly: those whose unit vector lies in the
        row space of the lines' equations over the hidden figures (``_Equations.determined``), in the
        order in which the reduced row echelon form built one line at a time (in the lines' order, each
        new pivot at the smallest column of its reduced row, columns being the hidden figures in order)
        finds them as pivots (``_pivot_order``). That is the order protecting them one by one takes, and
        it can decide what else is hidden."""
        equations = _Equations(self.lines)
        equations.add(self.hidden)
        found = equations.determined()
        if len(found) < 2:
            return sorted(found)
        return equations.in_line_order(found)


Row = dict[int, int]  # column (or line) -> a non-zero whole number


class _Equations:
    """The lines' equations over the hidden figures, solved, and kept solved as more figures are hidden.

    Each line is a row: +1 for each hidden figure that adds up, -1 for its sum when that is hidden. The
    rows are combined (whole-number multiples: exact) into a basis of their span in which each pivot
    column is non-zero in its own row only; the rest become zero. Then a figure is determined exactly
    when its column is a pivot whose row holds nothing else: a combination of the rows is zero at every
    pivot column but its own, and so is that figure's unit vector. Pivots are chosen where the fewest
    rows hold the column, which keeps the rows short (any choice gives the same answer).

    Each row also keeps which lines it combines (``t``): when a figure is hidden later, its column in
    every row is worked out from that, without solving again; rows that were zero may then hold it and
    become pivots. A figure stays determined while the lines its row combines hide nothing new."""

    def __init__(self, lines: list[Line]) -> None:
        cells = sorted({cell for members, total in lines for cell in (*members, total)})
        self.column = {cell: i for i, cell in enumerate(cells)}  # in the figures' order
        self.cells = cells
        # What a line puts in each column when it is hidden (as the rows always have been built: a figure
        # named twice among the members counts once, and the sum's -1 wins over a member's +1).
        self.coefficients: list[Row] = []
        self.lines_at: dict[int, list[int]] = {}
        for i, (members, total) in enumerate(lines):
            coefficients = {self.column[cell]: 1 for cell in members}
            coefficients[self.column[total]] = -1
            self.coefficients.append(coefficients)
            for col in coefficients:
                self.lines_at.setdefault(col, []).append(i)
        self.h: list[Row] = [{} for _ in lines]  # each row over the hidden figures' columns
        self.t: list[Row] = [{i: 1} for i in range(len(lines))]  # ... and the lines it combines
        self.lead: list[int | None] = [None] * len(lines)
        self.pivot_row: dict[int, int] = {}
        self.h_holders: dict[int, set[int]] = {}  # column -> pivot rows holding it (or that once did)
        self.t_holders: dict[int, set[int]] = {i: {i} for i in range(len(lines))}  # line -> rows combining it
        self.single: set[int] = set()  # pivot rows holding nothing but their pivot
        self.hidden: set[int] = set()

    def add(self, cells: Iterable[Cell]) -> None:
        """These figures are hidden too: their columns in every row, then the new pivots."""
        touched: set[int] = set()
        for cell in cells:
            col = self.column.get(cell)
            if col is None or col in self.hidden:
                continue
            self.hidden.add(col)
            holding = self.h_holders.setdefault(col, set())
            for line in self.lines_at.get(col, ()):
                coefficient = self.coefficients[line][col]
                for r in self.t_holders[line]:
                    times = self.t[r].get(line)
                    if not times:
                        continue  # it combined that line once and no longer does
                    h = self.h[r]
                    updated = h.get(col, 0) + coefficient * times
                    if updated:
                        h[col] = updated
                        if self.lead[r] is not None:
                            holding.add(r)
                    else:
                        del h[col]
                    touched.add(r)
        for r in touched:
            self._note(r)
        # Rows with no pivot that now hold something become pivots, the shortest first: reduced against the
        # pivots found since (rows without a pivot are not kept reduced), and what is left gets one.
        holders = self.h_holders
        for r in sorted((r for r in touched if self.lead[r] is None), key=lambda r: (len(self.h[r]), r)):
            for col in [col for col in self.h[r] if col in self.pivot_row]:
                self._eliminate(r, col, self.pivot_row[col])
            if self.h[r]:
                self._pivot(r, min(self.h[r], key=lambda col: (len(holders.get(col, ())), col)))

    def determined(self) -> set[Cell]:
        """The hidden figures the published ones give away."""
        return {self.cells[lead] for r in self.single if (lead := self.lead[r]) is not None}

    def in_line_order(self, found: set[Cell]) -> list[Cell]:
        """``found`` in the order ``_pivot_order`` finds them, from the lines over the hidden figures."""
        rows = []
        for coefficients in self.coefficients:
            row = {col: v for col, v in coefficients.items() if col in self.hidden}
            if row:
                rows.append(row)
        return [self.cells[col] for col in _pivot_order(rows, {self.column[cell] for cell in found})]

    def _note(self, r: int) -> None:
        if self.lead[r] is not None and len(self.h[r]) == 1:
            self.single.add(r)
        else:
            self.single.discard(r)

    def _pivot(self, r: int, lead: int) -> None:
        """Row ``r`` (zero at every pivot column) becomes the pivot row of ``lead``, eliminated from every
        other row holding it."""
        self._lowest_terms(r)
        self.lead[r] = lead
        self.pivot_row[lead] = r
        for col in self.h[r]:
            self.h_holders.setdefault(col, set()).add(r)
        for other in list(self.h_holders[lead]):
            if other != r and lead in self.h[other]:
                self._eliminate(other, lead, r)
        self.h_holders[lead] = {r}
        self._note(r)

    def _eliminate(self, r: int, col: int, p: int) -> None:
        """Make row ``r`` zero at ``col`` with pivot row ``p``: r - (a / b) p, in whole numbers."""
        a, b = self.h[r][col], self.h[p][col]
        if a % b:
            common = math.gcd(a, b)
            scale, factor = b // common, a // common
            self.h[r] = {c: v * scale for c, v in self.h[r].items()}
            self.t[r] = {c: v * scale for c, v in self.t[r].items()}
        else:
            factor = a // b
        # Rows without a pivot are not kept among the holders of their columns (see ``add``); every row is
        # kept among the holders of its lines.
        pivot = self.lead[r] is not None
        for part, holders in ((self.h, self.h_holders if pivot else None), (self.t, self.t_holders)):
            row = part[r]
            for c, v in part[p].items():
                updated = row.get(c, 0) - factor * v
                if updated:
                    if holders is not None and c not in row:
                        holders.setdefault(c, set()).add(r)
                    row[c] = updated
                else:
                    del row[c]
        self._lowest_terms(r)
        self._note(r)

    def _lowest_terms(self, r: int) -> None:
        divisor = 0
        for v in (*self.h[r].values(), *self.t[r].values()):
            divisor = math.gcd(divisor, v)
            if divisor == 1:
                return
        if divisor > 1:
            self.h[r] = {c: v // divisor for c, v in self.h[r].items()}
            self.t[r] = {c: v // divisor for c, v in self.t[r].items()}


def _pivot_order(rows: list[Row], wanted: set[int]) -> list[int]:
    """The ``wanted`` columns in the order they become pivots when the rows are taken in their order and
    each row, reduced against the pivot rows so far, gives a pivot at its smallest column.

    That reduced row is the same whichever basis of the earlier rows it is reduced against, as long as
    the basis has one row per pivot starting at it (then the reduced row is the one vector in its coset
    that is zero at every pivot column), so a row echelon form will do: rows are reduced in increasing
    column order and never eliminated from older ones. Whether a column becomes a pivot depends only on
    the columns before it (it does when it is not a combination of them), so the columns after the last
    wanted one are left out; and pivots are never given up, so it stops once every wanted column is a
    pivot."""
    last = max(wanted)
    waiting = set(wanted)
    pivot_rows: dict[int, Row] = {}
    order: list[int] = []
    for given in rows:
        if not waiting:
            break
        row = {col: v for col, v in given.items() if col <= last}
        todo = [col for col in row if col in pivot_rows]
        heapq.heapify(todo)
        while todo:
            col = heapq.heappop(todo)
            a = row.get(col)
            if a is None:
                continue  # cancelled since it was queued
            pivot = pivot_rows[col]  # every column of it is col or after
            b = pivot[col]
            if a % b:
                common = math.gcd(a, b)
                scale, factor = b // common, a // common
                row = {c: v * scale for c, v in row.items()}
            else:
                factor = a // b
            for c, v in pivot.items():
                held = row.get(c)
                if held is None:
                    row[c] = -factor * v
                    if c in pivot_rows:
                        heapq.heappush(todo, c)
                elif held == factor * v:
                    del row[c]
                else:
                    row[c] = held - factor * v
        if row:
            lead = min(row)
            pivot_rows[lead] = _lowest_terms(row)
            order.append(lead)
            waiting.discard(lead)
    return [col for col in order if col in wanted]


def _lowest_terms(row: Row) -> Row:
    """``row`` divided by the greatest common divisor of its entries."""
    divisor = 0
    for v in row.values():
        divisor = math.gcd(divisor, v)
        if divisor == 1:
            return row
    return {c: v // divisor for c, v in row.items()}


class _Both:
    """Two sets as one, for ``in``."""

    def __init__(self, first: set[Cell], second: set[Cell]) -> None:
        self.first, self.second = first, second

    def __contains__(self, cell: object) -> bool:
        return cell in self.first or cell in self.second


def _protection_order(release: _Release, equations: _Equations, lines_of: dict[Cell, list[Line]]) -> list[Cell]:
    """The determined figures in an order that protects them exactly as ``recoverable``'s order would.

    Protecting a figure hides the next figure of the first of its lines that has one (``first_line``,
    ``queue``: the smallest shown non-zero figure, then the total; or, when no line has one, a shown
    zero). Hiding more never gives an earlier line one, and hiding a figure further down a line's queue
    never changes which comes first. So when the figures protected in the same line are no more than its
    queue holds, and the figures they take (the head of each queue) are different lines' heads apart,
    each line gives up the head of its queue whatever the order, and any order hides the same.

    Figures that break that (the ``tangled``) need their true order (``_Equations.in_line_order``, for
    them alone). Rehearsed in it, if none of them hides a figure the others take, the others may come in
    any order after them (hiding a figure other than the one a figure would hide never changes its
    choice, so neither side changes the other's); otherwise the true order of all is worked out."""
    found = sorted(equations.determined())
    if len(found) < 2:
        return found
    groups: dict[int, tuple[Line, bool, list[Cell]]] = {}
    for position in found:
        first = release.first_line(lines_of.get(position, []))
        if first is not None:
            line, zeros = first
            groups.setdefault(id(line), (line, zeros, []))[2].append(position)
    taken: dict[int, list[Cell]] = {}
    tangled: set[Cell] = set()
    for key, (line, zeros, together) in groups.items():
        queue = release.queue(line, zeros=zeros)
        if len(together) > len(queue):
            tangled.update(together)
        else:
            taken[key] = queue[: len(together)]
    takers: dict[Cell, list[int]] = {}
    for key, cells in taken.items():
        for cell in cells:
            takers.setdefault(cell, []).append(key)
    for keys in takers.values():
        if len(keys) > 1:
            for key in keys:
                tangled.update(groups[key][2])
    if not tangled:
        return found
    if 4 * len(tangled) > len(found):
        return equations.in_line_order(set(found))  # a quarter of them or more: one pass for all
    in_order = equations.in_line_order(tangled)
    clear = {cell for key, cells in taken.items() if not tangled.intersection(groups[key][2]) for cell in cells}
    if any(chosen in clear for chosen in release.rehearse(in_order, lines_of)):
        return equations.in_line_order(set(found))
    return in_order + [position for position in found if position not in tangled]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the equations are solved: they make hundreds of thousands
    of small dicts and sets, none in a cycle (reference counting frees them), and every so many of them
    the collector would walk the whole process's heap, a quarter of the time of a national year."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def suppress_together(tables: list[Table], links: list[Line] | None = None) -> list[Table]:
    """Suppress tables that are published side by side, so that no hidden figure of any of them can be
    worked out from all of them together. ``links`` are further sums that hold between the tables'
    figures: a year's cell is the sum of its quarters' cells, two tables share a row total, and so on.

    Looking at each line again only when one of its figures has been hidden since, solving the equations
    once and keeping them solved, and protecting determined figures in their pivots' order only when
    the order can make a difference are all ways of getting the same answer sooner:
    ``tests/oversight/test_suppression_equivalence.py`` holds the rule as it was first written and checks
    the two agree, figure for figure.

    What is hidden depends on nothing but the tables' counts and the sums between them, so it is worked
    out once for the same figures (``_suppressed``, the last few sets asked for): the statistics page,
    its CSV and each period of a year are the same tables, and the figures change only when the workers
    refresh the summary views."""
    counts = tuple((table.n_cols, tuple(tuple(row) for row in table.counts)) for table in tables)
    # The links as one flat run of whole numbers: per link, how many figures add up, their positions, and
    # the position of their sum (a national year's links are some 50,000 small numbers, kept compactly).
    sums = tuple(
        number
        for members, total in links or ()
        for number in (len(members), *(i for cell in members for i in cell), *total)
    )
    for table, (primary, secondary) in zip(tables, _suppressed(counts, sums), strict=True):
        table._values = {}
        table.primary, table.secondary = set(primary), set(secondary)
    return tables


Counts = tuple[tuple[int, tuple[tuple[int, ...], ...]], ...]  # each table's number of columns and counts
Hidden = tuple[tuple[frozenset[Position], frozenset[Position]], ...]  # each table's (primary, secondary)


@lru_cache(maxsize=16)
def _suppressed(counts: Counts, sums: tuple[int, ...]) -> Hidden:
    """What ``suppress_together`` hides in each table (primary, secondary) for these figures."""
    tables = [
        Table(row_labels=[""] * len(rows), column_labels=[""] * n_cols, counts=[list(row) for row in rows])
        for n_cols, rows in counts
    ]
    links: list[Line] = []
    at = 0
    while at < len(sums):
        size = sums[at]
        numbers = sums[at + 1 : at + 1 + 3 * size + 3]
        cells = [(numbers[i], numbers[i + 1], numbers[i + 2]) for i in range(0, len(numbers), 3)]
        links.append((cells[:-1], cells[-1]))
        at += 1 + 3 * size + 3
    with _collector_paused():
        _suppress_together(tables, links)
    return tuple((frozenset(table.primary), frozenset(table.secondary)) for table in tables)


def forget() -> None:
    """Forget what was worked out for earlier figures (the benchmarks measure it from nothing)."""
    _suppressed.cache_clear()


def _suppress_together(tables: list[Table], links: list[Line] | None = None) -> list[Table]:
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
    for i, line in enumerate(release.lines):
        for cell in (*line[0], line[1]):
            lines_of.setdefault(cell, []).append(line)
            release.lines_at.setdefault(cell, []).append(i)
    hidden, settled = release.hidden, release.settled
    equations: _Equations | None = None
    changed = True
    while changed:
        changed = False
        for i, (members, total) in enumerate(release.lines):
            if i in settled:
                continue
            count = sum(map(hidden.__contains__, members)) + (total in hidden)
            if (count == 1 or (count >= 2 and release.pinned(members, total))) and release.hide_another(members, total):
                changed = True
            else:
                settled.add(i)
        if changed:
            continue
        # Protect every figure the equations give away in one pass, then solve again.
        if equations is None or 10 * len(release.newly_hidden) > len(hidden):
            # Solving afresh is cheaper than bringing the equations up to date with that many more.
            equations = _Equations(release.lines)
            equations.add(hidden)
        else:
            equations.add(release.newly_hidden)
        release.newly_hidden.clear()
        for position in _protection_order(release, equations, lines_of):
            if release.protect(lines_of.get(position, [])):
                changed = True
    for t, table in enumerate(tables):
        table.primary = {(r, c) for tt, r, c in release.primary if tt == t}
        table.secondary = {(r, c) for tt, r, c in release.secondary if tt == t}
    return tables


def suppress(table: Table) -> Table:
    """Suppress one table published on its own."""
    return suppress_together([table])[0]

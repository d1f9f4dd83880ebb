"""The national picture in the statistics (issue 24, point 2): what the helpline recorded about cases
(triage.CaseFacts), as totals only, suppressed with every other table of the year, and how complete it is
(the share of cases where each field is known), by authority and for the whole scope.

Kept apart from oversight.selectors' other tables: its measures are added to the year's with the sums that
hold between them (``picture_measures``), and its completeness tables are shown as one table of shares
(``completeness_shown``). Nothing here reads a case: only the summary view oversight_picture_facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum

from oversight.models import PictureFact
from oversight.periods import Measure, SameFigure, quarter_of
from oversight.suppression import FEWER, SUPPRESSED, Table
from triage.facts import COMPLETENESS_FIELDS, ETHNICITY_ANSWERS, NATIONALITY_ANSWERS, Known, OfstedClass, Setting

COMPLETENESS_PREFIX = "completeness-"
COMPLETENESS_TITLE = "How complete the record is: the share of cases where each is known, by authority"
KNOWN_COLUMNS = [("yes", "Yes"), ("no", "No"), ("not_known", "Not known")]
CIRCUMSTANCES = [
    ("looked_after", "Looked after"),
    ("placed_out_of_area", "Placed out of area"),
    ("missing_episodes", "Missing episodes"),
]


@dataclass(frozen=True)
class Picture:
    """The national picture's measures for a year, and the sums between them and the rest."""

    measures: list[Measure]
    shared_row_totals: tuple[tuple[str, str], ...]
    same_figures: tuple[SameFigure, ...]


def _by_quarter(
    rows: Sequence[Mapping[str, Any]],
    row_key: str,
    col_key: str | None,
    row_labels: Sequence[tuple[str, str]],
    col_labels: Sequence[tuple[str, str]],
    value: str = "total",
) -> list[list[list[int]]]:
    index: dict[tuple[str, str, int], int] = {}
    for r in rows:
        key = (str(r[row_key]), str(r[col_key]) if col_key else "", quarter_of(r["month"]))
        index[key] = index.get(key, 0) + int(r[value] or 0)
    columns = [code for code, _ in col_labels] if col_key else [""]
    return [[[index.get((rk, ck, q), 0) for ck in columns] for rk, _ in row_labels] for q in range(1, 5)]


def _measure(
    slug: str, title: str, counts: list[list[list[int]]], rows: Sequence[tuple[str, str]], columns: list[str]
) -> Measure:
    return Measure(
        slug=slug, title=title, row_labels=[label for _, label in rows], column_labels=columns, quarter_counts=counts
    )


def picture_measures(facts: QuerySet[PictureFact], authorities: list[tuple[str, str]]) -> Picture:
    """The national picture's tables for a year (``facts`` already limited to the year and the scope):
    cases by Ofsted's classification, group-based, settings and the child's circumstances, suspects by
    ethnicity and nationality, and one completeness table per field by authority (Known, Not known; their
    row totals are each authority's cases, shared). Two queries."""
    sums: list[dict[str, Any]] = [
        dict(row)
        for row in facts.values("dimension", "category", "month").annotate(total=Sum("cases"), people=Sum("suspects"))
    ]
    by_dimension: dict[str, list[dict[str, Any]]] = {}
    for row in sums:
        by_dimension.setdefault(row["dimension"], []).append(row)
    cases_column = ["Cases"]
    not_known = [("not_known", "Not known")]
    ofsted_rows = [*OfstedClass.choices, *not_known]
    known_rows = list(Known.choices)
    measures = [
        _measure(
            "picture-ofsted",
            "Cases by Ofsted's classification",
            _by_quarter(by_dimension.get("ofsted_class", []), "category", None, ofsted_rows, []),
            ofsted_rows,
            cases_column,
        ),
        _measure(
            "picture-group-based",
            "Group-based exploitation (more than one perpetrator)",
            _by_quarter(by_dimension.get("group_based", []), "category", None, known_rows, []),
            known_rows,
            cases_column,
        ),
        _measure(
            "picture-settings",
            "Cases by setting (a case may have several)",
            _by_quarter(by_dimension.get("setting", []), "category", None, Setting.choices, []),
            Setting.choices,
            cases_column,
        ),
        _measure(
            "picture-circumstances",
            "The child's circumstances",
            _by_quarter(
                [r for d, _ in CIRCUMSTANCES for r in by_dimension.get(d, [])],
                "dimension",
                "category",
                CIRCUMSTANCES,
                KNOWN_COLUMNS,
            ),
            CIRCUMSTANCES,
            [label for _, label in KNOWN_COLUMNS],
        ),
        _measure(
            "picture-ethnicity",
            "Suspects by ethnicity (2021 census categories)",
            _by_quarter(by_dimension.get("suspect_ethnicity", []), "category", None, ETHNICITY_ANSWERS, [], "people"),
            ETHNICITY_ANSWERS,
            ["Suspects"],
        ),
        _measure(
            "picture-nationality",
            "Suspects by nationality",
            _by_quarter(
                by_dimension.get("suspect_nationality", []), "category", None, NATIONALITY_ANSWERS, [], "people"
            ),
            NATIONALITY_ANSWERS,
            ["Suspects"],
        ),
    ]
    measures += _completeness_measures(facts, authorities)
    first = f"{COMPLETENESS_PREFIX}{COMPLETENESS_FIELDS[0][0]}"
    shared = tuple((first, f"{COMPLETENESS_PREFIX}{field}") for field, _ in COMPLETENESS_FIELDS[1:])
    return Picture(measures=measures, shared_row_totals=shared, same_figures=_same_figures(len(ofsted_rows)))


def _completeness_measures(facts: QuerySet[PictureFact], authorities: list[tuple[str, str]]) -> list[Measure]:
    """Per field, cases by authority where it is known and where it is not (the cases less the known)."""
    rows: list[dict[str, Any]] = [
        {**row, "authority_id": str(row["authority_id"])}
        for row in facts.filter(dimension__in=("cases", "known"))
        .values("authority_id", "dimension", "category", "month")
        .annotate(total=Sum("cases"))
    ]
    cases = _by_quarter([r for r in rows if r["dimension"] == "cases"], "authority_id", None, authorities, [])
    measures = []
    for field, label in COMPLETENESS_FIELDS:
        known = [r for r in rows if r["dimension"] == "known" and r["category"] == field]
        known_counts = _by_quarter(known, "authority_id", None, authorities, [])
        counts = [
            [[known_counts[q][r][0], cases[q][r][0] - known_counts[q][r][0]] for r in range(len(authorities))]
            for q in range(4)
        ]
        measures.append(_measure(f"{COMPLETENESS_PREFIX}{field}", label, counts, authorities, ["Known", "Not known"]))
    return measures


def _same_figures(ofsted_rows: int) -> tuple[SameFigure, ...]:
    """The figures the tables by category and the completeness tables both give: the cases where a field
    is not known, and every table's count of all cases in the scope (its grand total)."""
    completeness = f"{COMPLETENESS_PREFIX}ofsted_class"
    cases: Sequence[tuple[str, int, int]] = (
        ("picture-ofsted", -1, -1),
        ("picture-group-based", -1, -1),
        *((("picture-circumstances", r, -1)) for r in range(len(CIRCUMSTANCES))),
    )
    same: list[SameFigure] = [((completeness, -1, -1), figure) for figure in cases]
    # Not known: the last row of Ofsted's, the row of "not known" in group-based, the column in circumstances.
    same.append((("picture-ofsted", ofsted_rows - 1, 0), (completeness, -1, 1)))
    same.append((("picture-group-based", 2, 0), (f"{COMPLETENESS_PREFIX}group_based", -1, 1)))
    same += [
        (("picture-circumstances", r, 2), (f"{COMPLETENESS_PREFIX}{field}", -1, 1))
        for r, (field, _) in enumerate(CIRCUMSTANCES)
    ]
    return tuple(same)


# --- what the page and the CSV show ------------------------------------------------------------------------


def is_completeness(slug: str) -> bool:
    return slug.startswith(COMPLETENESS_PREFIX)


def share_text(known: str, total: str) -> str:
    """A share of cases, from two published figures: a percentage when both are figures, else what the
    suppression says of the known count (never worked out from what it hides)."""
    if known not in SUPPRESSED and total not in SUPPRESSED:
        return f"{round(100 * int(known) / int(total))}%" if int(total) else "no cases"
    if known == FEWER:
        return "fewer than 5 cases"
    return "hidden"


@dataclass(frozen=True)
class CompletenessRows:
    columns: list[str]
    rows: list[tuple[str, list[str]]]
    total: list[str]


def completeness_rows(tables: Sequence[tuple[str, str, Table]]) -> CompletenessRows | None:
    """The completeness tables as one: per authority its cases and each field's share known; authorities
    with no case left out (their published total is 0); the last row is the whole scope's."""
    fields = [(slug, title, table) for slug, title, table in tables if is_completeness(slug)]
    if not fields:
        return None
    first = fields[0][2]
    columns = ["Cases", *(title for _, title, _ in fields)]
    rows = []
    for r, label in enumerate(first.row_labels):
        total = first.row_total_text(r)
        if total == "0":
            continue
        rows.append((label, [total, *(share_text(t.text(r, 0), t.row_total_text(r)) for _, _, t in fields)]))
    grand = first.grand_total_text()
    totals = [grand, *(share_text(t.column_total_text(0), t.grand_total_text()) for _, _, t in fields)]
    return CompletenessRows(columns=columns, rows=rows, total=totals)

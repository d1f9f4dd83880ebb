"""Boards see their area; national oversight sees every area and the pattern alerts. No identity, no
free text: codes and suppressed counts, with a CSV export of exactly what is on screen."""

from __future__ import annotations

import csv
from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import staff_required, staff_user
from accounts.models import User
from oversight import selectors
from oversight.suppression import LEGEND, SUPPRESSED, Table

# Who may see what is decided by oversight.selectors (scope_for, pattern_alerts_for): these views only
# require a signed-in, verified member of staff.


def _periods(today: date) -> tuple[date, date, list[str]]:
    since = date(today.year - 1, today.month, 1)
    quarter_start = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarters = []
    year, q = quarter_start.year, (quarter_start.month - 1) // 3 + 1
    for _ in range(8):
        quarters.append(f"{year} Q{q}")
        q -= 1
        if q == 0:
            year, q = year - 1, 4
    quarters.reverse()
    first_year, first_q = int(quarters[0][:4]), int(quarters[0][-1])
    return since, date(first_year, 3 * (first_q - 1) + 1, 1), quarters


def chart_bars(table: Table, column: int) -> list[dict[str, Any]]:
    """Bars for one column: the share of each row's total, only where neither is suppressed."""
    bars = []
    for r, label in enumerate(table.row_labels):
        total = table.row_total(r)
        shown = table.cell(r, column) not in SUPPRESSED and table.row_total_text(r) not in SUPPRESSED and total > 0
        share = table.counts[r][column] / total if shown else None
        bars.append(
            {
                "label": label,
                "share": share,
                "percent": round(share * 100) if share is not None else None,
                "width": round(share * 300) if share is not None else 0,
                "y": 24 * r,
            }
        )
    return bars


def statistics_context(user: User) -> dict[str, Any]:
    scope = selectors.scope_for(user)
    since, quarters_since, quarters = _periods(timezone.localdate())
    ack = selectors.timeliness(scope, since=since, column="ack")
    outcome_timeliness = selectors.timeliness(scope, since=since, column="outcome_timeliness")
    return {
        "scope": scope,
        "since": since,
        "tables": [
            ("acknowledgements", "Acknowledgement of referrals, by authority", ack),
            ("outcome-timeliness", "Outcomes within 45 working days, by authority", outcome_timeliness),
            ("outcomes", "Closed cases by outcome", selectors.outcomes(scope, since=since)),
            ("authority-outcomes", "What authorities recorded", selectors.authority_outcomes(scope, since=since)),
            (
                "concern-trends",
                "Concern types by quarter",
                selectors.concern_trends(scope, quarters=quarters, since=quarters_since),
            ),
        ],
        "ack_bars": chart_bars(ack, 0),
        "ack_chart_height": 24 * len(ack.row_labels),
        "closed_cases": selectors.closed_case_list(scope, since=since),
    }


@staff_required()
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    return render(request, "oversight/statistics.html", statistics_context(staff_user(request)))


@staff_required()
@require_GET
def statistics_csv(request: HttpRequest) -> HttpResponse:
    context = statistics_context(staff_user(request))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="statistics.csv"'
    writer = csv.writer(response)
    writer.writerow([f"Statistics for {context['scope'].label} since {context['since']:%B %Y}", LEGEND])
    for _, title, table in context["tables"]:
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(["", *table.column_labels, "Total"])
        for label, cells, total in table.rows():
            writer.writerow([label, *cells, total])
        writer.writerow(["Total", *table.totals(), table.grand_total_text()])
    writer.writerow([])
    writer.writerow(["Closed cases"])
    writer.writerow(["Month", "Outcome", "Authority outcome", "Cases"])
    writer.writerows(context["closed_cases"])
    return response


@staff_required()
@require_GET
def pattern_alerts(request: HttpRequest) -> HttpResponse:
    view = selectors.pattern_alerts_for(staff_user(request))
    return render(request, "oversight/patterns.html", {"alerts": view.alerts, "show_cases": view.show_cases})

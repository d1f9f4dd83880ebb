"""Boards see their area; national oversight sees every area and the pattern alerts. No identity, no
free text: codes and suppressed counts, with a CSV export of exactly what is on screen."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.decorators import staff_required, staff_user
from accounts.models import User
from oversight import selectors
from oversight.periods import Period, period_parse, periods_allowed
from oversight.suppression import LEGEND, SUPPRESSED, Table

# Who may see what is decided by oversight.selectors (scope_for, pattern_alerts_for): these views only
# require a signed-in, verified member of staff.

# The chart is drawn at the width of the page's main column (960 px), in GOV.UK's typeface and type
# scale (16 px for labels, as govuk-body-s on a wide screen), one row per authority with a figure.
CHART = {
    "width": 960,
    "font_family": '"GDS Transport", arial, sans-serif',
    "font_size": 16,
    "label_width": 260,
    "text_colour": "#0b0c0c",
    "bar_colour": "#1d70b8",
}
CHART_BAR_WIDTH = 600
CHART_ROW = 28


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label="Period",
        error_messages={
            "invalid_choice": "Choose a year or a quarter from the list",
            "required": "Choose a year or a quarter from the list",
        },
    )

    def __init__(self, *args: Any, periods: list[Period], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["period"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 - declared just above
        field.choices = [
            (p.slug, p.label if p.quarter is None else f"{p.label} (quarter {p.quarter})") for p in periods
        ]


def chart_bars(table: Table, column: int) -> tuple[list[dict[str, Any]], list[str]]:
    """Bars for one column: the share of each row's total, where neither is suppressed and the total is
    not zero; and the labels of the rows with no figure, said once under the chart rather than as bars."""
    bars: list[dict[str, Any]] = []
    without: list[str] = []
    for r, label in enumerate(table.row_labels):
        total = table.row_total(r)
        if table.cell(r, column) in SUPPRESSED or table.row_total_text(r) in SUPPRESSED or total == 0:
            without.append(label)
            continue
        share = table.counts[r][column] / total
        bars.append(
            {
                "label": label,
                "share": share,
                "percent": round(share * 100),
                "width": round(share * CHART_BAR_WIDTH),
                "y": CHART_ROW * len(bars),
            }
        )
    return bars, without


def statistics_context(user: User, period: Period | None = None) -> dict[str, Any]:
    """Everything the statistics page and its CSV show, for one whole year (this one by default) or
    quarter; PeriodNotAllowed for any other period."""
    scope = selectors.scope_for(user)
    today = timezone.localdate()
    periods = periods_allowed(first_month=selectors.first_month(), today=today)
    chosen = period or Period(today.year)
    if chosen not in periods:
        raise PeriodNotAllowed(periods)
    tables = selectors.statistics_tables(scope, period=chosen)
    ack = next(table for slug, _, table in tables if slug == "acknowledgements")
    bars, without = chart_bars(ack, 0)
    return {
        "scope": scope,
        "period": chosen,
        "periods": periods,
        "form": PeriodForm({"period": chosen.slug}, periods=periods),
        "tables": tables,
        "ack_bars": bars,
        "ack_without_figure": without,
        "ack_chart_height": CHART_ROW * max(len(bars), 1),  # one line says so when there are no bars
        "chart": CHART,
    }


class PeriodNotAllowed(Exception):
    def __init__(self, periods: list[Period]) -> None:
        super().__init__("not an allowed period")
        self.periods = periods


def _period_chosen(request: HttpRequest) -> Period | None:
    """The period asked for; PeriodNotAllowed when the address names one that is not a whole year or
    quarter on offer (checked against the list in statistics_context)."""
    text = request.GET.get("period")
    if text is None:
        return None
    found = period_parse(text)
    if found is None:
        raise PeriodNotAllowed([])
    return found


def _period_refused(request: HttpRequest, user: User) -> HttpResponse:
    """The page with the choice of periods and GOV.UK's error summary, and no figures: a 400."""
    scope = selectors.scope_for(user)
    periods = periods_allowed(first_month=selectors.first_month(), today=timezone.localdate())
    form = PeriodForm(request.GET, periods=periods)
    form.is_valid()
    if not form.errors:
        form.add_error("period", "Choose a year or a quarter from the list")
    return render(request, "oversight/statistics.html", {"scope": scope, "form": form, "periods": periods}, status=400)


@staff_required()
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    try:
        context = statistics_context(user, _period_chosen(request))
    except PeriodNotAllowed:
        return _period_refused(request, user)
    return render(request, "oversight/statistics.html", context)


@staff_required()
@require_GET
def statistics_csv(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    try:
        context = statistics_context(user, _period_chosen(request))
    except PeriodNotAllowed:
        return _period_refused(request, user)
    period: Period = context["period"]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="statistics-{period.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow([f"Statistics for {context['scope'].label}, {period.label}", LEGEND])
    for _, title, table in context["tables"]:
        writer.writerow([])
        writer.writerow([title])
        writer.writerow(["", *table.column_labels, "Total"])
        for label, cells, total in table.rows():
            writer.writerow([label, *cells, total])
        writer.writerow(["Total", *table.totals(), table.grand_total_text()])
    return response


@staff_required()
@require_GET
def pattern_alerts(request: HttpRequest) -> HttpResponse:
    view = selectors.pattern_alerts_for(staff_user(request))
    return render(request, "oversight/patterns.html", {"alerts": view.alerts, "show_cases": view.show_cases})


@staff_required()
@require_GET
def pattern_alert_detail(request: HttpRequest, key: str) -> HttpResponse:
    found = selectors.pattern_alert_for(staff_user(request), key=key)
    if found is None:
        raise Http404("No such pattern alert at the moment")
    alert, show_cases = found
    return render(request, "oversight/pattern_detail.html", {"alert": alert, "show_cases": show_cases})

"""Safeguarding partnerships see their authorities; national oversight sees every area, each region's
figures, the pattern alerts and the annual report. No identity, no free text: codes and suppressed counts,
with a CSV export of exactly what is on screen (``oversight.presentation`` decides what is shown, for both)."""

from __future__ import annotations

import csv
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.decorators import staff_required, staff_user
from accounts.models import User
from accounts.policy import Permission, may
from oversight import alerts, patterns, selectors
from oversight.alert_display import alerts_shown
from oversight.annual_export import annual_report_files
from oversight.forms import PERIOD_ERROR, DismissAlertForm, PeriodForm
from oversight.models import PatternAlert
from oversight.periods import Period, period_parse, periods_allowed
from oversight.presentation import NO_REFERRALS, NO_ROWS, statistics_csv_rows, statistics_shown
from oversight.suppression import SUPPRESSED, Table

# Who may see what is decided by accounts.policy: each view names its permission, and the selectors
# (scope_for, pattern_alerts_for) ask the policy again for the area the figures cover.

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


def chart_bars(
    table: Table, column: int, *, named_elsewhere: frozenset[str] = frozenset()
) -> tuple[list[dict[str, Any]], list[str]]:
    """Bars for one column: the share of each row's total, where neither is suppressed and the total is
    not zero; and the labels of the other rows, said once under the chart rather than as bars, except
    those ``named_elsewhere`` (the authorities with no referrals, named once for the whole page)."""
    bars: list[dict[str, Any]] = []
    without: list[str] = []
    for r, label in enumerate(table.row_labels):
        total = table.row_total(r)
        if table.cell(r, column) in SUPPRESSED or table.row_total_text(r) in SUPPRESSED or total == 0:
            if label not in named_elsewhere:
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
    shown = statistics_shown(tables)
    ack = next(table for slug, _, table in tables if slug == "acknowledgements")
    bars, without = chart_bars(ack, 0, named_elsewhere=frozenset(shown.no_referrals))
    return {
        "scope": scope,
        "period": chosen,
        "periods": periods,
        "form": PeriodForm({"period": chosen.slug}, periods=periods),
        "tables": tables,  # as published (suppressed); "shown" is what the page and the CSV show of them
        "shown": shown,
        # The yearly report on disclosures is national: offered to national oversight, for the period's year.
        "annual_report_year": chosen.year if scope.national else None,
        "annual_report_so_far": chosen.year >= today.year,
        "no_referrals_heading": NO_REFERRALS,
        "no_rows": NO_ROWS,
        "ack_bars": bars,
        "ack_without_figure": without,
        "ack_chart_height": CHART_ROW * max(len(bars), 1),  # one line says so when there are no bars
        "chart": CHART,
        "refreshed_at": selectors.figures_refreshed_at(),
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
        form.add_error("period", PERIOD_ERROR)
    return render(request, "oversight/statistics.html", {"scope": scope, "form": form, "periods": periods}, status=400)


@staff_required(Permission.STATISTICS)
@require_GET
def statistics(request: HttpRequest) -> HttpResponse:
    user = staff_user(request)
    try:
        context = statistics_context(user, _period_chosen(request))
    except PeriodNotAllowed:
        return _period_refused(request, user)
    return render(request, "oversight/statistics.html", context)


@staff_required(Permission.STATISTICS)
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
    heading = f"Statistics for {context['scope'].label}, {period.label}"
    csv.writer(response).writerows(statistics_csv_rows(heading, context["shown"]))
    return response


@staff_required(Permission.STATISTICS)
@require_GET
def published_figures(request: HttpRequest) -> HttpResponse:
    """The figures the whistleblowing field compares itself on, beside their benchmarks, for a whole year (this
    one by default): the page with GOV.UK's error summary and a 400 for any other period."""
    user = staff_user(request)
    years = [
        period
        for period in periods_allowed(first_month=selectors.first_month(), today=timezone.localdate())
        if period.quarter is None
    ]
    form = PeriodForm(request.GET if "period" in request.GET else {"period": years[0].slug}, periods=years)
    if not form.is_valid():
        scope = selectors.scope_for(user)
        return render(request, "oversight/published_figures.html", {"scope": scope, "form": form}, status=400)
    year = next(period for period in years if period.slug == form.cleaned_data["period"])
    scope, figures = selectors.published_figures_for(user, year=year.year)
    context = {
        "scope": scope,
        "form": form,
        "year": year,
        "figures": figures,
        "so_far": year.year >= timezone.localdate().year,
    }
    return render(request, "oversight/published_figures.html", context)


@staff_required(Permission.NATIONAL_STATISTICS)
@require_GET
def annual_report_download(request: HttpRequest, year: int, extension: str) -> HttpResponse:
    """The annual report on disclosures, as ``manage.py annual_report`` writes it: national oversight
    only (national totals), for a year the statistics page offers."""
    offered = {p.year for p in periods_allowed(first_month=selectors.first_month(), today=timezone.localdate())}
    if year not in offered or extension not in ("csv", "html"):
        raise Http404("No annual report for that year")
    report_file = annual_report_files(year)[extension]
    response = HttpResponse(report_file.text, content_type=report_file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{report_file.name}"'
    return response


@staff_required(Permission.PATTERN_ALERTS)
@require_GET
def pattern_alerts(request: HttpRequest) -> HttpResponse:
    """Every alert, open first, each with its figures, the weeks compared and a small chart."""
    view = selectors.pattern_alerts_for(staff_user(request))
    shown = alerts_shown(view.alerts)
    groups = [
        (label, [one for one in shown if one.alert.status == code])
        for code, label in (
            (PatternAlert.Status.OPEN, "Open alerts"),
            (PatternAlert.Status.ACKNOWLEDGED, "Acknowledged"),
            (PatternAlert.Status.REVIEW, "Turned into a national review"),
            (PatternAlert.Status.DISMISSED, "Dismissed"),
        )
    ]
    return render(request, "oversight/patterns.html", {"groups": groups, "any_alerts": bool(shown)})


def _alert_page(
    request: HttpRequest, alert_id: int, *, form: DismissAlertForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    user = staff_user(request)
    found = selectors.pattern_alert_for(user, alert_id=alert_id)
    if found is None:
        raise Http404("No such pattern alert")
    alert, show_cases = found
    shown = alerts_shown([alert])[0]
    if show_cases:  # the helpline only: oversight sees the counts, never the cases behind them
        shown.case_numbers = patterns.cases_behind(alert)
    columns, evidence = patterns.evidence_behind(alert)
    context = {
        "shown": shown,
        "alert": alert,
        "show_cases": show_cases,
        "form": form or DismissAlertForm(),
        "error": error,
        "evidence_columns": columns,
        "evidence": evidence,
        "may_review": may(user, Permission.OPEN_REVIEW_CASE),
        "reviewable": alerts.REVIEWABLE,
    }
    return render(request, "oversight/pattern_detail.html", context, status=status)


@staff_required(Permission.PATTERN_ALERTS)
@require_GET
def pattern_alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    return _alert_page(request, alert_id)


@staff_required(Permission.PATTERN_ALERTS)
@require_POST
def pattern_alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(PatternAlert, pk=alert_id)
    try:
        alerts.alert_acknowledge(alert, user=staff_user(request))
    except alerts.AlertNotOpen as refused:
        return _alert_page(request, alert_id, error=str(refused), status=409)
    return redirect("oversight:patterns")


@staff_required(Permission.PATTERN_ALERTS)
@require_POST
def pattern_alert_dismiss(request: HttpRequest, alert_id: int) -> HttpResponse:
    alert = get_object_or_404(PatternAlert, pk=alert_id)
    form = DismissAlertForm(request.POST)
    if not form.is_valid():
        return _alert_page(request, alert_id, form=form, status=400)
    try:
        alerts.alert_dismiss(alert, user=staff_user(request), note=form.cleaned_data["note"])
    except alerts.AlertNotOpen as refused:
        return _alert_page(request, alert_id, error=str(refused), status=409)
    return redirect("oversight:patterns")


@staff_required(Permission.OPEN_REVIEW_CASE)
@require_POST
def pattern_alert_review(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Open a case for independent national review from the alert (once: pressed again, nothing more)."""
    alert = get_object_or_404(PatternAlert, pk=alert_id)
    try:
        alerts.alert_review(alert, user=staff_user(request))
    except alerts.AlertNotOpen as refused:
        return _alert_page(request, alert_id, error=str(refused), status=409)
    return redirect("oversight:pattern_detail", alert_id=alert_id)

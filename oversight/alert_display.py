"""A stored pattern alert as the pages show it: a title in plain English, the figures, the weeks compared, what
it was compared with, and a small chart of its series (inline SVG drawn on the server, in GOV.UK's typeface,
with the same figures as a table for anyone who cannot see it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings

from directory.models import LocalAuthority
from oversight import series
from oversight.models import PatternAlert
from reports.models import ConcernType
from triage.facts import OfstedClass, Setting

CHART_WEEKS = 26  # the weeks the chart shows, the judged one last
CHART_WIDTH = 600
CHART_HEIGHT = 120
CHART_FONT = '"GDS Transport", arial, sans-serif'
BAR_COLOUR = "#1d70b8"  # GOV.UK blue
JUDGED_COLOUR = "#d4351c"  # GOV.UK red: the week judged
BOUND_COLOUR = "#0b0c0c"


def method_label(alert: PatternAlert) -> str:
    weeks = alert.baseline_weeks
    if alert.method == "farrington":
        return (
            f"Compared with the same weeks of past years, allowing for season and trend (Farrington flexible), "
            f"over {weeks} weeks"
        )
    if alert.method in ("short_history", "too_short"):
        return f"Not enough history: compared with the average of {weeks} weeks"
    if alert.method == "standard":
        return (
            f"Against the statutory standard of acknowledgement within 1 working day, over the last {weeks} weeks: "
            f"late in more than {settings.PATTERN_STANDARD_LATE_SHARE:.0%} of referrals"
        )
    return (
        f"Named in {settings.PATTERN_ORGANISATION_MIN_REPORTS} or more reports within "
        f"{settings.PATTERN_ORGANISATION_DAYS} days"
    )


@dataclass
class Bar:
    week: date
    count: int
    x: int
    y: int
    height: int
    judged: bool


@dataclass
class Chart:
    bars: list[Bar]
    bar_width: int
    bound_y: int | None
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    font_family: str = CHART_FONT
    bar_colour: str = BAR_COLOUR
    judged_colour: str = JUDGED_COLOUR
    bound_colour: str = BOUND_COLOUR
    top: int = 0  # the count at the top of the chart


def chart_of(alert: PatternAlert) -> Chart | None:
    history = list(alert.history or [])[-CHART_WEEKS:]
    if not history:
        return None
    bound = alert.threshold
    top = max([*history, int(bound) + 1 if bound is not None else 0, 1])
    plot = CHART_HEIGHT - 20  # room below for the axis label
    bar_width = CHART_WIDTH // len(history)
    step = timedelta(days=series.period_days())
    bars = []
    for n, count in enumerate(history):
        height = round(count / top * plot)
        bars.append(
            Bar(
                week=alert.period_start - step * (len(history) - 1 - n),
                count=count,
                x=n * bar_width,
                y=plot - height,
                height=height,
                judged=n == len(history) - 1,
            )
        )
    bound_y = None if bound is None else plot - round(bound / top * plot)
    return Chart(bars=bars, bar_width=max(bar_width - 2, 1), bound_y=bound_y, top=top)


@dataclass
class AlertShown:
    alert: PatternAlert
    title: str
    what: str  # what the series counts
    method: str
    chart: Chart | None
    case_numbers: list[str] = field(default_factory=list)

    @property
    def weeks_compared(self) -> str:
        start, end = self.alert.period_start, self.alert.period_end
        return f"{start:%-d %B %Y} to {end:%-d %B %Y}"


def _title(alert: PatternAlert, names: dict[str, str]) -> tuple[str, str]:
    key = alert.series
    if alert.kind == PatternAlert.Kind.SURGE:
        region = key.get("region")
        if "setting" in key:
            setting = str(dict(Setting.choices).get(key["setting"], key["setting"]))
            return f"{setting}: more reports than expected in {region}", "Reports in this setting a week"
        if "group_based" in key:
            return f"Group-based exploitation: more reports than expected in {region}", "Reports of it a week"
        if "ofsted_class" in key:
            ofsted = str(dict(OfstedClass.choices).get(key["ofsted_class"], key["ofsted_class"]))
            return f"{ofsted}: more reports than expected in {region}", "Reports so classified a week"
        concern = str(dict(ConcernType.choices).get(key.get("concern_type", ""), key.get("concern_type", "")))
        return f"{concern}: more reports than expected in {region}", "Reports of this concern type a week"
    if alert.kind == PatternAlert.Kind.AUTHORITY_LATENESS:
        name = names.get(key.get("authority", ""), key.get("authority", ""))
        what = series.OUTCOME_CLASSES.get(key.get("outcome_class", ""), "Late referrals")
        if key.get("against"):
            return f"{name}: most referrals acknowledged after 1 working day", "Referrals acknowledged late"
        return f"{name}: {what.lower()} above its usual level", f"{what}, by the week they were due"
    return f"The same organisation named in {alert.observed} reports", "Reports naming the organisation"


def alerts_shown(alerts: list[PatternAlert]) -> list[AlertShown]:
    codes = {alert.series.get("authority") for alert in alerts if alert.series.get("authority")}
    names = dict(LocalAuthority.objects.filter(gss_code__in=codes).values_list("gss_code", "name"))
    shown = []
    for alert in alerts:
        title, what = _title(alert, names)
        shown.append(AlertShown(alert=alert, title=title, what=what, method=method_label(alert), chart=chart_of(alert)))
    return shown

"""Pattern detection: which series of the latest complete week stand out, stored as PatternAlert rows.

Each run (``detect``; beat runs it after every refresh of the statistics, ``manage.py detect_patterns`` now):

1. Reads the weekly series (oversight.series): reports per region x concern type (and x setting, group-based
   exploitation and Ofsted's classification, from the helpline's case facts), and referrals per
   authority x outcome class (late acknowledgements, late outcomes), PATTERN_HISTORY_WEEKS weeks of them.
2. Judges the latest *complete* week of every series against its own past with the Farrington flexible
   algorithm (oversight.farrington): an expected count and an upper bound (the 1 - PATTERN_ALPHA quantile),
   with trend and seasonality where the history allows; a series with under a year of history is compared
   with the average of the weeks it has, and says so. The current week is never judged: part-counted, it
   would only ever look low. Known events (PATTERN_KNOWN_EVENTS, such as the start of the duty to report)
   are given to the model as step changes, so the new normal is not read as a surge.
3. Controls false alerts across *every* series of the run with Benjamini-Hochberg at PATTERN_FDR_Q (the
   budget counts all the series judged, quiet or not), and never alerts on a week with fewer than
   PATTERN_MIN_COUNT (such a week is not fitted at all, but still counts in the budget at p = 1).
4. Authority lateness is judged two ways: against the authority's own history (step 2, ``ack_late`` and
   ``outcome_late``), and against the statutory standard of 1 working day, so that an authority that was
   always late still alerts: at least PATTERN_STANDARD_MIN_REFERRALS referrals in the last
   PATTERN_STANDARD_WEEKS complete weeks, more than PATTERN_STANDARD_LATE_SHARE of them acknowledged late.
5. Organisations named in several reports (keyed hash, PATTERN_ORGANISATION_DAYS days), as before.

An alert is unique per kind, series and weeks: running again adds nothing, and an alert acknowledged or
dismissed for those weeks stays as it is (a later week with the same pattern is a new alert).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from oversight import farrington, series
from oversight.models import PatternAlert
from oversight.patterns import same_organisation
from oversight.series import Series, Weeks

Kind = PatternAlert.Kind

# Method labels for alerts not judged by the model.
STANDARD = "standard"  # against the statutory 1 working day
COUNT = "count"  # organisations: a count against a minimum


@dataclass
class Finding:
    """An alert as detection finds it, before it is stored."""

    kind: str
    key: dict[str, str]
    period_start: date
    period_end: date
    observed: int
    expected: float
    threshold: float | None
    method: str
    baseline_weeks: int = 0
    history: list[int] = field(default_factory=list)
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def key_text(self) -> str:
        return "|".join(f"{name}={value}" for name, value in sorted(self.key.items()))


@dataclass
class Run:
    """What one run judged and found, and which alerts it stored for the first time."""

    weeks: Weeks
    judged: int = 0  # series judged (the false-alert budget counts them all)
    findings: list[Finding] = field(default_factory=list)
    created: list[PatternAlert] = field(default_factory=list)


def known_steps(weeks: Weeks, first: int) -> list[int]:
    """The positions, in a series starting at period ``first``, of the periods each known event falls in."""
    steps = []
    for day, _label in settings.PATTERN_KNOWN_EVENTS:
        position = weeks.index(day) - first
        if 0 < position < len(weeks.starts()) - first:
            steps.append(position)
    return sorted(set(steps))


NOT_JUDGED = "below_min_count"


def _assess(one: Series, weeks: Weeks) -> farrington.Assessment:
    """The series' latest week judged by the model; a week under PATTERN_MIN_COUNT can never alert, so it is
    not fitted (most series, most weeks) but still counts in the false-alert budget, at p = 1."""
    history = one.history
    if history[-1] < settings.PATTERN_MIN_COUNT:
        return farrington.Assessment(
            observed=history[-1],
            expected=math.nan,
            threshold=math.inf,
            p_value=1.0,
            method=NOT_JUDGED,
            baseline_weeks=0,
            dispersion=math.nan,
            trend=False,
            alarm=False,
        )
    return farrington.assess(
        one.history,
        years_back=settings.PATTERN_YEARS_BACK,
        alpha=settings.PATTERN_ALPHA,
        known_steps=known_steps(weeks, one.first),
        min_count=settings.PATTERN_MIN_COUNT,
        periods_per_year=max(1, round(365.25 / series.period_days())),
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def statistical_findings(weeks: Weeks) -> tuple[int, list[Finding]]:
    """Every series judged, and the alarms that stand after the control across all of them."""
    judged: list[tuple[Series, farrington.Assessment]] = []
    for family in (series.concern_series(weeks), series.facts_series(weeks), series.lateness_series(weeks)):
        judged.extend((one, _assess(one, weeks)) for one in family)
    stand = farrington.false_discovery_control([a for _, a in judged], q=settings.PATTERN_FDR_Q)
    last_day = weeks.end - timedelta(days=1)
    findings = [
        Finding(
            kind=Kind.AUTHORITY_LATENESS if one.family == "lateness" else Kind.SURGE,
            key=one.key,
            period_start=weeks.last,
            period_end=last_day,
            observed=assessment.observed,
            expected=assessment.expected,
            threshold=_finite(assessment.threshold),
            method=assessment.method,
            baseline_weeks=assessment.baseline_weeks,
            history=one.history,
        )
        for (one, assessment), kept in zip(judged, stand, strict=True)
        if kept and assessment.observed >= settings.PATTERN_MIN_COUNT
    ]
    return len(judged), findings


def standard_findings(weeks: Weeks) -> list[Finding]:
    """Authorities acknowledging most referrals after the statutory 1 working day, whatever their past."""
    span = settings.PATTERN_STANDARD_WEEKS
    first = weeks.last - timedelta(days=series.period_days() * (span - 1))
    findings = []
    for row in series.standard_lateness(first, weeks.end):
        if row.referrals < settings.PATTERN_STANDARD_MIN_REFERRALS:
            continue
        if row.late <= settings.PATTERN_STANDARD_LATE_SHARE * row.referrals:
            continue
        findings.append(
            Finding(
                kind=Kind.AUTHORITY_LATENESS,
                key={"authority": row.authority, "outcome_class": series.ACK_LATE, "against": "1_working_day"},
                period_start=first,
                period_end=weeks.end - timedelta(days=1),
                observed=row.late,
                # What the standard expects late: none. The bound is the share allowed before an alert.
                expected=0.0,
                threshold=settings.PATTERN_STANDARD_LATE_SHARE * row.referrals,
                method=STANDARD,
                baseline_weeks=span,
                source={"referrals": row.referrals},
            )
        )
    return findings


def organisation_findings(now: datetime) -> list[Finding]:
    findings = []
    for alert in same_organisation(now):
        first = alert.first_date or alert.date
        findings.append(
            Finding(
                kind=Kind.ORGANISATION,
                key={"organisation": alert.source["organisation"][:16]},
                period_start=series.period_start(first),
                period_end=series.period_start(alert.date) + timedelta(days=series.period_days() - 1),
                observed=alert.count,
                expected=0.0,
                threshold=float(settings.PATTERN_ORGANISATION_MIN_REPORTS - 1),
                method=COUNT,
                source={"organisation": alert.source["organisation"], "since": alert.source["since"]},
            )
        )
    return findings


def store(findings: list[Finding], *, today: date) -> list[PatternAlert]:
    """Store what is new; an alert already stored for the same kind, series and weeks is left as it is
    (whatever its status: a dismissed alert does not fire again for the same weeks). The new ones."""
    created = []
    with transaction.atomic():
        for found in findings:
            alert, made = PatternAlert.objects.get_or_create(
                kind=found.kind,
                series_key=found.key_text,
                period_start=found.period_start,
                period_end=found.period_end,
                defaults={
                    "series": found.key,
                    "observed": found.observed,
                    "expected": found.expected,
                    "threshold": found.threshold,
                    "method": found.method,
                    "baseline_weeks": found.baseline_weeks,
                    "history": found.history,
                    "source": found.source,
                    "created_on": today,
                },
            )
            if made:
                created.append(alert)
    return created


def detect(now: datetime | None = None) -> Run:
    """Run detection as of ``now`` (now by default) and store the alerts found."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    weeks = series.weeks_judged(today)
    run = Run(weeks=weeks)
    run.judged, statistical = statistical_findings(weeks)
    run.findings = statistical + standard_findings(weeks) + organisation_findings(now)
    run.created = store(run.findings, today=today)
    return run

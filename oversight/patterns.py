"""The organisation pattern, and the metadata behind an alert, without reading any plaintext.

* ``same_organisation``: the same organisation (by keyed hash of its normalised name) named in
  PATTERN_ORGANISATION_MIN_REPORTS reports or more within PATTERN_ORGANISATION_DAYS days;
* ``cases_behind``: the cases behind a stored alert (oversight.models.PatternAlert), for helpline
  supervisors only; ``evidence_behind``: the metadata rows an organisation alert stands on.

Statistical detection (surges, authority lateness) is oversight.detection's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache, partial
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from core.timetrail import day_start
from oversight.models import PatternAlert
from referrals.models import Referral
from reports.models import ConcernType, Report
from triage.models import Case

Evidence = list[list[str]]
Day = date  # a name for the type inside Alert, whose field ``date`` hides it


@dataclass(frozen=True)
class Alert:
    """One pattern, with the metadata behind it (``evidence``: one row per report, referral or window)."""

    kind: str
    key: str  # stable while the pattern lasts: the address of its metadata page
    title: str
    detail: str
    count: int
    date: date  # the latest day in the data behind the alert
    evidence_columns: list[str] = field(default_factory=list)
    case_numbers: list[str] = field(default_factory=list)
    # Where the metadata behind the alert comes from (the organisation's keyed hash, the authority, or the
    # rows themselves), so that an alert stored by the workers can read it again: only the alert's own page
    # shows it, so the list of alerts never reads the tens of thousands of referrals a national alert can
    # stand on.
    source: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    first_date: Day | None = None  # the earliest day in the data behind the alert

    @cached_property
    def evidence(self) -> Evidence:
        return _evidence_rows(self.kind, self.source)()


def _evidence_rows(kind: str, source: dict[str, Any]) -> Callable[[], Evidence]:
    if kind == "organisation":
        since = datetime.fromisoformat(source["since"])
        return partial(_reports_behind, _organisation_cases(source["organisation"], since))
    return partial(list, source.get("evidence", []))


def _day(day: date | None) -> str:
    """A day as the evidence shows it ("6 December 2026"); "" for none. The database gives the day
    (``TruncDate``, in the current time zone) and each day is written out once: alerts can stand on tens
    of thousands of referrals but only a few hundred days."""
    return _day_text(day) if day else ""


@lru_cache(maxsize=4096)
def _day_text(day: date) -> str:
    return f"{day:%-d %B %Y}"


def same_organisation(now: datetime) -> list[Alert]:
    # From the start of a day: the alert keeps ``since``, and the moment of the run that found it would date the
    # report that tipped the count (the time trail, docs/privacy.md).
    first_day = timezone.localdate(now) - timedelta(days=settings.PATTERN_ORGANISATION_DAYS)
    since = timezone.make_aware(datetime.combine(first_day, time.min))
    groups = list(
        # Up to ``now`` only: detection run as of a past moment (the benchmark's replay) must not see the
        # reports that came after it.
        Report.objects.filter(submitted_at__gte=since, submitted_at__lt=now)
        .exclude(organisation_hash="")
        .values("organisation_hash")
        .annotate(reports=Count("id"), latest=Max(TruncDate("submitted_at")), first=Min(TruncDate("submitted_at")))
        .filter(reports__gte=settings.PATTERN_ORGANISATION_MIN_REPORTS)
        .order_by("-reports")[:20]
    )
    alerts = []
    for group in groups:
        cases = _organisation_cases(group["organisation_hash"], since)
        names = sorted(cases.exclude(authority__isnull=True).values_list("authority__name", flat=True).distinct()[:20])
        alerts.append(
            Alert(
                kind="organisation",
                key=f"organisation-{group['organisation_hash'][:16]}",
                date=group["latest"],  # the day of the latest report counted
                first_date=group["first"],
                evidence_columns=["Submitted", "Authority", "Concern types", "Status"],
                source={"organisation": group["organisation_hash"], "since": since.isoformat()},
                title=f"The same organisation named in {group['reports']} reports",
                detail=f"Organisation {group['organisation_hash'][:8]} in the last "
                f"{settings.PATTERN_ORGANISATION_DAYS} days, across: {', '.join(names) or 'authorities not known'}",
                count=group["reports"],
                case_numbers=sorted(cases.order_by("-created_at").values_list("case_number", flat=True)[:20]),
            )
        )
    return alerts


def _organisation_cases(organisation_hash: str, since: datetime) -> QuerySet[Case]:
    return Case.objects.filter(report__organisation_hash=organisation_hash, report__submitted_at__gte=since)


def _reports_behind(cases: QuerySet[Case]) -> Evidence:
    concern_labels = dict(ConcernType.choices)
    status_labels = dict(Case.Status.choices)
    return [
        [
            _day(submitted),
            authority or "Not known",
            ", ".join(str(concern_labels.get(code, code)) for code in concerns or []),
            str(status_labels.get(status, status)),
        ]
        for submitted, authority, concerns, status in cases.order_by("report__submitted_at").values_list(
            TruncDate("report__submitted_at"), "authority__name", "report__concern_types", "status"
        )
    ]


CASES_BEHIND_MAX = 50


def _week_bounds(alert: PatternAlert) -> tuple[datetime, datetime]:
    return day_start(alert.period_start), day_start(alert.period_end + timedelta(days=1))


def cases_behind(alert: PatternAlert) -> list[str]:
    """The case numbers behind a stored alert (at most CASES_BEHIND_MAX), for helpline supervisors only:
    the reports of a surge's region and concern type in its week; the referrals a lateness alert counts;
    the reports naming an organisation."""
    start, end = _week_bounds(alert)
    key = alert.series
    cases: QuerySet[Case]
    if alert.kind == PatternAlert.Kind.SURGE:
        cases = Case.objects.filter(
            authority__region=key.get("region"), report__submitted_at__gte=start, report__submitted_at__lt=end
        )
        if "concern_type" in key:
            cases = cases.filter(report__concern_types__contains=[key["concern_type"]])
        elif "setting" in key:
            cases = cases.filter(facts__settings__contains=[key["setting"]])
        elif "group_based" in key:
            cases = cases.filter(facts__group_based=key["group_based"])
        elif "ofsted_class" in key:
            cases = cases.filter(facts__ofsted_class=key["ofsted_class"])
        else:
            return []
    elif alert.kind == PatternAlert.Kind.AUTHORITY_LATENESS:
        due = "outcome_due_at" if key.get("outcome_class") == "outcome_late" else "ack_due_at"
        done = "outcome_at" if due == "outcome_due_at" else "acknowledged_at"
        referrals = Referral.objects.filter(authority__gss_code=key.get("authority"))
        if key.get("against"):
            referrals = referrals.filter(referred_at__gte=start, referred_at__lt=end).filter(
                Q(**{f"{done}__isnull": True}) | Q(**{f"{done}__gt": F(due)})
            )
        else:
            referrals = referrals.filter(**{f"{due}__gte": start, f"{due}__lt": end}).filter(
                Q(**{f"{done}__isnull": True}) | Q(**{f"{done}__gt": F(due)})
            )
        cases = Case.objects.filter(referrals__in=referrals).distinct()
    elif alert.kind == PatternAlert.Kind.ORGANISATION and alert.source.get("organisation"):
        since = datetime.fromisoformat(alert.source["since"])
        cases = _organisation_cases(alert.source["organisation"], since)
    else:
        return []
    return sorted(cases.values_list("case_number", flat=True)[:CASES_BEHIND_MAX])


def evidence_behind(alert: PatternAlert) -> tuple[list[str], Evidence]:
    """The metadata rows behind an organisation alert (columns, rows); nothing for the others, whose figures
    are the series itself."""
    if alert.kind != PatternAlert.Kind.ORGANISATION or not alert.source.get("organisation"):
        return [], []
    since = datetime.fromisoformat(alert.source["since"])
    return ["Submitted", "Authority", "Concern types", "Status"], _reports_behind(
        _organisation_cases(alert.source["organisation"], since)
    )

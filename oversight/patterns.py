"""Pattern detection across the country, without reading any plaintext:

* the same organisation (by keyed hash of its normalised name) named in several reports;
* an authority that repeatedly misses the acknowledgement deadline;
* a concern type rising in a region against its own baseline.
Thresholds come from settings (PATTERN_*).

Working them out reads hundreds of thousands of reports and referrals at a million cases (about a second
on the shared 2-core machine), so the workers do it after each refresh of the summary views
(``alerts_store``) and the pages read what they stored, at most STORED_ALERTS_FRESH old; with nothing
that recent stored (no worker yet, a test), a page works them out itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property, lru_cache, partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.text import slugify

from oversight.models import ConcernFact, StoredAlerts
from referrals.models import Referral
from reports.models import ConcernType, Report
from triage.models import Case

Evidence = list[list[str]]


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

    @cached_property
    def evidence(self) -> Evidence:
        return _evidence_rows(self.kind, self.source)()

    def stored_form(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "title": self.title,
            "detail": self.detail,
            "count": self.count,
            "date": self.date.isoformat(),
            "evidence_columns": self.evidence_columns,
            "case_numbers": self.case_numbers,
            "source": self.source,
        }

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Alert:
        return cls(**{**stored, "date": date.fromisoformat(stored["date"])})


def _evidence_rows(kind: str, source: dict[str, Any]) -> Callable[[], Evidence]:
    if kind == "same_organisation":
        since = datetime.fromisoformat(source["since"])
        return partial(_reports_behind, _organisation_cases(source["organisation"], since))
    if kind == "missed_acknowledgements":
        referrals = _missed_referrals(datetime.fromisoformat(source["now"]))
        return partial(_referrals_behind, referrals.filter(authority__gss_code=source["authority"]))
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
    since = now - timedelta(days=settings.PATTERN_ORGANISATION_DAYS)
    groups = list(
        Report.objects.filter(submitted_at__gte=since)
        .exclude(organisation_hash="")
        .values("organisation_hash")
        .annotate(reports=Count("id"), latest=Max(TruncDate("submitted_at")))
        .filter(reports__gte=settings.PATTERN_ORGANISATION_MIN_REPORTS)
        .order_by("-reports")[:20]
    )
    alerts = []
    for group in groups:
        cases = _organisation_cases(group["organisation_hash"], since)
        names = sorted(cases.exclude(authority__isnull=True).values_list("authority__name", flat=True).distinct()[:20])
        alerts.append(
            Alert(
                kind="same_organisation",
                key=f"organisation-{group['organisation_hash'][:16]}",
                date=group["latest"],  # the day of the latest report counted
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


def _missed_referrals(now: datetime) -> QuerySet[Referral]:
    """Referrals to local authorities acknowledged late or not at all. A referral to a national body is no
    authority's (and one passed on outside the service is never acknowledged here)."""
    since = now - timedelta(days=settings.PATTERN_MISSED_ACK_DAYS)
    missed = Q(acknowledged_at__isnull=True, ack_due_at__lt=now) | Q(acknowledged_at__gt=F("ack_due_at"))
    return Referral.objects.filter(authority__isnull=False, referred_at__gte=since).filter(missed)


def missed_acknowledgements(now: datetime) -> list[Alert]:
    referrals = _missed_referrals(now)
    rows = list(
        referrals.values("authority__name", "authority__gss_code")
        .annotate(missed=Count("id"), latest_due=Max(TruncDate("ack_due_at")))
        .filter(missed__gte=settings.PATTERN_MISSED_ACK_MIN)
        .order_by("-missed")
    )
    return [
        Alert(
            kind="missed_acknowledgements",
            key=f"missed-{row['authority__gss_code']}",
            title=f"{row['authority__name']} missed {row['missed']} acknowledgement deadlines",
            detail=f"Referrals in the last {settings.PATTERN_MISSED_ACK_DAYS} days acknowledged late or not at all",
            count=row["missed"],
            date=row["latest_due"] or timezone.localdate(now),
            evidence_columns=["Referred", "Acknowledgement due", "Acknowledged"],
            source={"authority": row["authority__gss_code"], "now": now.isoformat()},
        )
        for row in rows
    ]


def _referrals_behind(referrals: QuerySet[Referral]) -> Evidence:
    return [
        [_day(referred), _day(due), _day(acknowledged) or "Not acknowledged"]
        for referred, due, acknowledged in referrals.order_by("ack_due_at", "id").values_list(
            TruncDate("referred_at"), TruncDate("ack_due_at"), TruncDate("acknowledged_at")
        )
    ]


def rising_concerns(today: date) -> list[Alert]:
    """This quarter's 90 days against the average of the four 90-day windows before it."""
    window = timedelta(days=90)
    start = today - window
    baseline_start = start - 4 * window
    current = {
        (r["region"], r["concern_type"]): r["total"]
        for r in ConcernFact.objects.filter(month__gte=start.replace(day=1))
        .values("region", "concern_type")
        .annotate(total=Sum("cases"))
    }
    baseline = {
        (r["region"], r["concern_type"]): r["total"] / 4
        for r in ConcernFact.objects.filter(month__gte=baseline_start.replace(day=1), month__lt=start.replace(day=1))
        .values("region", "concern_type")
        .annotate(total=Sum("cases"))
    }
    labels = dict(ConcernType.choices)
    current_from, baseline_from = start.replace(day=1), baseline_start.replace(day=1)
    previous_month = current_from - timedelta(days=1)
    alerts = []
    for (region, concern), count in current.items():
        expected = baseline.get((region, concern), 0.0)
        if (
            region
            and count >= settings.PATTERN_RISING_MIN
            and count >= settings.PATTERN_RISING_FACTOR * max(expected, 1.0)
        ):
            evidence = [
                [f"{current_from:%B %Y} to {today:%B %Y}", str(count)],
                [
                    f"{baseline_from:%B %Y} to {previous_month:%B %Y} (four 90-day windows)",
                    str(round(expected * 4)),
                ],
                ["Baseline per 90 days", f"{expected:.1f}"],
            ]
            alerts.append(
                Alert(
                    kind="rising_concern",
                    key=f"rising-{slugify(region)}-{concern}",
                    title=f"{labels.get(concern, concern)} rising in {region}",
                    detail=f"{count} in the last 90 days against a baseline of {expected:.1f} per 90 days",
                    count=count,
                    date=today,
                    evidence_columns=["Months counted", "Reports of this concern type"],
                    source={"evidence": evidence},
                )
            )
    return sorted(alerts, key=lambda a: -a.count)


def alerts_worked_out(now: datetime) -> list[Alert]:
    """Every alert as of ``now``: organisations, then missed acknowledgements, then rising concerns."""
    return same_organisation(now) + missed_acknowledgements(now) + rising_concerns(timezone.localdate(now))


def stored_alerts_fresh() -> timedelta:
    """How old stored alerts may be: two of the workers' refreshes, so that one late refresh does not send
    every page back to working them out."""
    entry: dict[str, Any] = settings.CELERY_BEAT_SCHEDULE.get("refresh-statistics", {})
    return timedelta(seconds=2 * float(entry.get("schedule", 300.0)))


def alerts_store(now: datetime | None = None) -> int:
    """Work the alerts out and keep them for the pages (after each refresh, in the workers); how many."""
    now = now or timezone.now()
    alerts = alerts_worked_out(now)
    with transaction.atomic():
        StoredAlerts.objects.all().delete()
        StoredAlerts.objects.create(worked_out_at=now, alerts=[alert.stored_form() for alert in alerts])
    return len(alerts)


def pattern_alerts(now: datetime | None = None) -> list[Alert]:
    """The alerts as of now (as the workers last stored them, if recently enough) or as of ``now``."""
    if now is None:
        current = timezone.now()
        stored = (
            StoredAlerts.objects.filter(worked_out_at__gte=current - stored_alerts_fresh(), worked_out_at__lte=current)
            .order_by("-worked_out_at")
            .values_list("alerts", flat=True)
            .first()
        )
        if stored is not None:
            return [Alert.from_stored(alert) for alert in stored]
        now = current
    return alerts_worked_out(now)

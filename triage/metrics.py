"""Triage's gauges (core.metrics): cases per queue and status, and the case clocks that are overdue.

Cases are created by a reporter's report, so by docs/adr/0008-metrics-and-the-time-trail.md a case counts only
from the day after the day the database keeps for it (``before_today``): its arrival moves no gauge; what staff
do to it afterwards moves them at once. A clock whose deadline is the end of a day (standard triage, feedback to
the reporter) goes overdue at a day's end and says nothing finer, so it counts live. The urgent clock runs from
the second the report was sent: it is watched by paging and escalation, not by Prometheus, which counts only
urgent cases from an earlier day that are still in triage.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from core.flood import flood_state
from core.metrics import Sample, before_today, register_gauge
from triage.deadlines import REPORTER_FEEDBACK, TRIAGE
from triage.models import Case, Page, Queue
from triage.workflow import IN_TRIAGE

OVERDUE = "clocks_overdue"
OVERDUE_HELP = (
    "Clocks running past their deadline, by kind; an urgent case counts from the day after it was received "
    "(urgent_triage)."
)


# A reporter's reply moves a case from "waiting for the reporter" back to "in triage" (workflow's
# reporter_replied): the two are one status here, or the gauge would say when the reporter wrote.
STATUS_LABEL = {Case.Status.AWAITING_REPORTER.value: Case.Status.IN_TRIAGE.value}
STATUS_LABELS = tuple(dict.fromkeys(STATUS_LABEL.get(status, status) for status in Case.Status.values))


def cases_by_queue_and_status() -> Iterator[Sample]:
    rows = (
        Case.objects.filter(created_at__lt=before_today())
        .values("queue__slug", "status")
        .annotate(n=Count("pk"))
        .order_by("queue__slug", "status")
    )
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["queue__slug"], STATUS_LABEL.get(row["status"], row["status"]))
        counts[key] = counts.get(key, 0) + row["n"]
    # Every queue with every status, so a series is 0 rather than absent when its last case leaves.
    queues = sorted({*Queue.objects.values_list("slug", flat=True), *(queue for queue, _ in counts)})
    for queue in queues:
        for status in STATUS_LABELS:
            yield (queue, status), counts.get((queue, status), 0)


def case_clocks_overdue() -> Iterator[Sample]:
    now = timezone.now()
    standard = Case.objects.filter(priority=Case.Priority.STANDARD)
    yield ("triage",), standard.filter(TRIAGE.overdue_q(now)).count()
    yield (
        ("urgent_triage",),
        Case.objects.filter(priority=Case.Priority.URGENT, status__in=IN_TRIAGE, created_at__lt=before_today()).count(),
    )
    yield (REPORTER_FEEDBACK.key,), Case.objects.filter(REPORTER_FEEDBACK.overdue_q(now)).count()


def flood() -> Iterator[Sample]:
    """1 while a flood is on (triage.flood), else 0. Yes or no only: one report never moves it on its own."""
    yield (), 1 if flood_state().on else 0


def flood_arrivals() -> Iterator[Sample]:
    """The arrivals in the last 10 minutes rounded to tens, and only during a flood (0 otherwise): the banner's
    figure, never a count a single report moves on a quiet day."""
    yield (), flood_state().about


def pages_by_state() -> Iterator[Sample]:
    """Pages (triage.paging) about urgent cases received before today: an out-of-hours page goes out when the
    reporter pressed Send, so today's pages are the workspace's to show, not Prometheus's (ADR 0008)."""
    earlier = Page.objects.filter(case__created_at__lt=before_today())
    counts = earlier.aggregate(
        sent=Count("pk"),
        acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
        failed=Count("pk", filter=Q(phone="") | Q(notification__state="failed")),
    )
    answered = Exists(Page.objects.filter(case=OuterRef("case"), acknowledged_at__isnull=False))
    yield ("sent",), counts["sent"]
    yield ("acknowledged",), counts["acknowledged"]
    yield ("unacknowledged",), earlier.filter(~answered, case__status__in=IN_TRIAGE).values("case").distinct().count()
    yield ("reached_nobody",), counts["failed"]


def register_triage_gauges() -> None:
    register_gauge(
        "pages",
        "Pages about urgent cases received before today: sent, acknowledged, reached nobody, and cases still in "
        "triage whose pages nobody acknowledged.",
        ("state",),
        pages_by_state,
    )
    register_gauge("flood", "1 while reports arrive faster than FLOOD_THRESHOLD in 10 minutes, else 0.", (), flood)
    register_gauge(
        "flood_arrivals_rounded",
        "During a flood, the reports that arrived in the last 10 minutes rounded to tens; 0 otherwise.",
        (),
        flood_arrivals,
    )
    register_gauge(
        "cases",
        "Cases received before today, by queue and status (in_triage includes those waiting for the reporter).",
        ("queue", "status"),
        cases_by_queue_and_status,
    )
    register_gauge(OVERDUE, OVERDUE_HELP, ("kind",), case_clocks_overdue)

"""THE OLD RULES, for comparison only: the fixed-threshold pattern alerts that oversight.detection replaced,
as they were in oversight/patterns.py before commit bdd70b7 (``git show bdd70b7^:oversight/patterns.py``),
re-implemented here for bench/patterns.py to run on the same synthetic history. Nothing in the portal
imports this module, and nothing here should be used to raise an alert.

* ``rising_concerns``: per region x concern type, the reports of the last 90 days (from the first of the
  month that window starts in, as the old monthly ConcernFact view counted them) against the average of the
  four 90-day windows before it; an alert when the count is at least RISING_MIN and at least RISING_FACTOR
  times the baseline (taken as at least 1).
* ``missed_acknowledgements``: per authority, referrals of the last 180 days acknowledged late or not at
  all; an alert at MISSED_ACK_MIN or more.
* Organisations named in several reports were the same rule then as now (oversight.patterns.same_organisation).

Each rule is read as of ``now`` and never looks after it (the old code had no upper bound: it only ever ran
at the present), so the benchmark can replay it week by week.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.db import connection
from django.utils import timezone

from bench.pattern_scoring import Alert
from core.timetrail import day_start

# The old settings' defaults (PATTERN_RISING_*, PATTERN_MISSED_ACK_*), removed from helpline/settings.py.
RISING_WINDOW_DAYS = 90
RISING_BASELINE_WINDOWS = 4
RISING_MIN = 5
RISING_FACTOR = 2.0
MISSED_ACK_DAYS = 180
MISSED_ACK_MIN = 3

LONDON = "Europe/London"


def _region_concern_counts(start: datetime, end: datetime) -> dict[tuple[str, str], int]:
    sql = """
        SELECT la.region, concern, count(*)
        FROM triage_case c
        JOIN reports_report r ON r.id = c.report_id
        JOIN triage_localauthority la ON la.id = c.authority_id
        CROSS JOIN LATERAL unnest(r.concern_types) AS concern
        WHERE r.submitted_at >= %s AND r.submitted_at < %s
        GROUP BY 1, 2
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end])
        return {(region, concern): int(count) for region, concern, count in cursor.fetchall()}


def rising_concerns(now: datetime, today: date) -> list[Alert]:
    """The old rule: this 90 days (from the first of its month) against the average of the four 90-day
    windows before it (from the first of their month), factor RISING_FACTOR, at least RISING_MIN."""
    window = timedelta(days=RISING_WINDOW_DAYS)
    start = today - window
    baseline_start = start - RISING_BASELINE_WINDOWS * window
    current_from, baseline_from = start.replace(day=1), baseline_start.replace(day=1)
    current = _region_concern_counts(day_start(current_from), now)
    baseline = _region_concern_counts(day_start(baseline_from), day_start(current_from))
    alerts = []
    for (region, concern), count in sorted(current.items()):
        expected = baseline.get((region, concern), 0) / RISING_BASELINE_WINDOWS
        if region and count >= RISING_MIN and count >= RISING_FACTOR * max(expected, 1.0):
            alerts.append(
                Alert(
                    kind="surge",
                    key={"region": region, "concern_type": concern},
                    period_start=current_from,
                    period_end=today,
                    identity=("rising_concern", region, concern),
                )
            )
    return alerts


def missed_acknowledgements(now: datetime, today: date) -> list[Alert]:
    """The old rule: an authority with MISSED_ACK_MIN or more referrals of the last MISSED_ACK_DAYS days
    whose acknowledgement deadline has passed with none, or which came after it."""
    sql = """
        SELECT la.gss_code, count(*)
        FROM triage_referral ref
        JOIN triage_localauthority la ON la.id = ref.authority_id
        WHERE ref.authority_id IS NOT NULL AND ref.referred_at >= %s AND ref.referred_at < %s
          AND ref.ack_due_at < %s
          AND (ref.acknowledged_at IS NULL OR ref.acknowledged_at > ref.ack_due_at)
        GROUP BY 1
        HAVING count(*) >= %s
        ORDER BY 1
    """
    since = now - timedelta(days=MISSED_ACK_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, now, now, MISSED_ACK_MIN])
        rows = cursor.fetchall()
    return [
        Alert(
            kind="authority_lateness",
            key={"authority": gss},
            period_start=timezone_day(since),
            period_end=today,
            identity=("missed_acknowledgements", gss),
        )
        for gss, _count in rows
    ]


def timezone_day(moment: datetime) -> date:
    return timezone.localdate(moment)


def organisations(now: datetime) -> list[Alert]:
    """Organisations named in several reports: the same rule then as now."""
    from oversight import series
    from oversight.patterns import same_organisation

    return [
        Alert(
            kind="organisation",
            key={"organisation": found.source["organisation"][:16]},
            period_start=series.period_start(found.first_date or found.date),
            period_end=found.date,
            identity=("same_organisation", found.source["organisation"][:16]),
        )
        for found in same_organisation(now)
    ]


def old_rules(now: datetime) -> list[Alert]:
    """Every alert the old rules raise as of ``now``."""
    today = timezone_day(now)
    return organisations(now) + missed_acknowledgements(now, today) + rising_concerns(now, today)

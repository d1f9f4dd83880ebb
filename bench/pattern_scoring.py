"""Scoring a replay of pattern detection against the clusters injected into its history (bench/patterns.py).

Plain data only (no database), so tests/bench/test_patterns_bench.py can check it on a hand-made example.

* A ``Cluster`` is what was injected: its kind, the series fields an alert must name to be about it
  (``match``: each field's accepted values), and the weeks it is in the data (``start`` to ``end``, Mondays).
* An ``Alert`` is what a rule raised in one weekly run: its kind, its series key and the days it stands on
  (``period_start`` to ``period_end``); ``identity`` is what makes it the same alert in a later run (the
  stored alert's kind, series and weeks for detection; the old rules' stable key for them).
* An alert *explains* a cluster when it has the cluster's kind, names the cluster's series, and the days it
  stands on overlap the cluster's weeks. An alert that explains no cluster is false.
* ``Run``: the Monday of the week judged and the alerts raised that run.

Time to detection is counted in whole weeks from the cluster's first week to the first week judged whose run
explains it: 0 when it is found on judging the very week it started (at that week's end), 3 when it is
first found on judging the fourth week. A clean week is a judged week inside no cluster's weeks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import mean


@dataclass(frozen=True)
class Cluster:
    name: str  # "surge", "late authority", "organisation"
    kind: str  # the alert kind that finds it: surge, authority_lateness, organisation
    match: dict[str, tuple[str, ...]]
    start: date  # Monday of its first week
    end: date  # the last day it is in the data


@dataclass(frozen=True)
class Alert:
    kind: str
    key: dict[str, str]
    period_start: date
    period_end: date
    identity: tuple[str, ...] = ()


@dataclass(frozen=True)
class Run:
    week: date  # Monday of the week judged
    alerts: list[Alert] = field(default_factory=list)


def on_series(alert: Alert, cluster: Cluster) -> bool:
    """The alert is of the cluster's kind and names its series (whatever its weeks)."""
    return alert.kind == cluster.kind and all(
        alert.key.get(name) in accepted for name, accepted in cluster.match.items()
    )


def explains(alert: Alert, cluster: Cluster) -> bool:
    return on_series(alert, cluster) and alert.period_start <= cluster.end and alert.period_end >= cluster.start


def identity(alert: Alert) -> tuple[str, ...]:
    """What makes an alert the same alert in a later run (its kind and series when not given)."""
    return alert.identity or (alert.kind, *(f"{name}={value}" for name, value in sorted(alert.key.items())))


def weeks_between(first: date, later: date) -> int:
    return (later - first).days // 7


@dataclass(frozen=True)
class Found:
    cluster: str
    found: bool
    weeks_to_detection: int | None  # None: never found in the replay
    # An alert of its kind on its series in a run before it started: the rule was already alerting there, so
    # "found" says little about the cluster.
    alerting_before: bool = False


def detection(cluster: Cluster, runs: list[Run]) -> Found:
    """Whether a run from the cluster's first week on explains it, and after how many weeks."""
    before = False
    for run in sorted(runs, key=lambda r: r.week):
        if run.week + timedelta(days=6) < cluster.start:
            before = before or any(on_series(alert, cluster) for alert in run.alerts)
            continue
        if any(explains(alert, cluster) for alert in run.alerts):
            return Found(cluster.name, True, weeks_between(cluster.start, run.week), before)
    return Found(cluster.name, False, None, before)


def is_clean(week: date, clusters: list[Cluster]) -> bool:
    """A judged week inside no cluster's weeks."""
    last = week + timedelta(days=6)
    return all(cluster.end < week or cluster.start > last for cluster in clusters)


@dataclass(frozen=True)
class FalseAlerts:
    weeks: int  # weeks counted
    new_per_week: float  # false alerts first raised that week (an alert raised again in a later run counts once)
    new_max: int  # the most in one week
    shown_per_week: float  # false alerts standing in that week's run, new or not


def false_alerts(runs: list[Run], clusters: list[Cluster], *, clean_only: bool = True) -> FalseAlerts:
    """False alerts per week (on the clean weeks only unless told otherwise), counting an alert once, in the
    run that first raised it, and, separately, every false alert standing in each run."""
    seen: set[tuple[str, ...]] = set()
    new_counts: list[int] = []
    shown_counts: list[int] = []
    for run in sorted(runs, key=lambda r: r.week):
        false = [a for a in run.alerts if not any(explains(a, c) for c in clusters)]
        fresh = [a for a in false if identity(a) not in seen]
        seen.update(identity(a) for a in false)
        if clean_only and not is_clean(run.week, clusters):
            continue
        new_counts.append(len(fresh))
        shown_counts.append(len(false))
    return FalseAlerts(
        weeks=len(new_counts),
        new_per_week=round(mean(new_counts), 2) if new_counts else 0.0,
        new_max=max(new_counts, default=0),
        shown_per_week=round(mean(shown_counts), 2) if shown_counts else 0.0,
    )


def goal_met(found: list[Found], false: FalseAlerts, *, within_weeks: int = 2, per_week: float = 1.0) -> bool:
    """The issue's goal: every cluster found within ``within_weeks`` weeks (by a rule that was not already
    alerting on its series before it began), and at most ``per_week`` false alerts a week on average (new
    ones, on the clean weeks)."""
    return (
        all(
            f.found
            and not f.alerting_before
            and f.weeks_to_detection is not None
            and f.weeks_to_detection <= within_weeks
            for f in found
        )
        and false.new_per_week <= per_week
    )

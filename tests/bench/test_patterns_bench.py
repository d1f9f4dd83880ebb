"""The detection benchmark's scoring (bench/pattern_scoring.py, used by bench/patterns.py) on hand-made runs:
time to detection in weeks from a cluster's first week, an alert outside every cluster counted false, clean
weeks, an alert raised again counted once, and the goal."""

from __future__ import annotations

from datetime import date, timedelta

from bench.pattern_scoring import Alert, Cluster, Run, detection, explains, false_alerts, goal_met, is_clean

START = date(2026, 10, 5)  # a Monday
REGION = {"region": "East of England", "concern_type": "information_not_shared"}


def week(n: int) -> date:
    """The Monday n weeks after START (negative: before)."""
    return START + timedelta(weeks=n)


def surge_alert(n: int, key: dict[str, str] | None = None) -> Alert:
    """A surge alert on week n (detection's: the week judged)."""
    return Alert(kind="surge", key=key or REGION, period_start=week(n), period_end=week(n) + timedelta(days=6))


LATE = Cluster(
    name="late authority",
    kind="authority_lateness",
    match={"authority": ("E08000018",)},
    start=START,
    end=week(5) + timedelta(days=6),
)
SURGE = Cluster(
    name="surge",
    kind="surge",
    match={"region": ("East of England",), "concern_type": ("information_not_shared",)},
    start=START,
    end=START + timedelta(days=6),
)


def late_alert(n: int, authority: str = "E08000018") -> Alert:
    return Alert(
        kind="authority_lateness",
        key={"authority": authority, "outcome_class": "ack_late"},
        period_start=week(n),
        period_end=week(n) + timedelta(days=6),
    )


def runs(alerts_by_week: dict[int, list[Alert]], weeks: range) -> list[Run]:
    return [Run(week=week(n), alerts=alerts_by_week.get(n, [])) for n in weeks]


def test_a_cluster_first_found_three_weeks_after_it_started_scores_three() -> None:
    found = detection(LATE, runs({3: [late_alert(3)], 4: [late_alert(4)]}, range(-2, 6)))
    assert (found.found, found.weeks_to_detection) == (True, 3)


def test_a_cluster_found_in_the_week_it_started_scores_zero() -> None:
    """The control: the same cluster found at once."""
    found = detection(LATE, runs({0: [late_alert(0)], 3: [late_alert(3)]}, range(-2, 6)))
    assert (found.found, found.weeks_to_detection) == (True, 0)


def test_a_cluster_never_explained_is_missed() -> None:
    """An alert on another authority, or on the right one after the cluster's weeks, does not find it."""
    found = detection(LATE, runs({1: [late_alert(1, authority="E06000001")], 7: [late_alert(7)]}, range(-2, 8)))
    assert (found.found, found.weeks_to_detection) == (False, None)


def test_a_series_alerting_before_the_cluster_began_is_flagged() -> None:
    found = detection(LATE, runs({-1: [late_alert(-1)], 0: [late_alert(0)]}, range(-2, 6)))
    assert found.found and found.alerting_before
    assert not detection(LATE, runs({0: [late_alert(0)]}, range(-2, 6))).alerting_before


def test_only_an_alert_on_the_clusters_series_and_weeks_explains_it() -> None:
    assert explains(surge_alert(0), SURGE)
    assert not explains(surge_alert(1), SURGE)  # the week after a one-week surge
    assert not explains(surge_alert(0, {"region": "London", "concern_type": "information_not_shared"}), SURGE)
    assert not explains(late_alert(0), SURGE)  # another kind


def test_an_alert_outside_every_cluster_counts_false_on_a_clean_week() -> None:
    replay = runs({-1: [surge_alert(-1)], 0: [surge_alert(0)]}, range(-3, 1))
    counted = false_alerts(replay, [SURGE])
    # Weeks -3, -2 and -1 are clean (the surge is in week 0); one false alert among them.
    assert counted.weeks == 3
    assert counted.new_per_week == round(1 / 3, 2)
    assert counted.new_max == 1


def test_an_alert_that_explains_a_cluster_is_not_false() -> None:
    """The control: the surge's own alert, in its own week, is not counted."""
    counted = false_alerts(runs({0: [surge_alert(0)]}, range(-3, 1)), [SURGE], clean_only=False)
    assert (counted.weeks, counted.new_per_week, counted.shown_per_week) == (4, 0.0, 0.0)


def test_an_alert_raised_again_in_later_runs_is_new_once_but_shown_every_week() -> None:
    """The old rules re-raise a standing alert every week under the same key: new once, shown each week."""
    standing = Alert(
        kind="surge",
        key={"region": "London", "concern_type": "other"},
        period_start=week(-10),
        period_end=week(-4),
        identity=("rising_concern", "London", "other"),
    )
    counted = false_alerts(runs({n: [standing] for n in range(-4, 0)}, range(-4, 0)), [SURGE])
    assert counted.weeks == 4
    assert counted.new_per_week == 0.25
    assert counted.shown_per_week == 1.0


def test_clean_weeks_are_those_inside_no_cluster() -> None:
    assert is_clean(week(-1), [SURGE, LATE])
    assert not is_clean(week(0), [SURGE])
    assert not is_clean(week(5), [SURGE, LATE])
    assert is_clean(week(6), [SURGE, LATE])


def test_the_goal_needs_every_cluster_within_two_weeks_and_few_false_alerts() -> None:
    quiet = false_alerts(runs({}, range(-3, 0)), [SURGE])
    elsewhere = [surge_alert(-2, {"region": region, "concern_type": "other"}) for region in ("London", "North East")]
    noisy = false_alerts(runs({-3: [surge_alert(-3)], -2: elsewhere}, range(-3, 0)), [SURGE])  # 3 in 3 weeks
    noisier = false_alerts(runs({-3: [surge_alert(-3)], -2: [*elsewhere, late_alert(-2)]}, range(-3, 0)), [SURGE])
    on_time = detection(LATE, runs({2: [late_alert(2)]}, range(0, 6)))
    late = detection(LATE, runs({3: [late_alert(3)]}, range(0, 6)))
    assert goal_met([on_time], quiet)
    assert not goal_met([late], quiet)
    already = detection(LATE, runs({-1: [late_alert(-1)], 0: [late_alert(0)]}, range(-2, 6)))
    assert not goal_met([already], quiet)  # found by an alert that stood before the cluster began
    assert goal_met([on_time], noisy)  # 1 a week: at most 1
    assert not goal_met([on_time], noisier)

"""oversight.farrington against R's surveillance::farringtonFlexible, and on its own terms.

The reference outputs come from tests/patterns/fixtures/make_reference.R (surveillance 1.20.3, Noufaily settings);
R is needed only to regenerate them. No database: these are pure functions.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oversight.farrington import Assessment, assess, false_discovery_control

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "farrington_reference.json").read_text())
SERIES: dict[str, dict[str, Any]] = REFERENCE["series"]

# Agreement with R: the upper bounds are integer quantiles, so they must be equal (0.05 absolute leaves room for
# nothing but float noise); the fitted mean and dispersion within 1% relative; the p-value within 1% relative
# (or 1e-9 absolute for the tiny ones).
BOUND_ABS = 0.05
REL = 0.01


def _close(ours: float, theirs: float, *, rel: float = REL, abs_: float = 1e-9) -> bool:
    return math.isclose(ours, theirs, rel_tol=rel, abs_tol=abs_)


def _compare(name: str, *, r_trend_test: bool) -> list[tuple[int, Assessment, dict[str, Any]]]:
    s = SERIES[name]
    out = []
    for j, week in enumerate(s["assessed"]):
        ours = assess(s["counts"], index=week, r_trend_test=r_trend_test)
        theirs = {key: s[key][j] for key in ("upperbound", "expected", "phi", "trend", "pvalue", "alarm")}
        out.append((week, ours, theirs))
    return out


def test_reference_was_made_with_noufaily_settings() -> None:
    settings = REFERENCE["settings"]
    assert settings == {
        "b": 3,
        "w": 3,
        "noPeriods": 10,
        "alpha": 0.005,
        "pastWeeksNotIncluded": 26,
        "weightsThreshold": 2.58,
        "thresholdMethod": "nbPlugin",
        "limit54": [0, 4],
    }
    assert set(SERIES) == {"seasonal", "trend", "outbreak", "sparse", "step", "overdispersed"}
    assert all(len(s["assessed"]) == 20 for s in SERIES.values())


@pytest.mark.parametrize("name", sorted(SERIES))
def test_matches_r_week_by_week_with_rs_trend_test(name: str) -> None:
    """With R's trend test, every bound, mean, dispersion, trend decision, p-value and alarm agrees with R's."""
    for week, ours, theirs in _compare(name, r_trend_test=True):
        assert ours.method == "farrington"
        assert ours.baseline_weeks == 133  # 3 years of 7-week windows and blocks, less the 26 weeks left out
        assert abs(ours.threshold - theirs["upperbound"]) <= BOUND_ABS, (name, week)
        assert _close(ours.expected, theirs["expected"]), (name, week)
        assert _close(ours.dispersion, theirs["phi"]), (name, week)
        assert ours.trend == bool(theirs["trend"]), (name, week)
        assert _close(ours.p_value, theirs["pvalue"]), (name, week)
        assert ours.alarm == bool(theirs["alarm"]), (name, week)


def test_default_trend_test_differs_from_r_only_where_the_trend_decision_does() -> None:
    """By default the trend is tested with the quasi-Poisson dispersion (R uses the prior weights by mistake).

    Where the two decide the trend alike the answers are R's; the fixture has weeks where they do not, so the
    R-compatible switch above is really exercised.
    """
    agree = differ = 0
    for name in SERIES:
        for week, ours, theirs in _compare(name, r_trend_test=False):
            if ours.trend == bool(theirs["trend"]):
                agree += 1
                assert abs(ours.threshold - theirs["upperbound"]) <= BOUND_ABS, (name, week)
                assert _close(ours.expected, theirs["expected"]), (name, week)
            else:
                differ += 1
    assert agree >= 60
    assert differ > 0


def test_the_outbreak_weeks_are_flagged_and_the_weeks_around_them_are_not() -> None:
    s = SERIES["outbreak"]
    n = len(s["counts"])
    outbreak = {n - 7, n - 6, n - 5}  # make_reference.R adds 14, 20 and 16 cases to R's weeks n-6..n-4
    for week in s["assessed"]:
        result = assess(s["counts"], index=week)
        assert result.alarm == (week in outbreak), week
        if week in outbreak:
            assert result.p_value < 0.005
            assert result.observed > result.threshold


def test_a_clean_seasonal_series_raises_nothing() -> None:
    s = SERIES["seasonal"]
    results = [assess(s["counts"], index=week) for week in s["assessed"]]
    assert not any(r.alarm for r in results)
    # Control: the same weeks doubled would alarm, so "nothing" is not for want of a working threshold.
    doubled = list(s["counts"])
    doubled[-1] = 3 * doubled[-1] + 10
    assert assess(doubled).alarm


def test_min_count_silences_small_alarms_under_the_full_method() -> None:
    s = SERIES["outbreak"]
    week = len(s["counts"]) - 6
    assert assess(s["counts"], index=week).alarm
    assert not assess(s["counts"], index=week, min_count=s["counts"][week] + 1).alarm


def _step_series(weeks_since_step: int) -> tuple[list[int], int]:
    """3 years and a half of Poisson(4) weeks, then Poisson(16) from the step on."""
    rng = np.random.default_rng(29)
    n = 210
    step = n - weeks_since_step
    mean = np.where(np.arange(n) < step, 4.0, 16.0)
    return [int(x) for x in rng.poisson(mean)], step


def test_a_recent_step_is_a_new_normal_when_declared_and_a_surge_when_not() -> None:
    counts, step = _step_series(20)
    weeks = range(len(counts) - 6, len(counts))
    declared = [assess(counts, index=week, known_steps=[step]) for week in weeks]
    assert not any(a.alarm for a in declared)
    # 20 weeks after the step the baseline (which leaves out 26 weeks) has nothing after it: the history restarts
    # at the step, under the plainly labelled fallback.
    assert {a.method for a in declared} == {"short_history"}
    assert all(13 <= a.expected <= 19 for a in declared)  # the level after the step (16), not before it (4)
    # Control: the same weeks without the step declared are read as a surge.
    undeclared = [assess(counts, index=week) for week in weeks]
    assert all(a.method == "farrington" and a.expected < 6 for a in undeclared)
    assert sum(a.alarm for a in undeclared) >= 3


def test_an_older_declared_step_is_fitted_at_its_new_level() -> None:
    counts, step = _step_series(60)
    weeks = range(len(counts) - 6, len(counts))
    declared = [assess(counts, index=week, known_steps=[step]) for week in weeks]
    assert not any(a.alarm for a in declared)
    assert {a.method for a in declared} == {"farrington"}
    assert all(13 <= a.expected <= 19 for a in declared)
    # Control: undeclared, the step inside the baseline drags the expected count down towards the old level.
    assert all(a.expected < 10 for a in (assess(counts, index=week) for week in weeks))


def test_rs_step_series_alarms_undeclared_and_not_declared() -> None:
    """R itself reads the fixture's step (40 weeks before the end) as a surge on several weeks."""
    s = SERIES["step"]
    step = len(s["counts"]) - 41  # R's week n - 40, 1-based
    assert np.mean(s["counts"][step:]) > 2 * np.mean(s["counts"][:step])
    assert sum(s["alarm"]) >= 3  # the control, from R
    for week in s["assessed"]:
        assert not assess(s["counts"], index=week, known_steps=[step]).alarm, week


def test_a_declared_step_still_lets_a_surge_after_it_through() -> None:
    counts, step = _step_series(60)
    counts[-1] = 45
    result = assess(counts, known_steps=[step])
    assert result.alarm
    assert result.p_value < 1e-6


def test_short_history_is_labelled_and_still_flags_a_surge() -> None:
    rng = np.random.default_rng(7)
    counts = [int(x) for x in rng.poisson(6.0, size=30)]
    quiet = assess(counts)
    assert quiet.method == "short_history"
    assert quiet.baseline_weeks == 25  # the 29 weeks before, less the most recent 4
    assert not quiet.alarm
    assert 4.0 < quiet.expected < 8.0
    surge = assess([*counts[:-1], 30])
    assert surge.method == "short_history"
    assert surge.alarm


def test_a_year_and_a_half_uses_the_full_method_with_one_year_back() -> None:
    rng = np.random.default_rng(8)
    counts = [int(x) for x in rng.poisson(6.0, size=80)]
    result = assess(counts)
    assert result.method == "farrington"
    assert result.trend is False  # a trend needs 3 years, as in R
    # 1 year back: the 7-week window, the 9 blocks up to 27 weeks before this week.
    assert result.baseline_weeks == 29
    # Control: one week short of a year plus the half-window is still the short-history fallback.
    assert assess(counts[: 52 + 3]).method == "short_history"
    assert assess(counts[: 52 + 3 + 1]).method == "farrington"


def test_a_trend_needs_three_years_of_baseline() -> None:
    rng = np.random.default_rng(11)
    t = np.arange(52 * 3 + 10)
    counts = [int(x) for x in rng.poisson(np.exp(3.0 - 0.01 * t))]  # falling from 20 a week to 4
    assert assess(counts).trend is True
    # With 2 years back (b = 2) R does not fit a trend, and neither do we ...
    two_years = assess(counts[-115:])
    assert (two_years.method, two_years.trend) == ("farrington", False)
    # ... though the short-history fallback does, when it is significant.
    assert assess(counts[-40:]).trend is True


def test_monthly_series_get_fewer_seasonal_blocks_rather_than_an_error() -> None:
    rng = np.random.default_rng(12)
    t = np.arange(12 * 4)
    counts = [int(x) for x in rng.poisson(np.exp(2.5 + 0.4 * np.sin(2 * np.pi * t / 12)))]
    result = assess(counts, periods_per_year=12, half_window=1)
    assert result.method == "farrington"
    assert not result.alarm
    # 3 years back of 3-month windows and 9 one-month blocks, from 37 months before to the 6 (half a year) left out.
    assert result.baseline_weeks == 3 * 12 + 1 - 6
    assert assess([*counts[:-1], 60], periods_per_year=12, half_window=1).alarm


def test_too_short_says_so_and_never_alarms() -> None:
    result = assess([3, 5, 4, 2, 6, 5, 90])
    assert result.method == "too_short"
    assert result.alarm is False
    assert result.threshold == math.inf
    assert result.p_value == 1.0
    assert result.expected == pytest.approx(25 / 6)
    assert result.baseline_weeks == 6
    assert math.isnan(assess([4]).expected)
    # Control: with 8 weeks before it the same spike is assessed, and flagged.
    longer = assess([3, 5, 4, 2, 6, 5, 4, 3, 90])
    assert longer.method == "short_history"
    assert longer.alarm


def test_a_baseline_of_zeros_flags_any_case() -> None:
    counts = [0] * 200
    assert assess(counts).alarm is False
    counts[-1] = 1
    result = assess(counts)
    assert (result.expected, result.threshold, result.alarm, result.p_value) == (0.0, 0.0, True, 0.0)


def _assessment(p_value: float, *, alarm: bool = True) -> Assessment:
    return Assessment(
        observed=10,
        expected=3.0,
        threshold=8.0,
        p_value=p_value,
        method="farrington",
        baseline_weeks=133,
        dispersion=1.0,
        trend=False,
        alarm=alarm,
    )


def test_benjamini_hochberg_on_a_hand_worked_example() -> None:
    # m = 10, q = 0.05: the cut-offs are 0.005, 0.010, 0.015, ... The sorted p-values 0.001 and 0.008 are under
    # theirs; 0.039 (third) is over 0.015 and no later one is under its own, so exactly the first two stand.
    p = [0.205, 0.001, 0.039, 0.041, 0.008, 0.042, 0.06, 0.074, 0.212, 0.216]
    assert false_discovery_control([_assessment(x) for x in p]) == [x in (0.001, 0.008) for x in p]
    # A discovery that is not an alarm stays not an alarm.
    quiet = [_assessment(x, alarm=x != 0.008) for x in p]
    assert false_discovery_control(quiet) == [x == 0.001 for x in p]


def test_benjamini_hochberg_steps_up() -> None:
    # m = 4, cut-offs 0.0125, 0.025, 0.0375, 0.05: 0.013 is over its own cut-off but 0.02 is under the second,
    # so both stand (step-up); a Bonferroni cut (0.0125) would keep neither.
    p = [0.9, 0.02, 0.013, 0.9]
    assert false_discovery_control([_assessment(x) for x in p]) == [False, True, True, False]
    # Fallbacks count in m: with 4 more series at p = 1.0, the cut-offs halve and nothing stands.
    fallback = Assessment(0, 1.0, math.inf, 1.0, "too_short", 3, math.nan, False, False)
    assert false_discovery_control([*(_assessment(x) for x in p), *[fallback] * 4]) == [False] * 8
    assert false_discovery_control([]) == []


def test_specificity_on_clean_poisson_series() -> None:
    """Seeded simulation: 40 clean seasonal Poisson series of 3 years and 10 weeks, the last week assessed."""
    rng = np.random.default_rng(2026)
    n = 52 * 3 + 10
    t = np.arange(n)
    clean: list[Assessment] = []
    surged: list[Assessment] = []
    for _ in range(40):
        level = rng.uniform(1.0, 3.0)
        mean = np.exp(level + 0.4 * np.sin(2 * np.pi * t / 52 + rng.uniform(0, 2 * np.pi)))
        counts = [int(x) for x in rng.poisson(mean)]
        clean.append(assess(counts))
        # Control: the same series with an outbreak of three times the expected count in the last week.
        counts[-1] = int(round(3 * mean[-1])) + 5
        surged.append(assess(counts))
    assert all(a.method == "farrington" for a in clean)
    specificity = 1 - sum(a.alarm for a in clean) / len(clean)
    assert specificity > 0.95
    sensitivity = sum(a.alarm for a in surged) / len(surged)
    assert sensitivity > 0.9

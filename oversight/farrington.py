"""The Farrington flexible algorithm for weekly count series (issue 29, "Detection").

This is the method of Noufaily et al. (2013), "An improved algorithm for outbreak detection in multiple
surveillance systems" (Statistics in Medicine 32:1206-1222), as R's ``surveillance::farringtonFlexible`` implements
it with ``noPeriods=10, pastWeeksNotIncluded=26, weightsThreshold=2.58, thresholdMethod="nbPlugin"``.
tests/patterns/fixtures/make_reference.R produces R's answers for a handful of series and
tests/patterns/test_farrington.py holds this module to them.

For week ``k`` of a series:

1. **Baseline.** ``b`` years back (``years_back``, fewer if the series is shorter), the weeks ``k - 52*i - w`` to
   ``k - 52*i + w`` (``w`` = ``half_window``) around the same week of each past year form the reference windows; the
   rest of each year is split into 9 blocks of about 5 weeks, and each block is a level of a seasonal factor (10
   levels with the windows, "noPeriods=10"). The 26 weeks before ``k`` are left out of the fit, so an outbreak that
   is building does not raise its own baseline. (For other ``periods_per_year``, half a year is left out, and a
   year too short for 9 blocks between the windows gets fewer blocks, where R would stop.)
2. **Fit.** A quasi-Poisson log-linear model (``statsmodels`` GLM, Poisson family, dispersion from Pearson's
   chi-squared over the residual degrees of freedom, ``scale="X2"``) on an intercept, the seasonal factor, a linear
   time trend and, for each declared step, a step indicator.
3. **Reweighting.** Weeks whose standardised Anscombe residual exceeds 2.58 (past outbreaks) are down-weighted by
   ``s**-2`` (scaled so the weights average 1 as in Noufaily), and the model is refitted with those prior weights.
4. **Trend.** The trend stays only if it is significant (t-test p < 0.05), the baseline spans at least 3 years, and
   the prediction for week ``k`` is no larger than the largest baseline count (no over-extrapolation); otherwise the
   model is refitted (and reweighted afresh) without it.
5. **Threshold.** ``mu0`` is the model's mean for week ``k`` (the reference-window level); the dispersion ``phi`` is
   floored at 1. The threshold is the ``1 - alpha`` quantile of a negative binomial with mean ``mu0`` and size
   ``mu0 / (phi - 1)`` ("nbPlugin"), or of a Poisson with mean ``mu0`` when ``phi == 1``. ``alpha`` is one-sided,
   as in surveillance >= 1.18 (earlier versions used ``1 - alpha/2`` for nbPlugin by mistake). The p-value is
   ``P(Y >= observed)`` under the same distribution. An alarm is ``observed > threshold``.

Choices that are ours, not R's:

- **Known steps.** ``known_steps`` are weeks where a known event (the statutory duty to report starting, say)
  changed the level of a series. Each declared step at or before week ``k`` whose baseline has weeks on both sides
  adds an indicator covariate (1 on and after the step), and the prediction for week ``k`` is made with every such
  indicator at 1: at the level after the step. A new normal is then not read as a surge. When fewer than 8 baseline
  weeks fall on or after the latest step there is nothing to estimate the new level from, so the history is taken
  to start at that step (and the shorter fallbacks below apply to what follows it). R has no such option; an
  undeclared step is fitted exactly as R fits it.
- **Short history.** With fewer than ``52 + half_window`` weeks before ``k`` but at least 8, the method is
  ``"short_history"``: the same quasi-Poisson fit, reweighting and threshold, on an intercept (and a trend, when
  the baseline has at least 8 weeks and the trend is significant and does not over-extrapolate) over the weeks
  before ``k`` less the most recent 4. There is no seasonal factor: it cannot be estimated from under a year. When
  at least one whole year (plus ``half_window`` weeks) is available the full method runs with
  ``b = min(years_back, whole years available)``.
- **Too short.** With fewer than 8 weeks before ``k`` the method is ``"too_short"``: no model; ``expected`` is the
  mean of the weeks there are (``nan`` when there are none), ``threshold`` is ``math.inf``, ``dispersion`` is
  ``nan``, ``p_value`` is 1.0 and ``alarm`` is False.
- **A baseline of zeros.** When every baseline week is 0 the fit has no finite answer (R's glm returns a mean of
  about 1e-9); here ``expected`` and ``threshold`` are 0, ``dispersion`` 1, and any case at all is an alarm with
  p-value 0.
- **The trend test.** surveillance (1.20.3 to 1.26.0 at least) replaces the fitted model's working weights with the
  reweighting weights before ``summary.glm`` reads them, so R's trend t-test divides by
  ``sum(omega * ((y - mu) / mu)**2) / df`` rather than the quasi-Poisson dispersion: too small for counts above 1,
  so trends pass too easily. We test with the quasi-Poisson dispersion; ``r_trend_test=True`` reproduces R's test
  (for the comparison with R's outputs). On the reference series that is the only source of difference.
- **Minimum count.** Noufaily's "at least 5 cases in the last 4 weeks" is not applied by default
  (``min_count=0``); callers that aggregate many series control false alerts with :func:`false_discovery_control`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import statsmodels.api as sm  # type: ignore[import-untyped]
from scipy import stats  # type: ignore[import-untyped]

FloatArray = npt.NDArray[np.float64]

NO_PERIODS = 10  # levels of the seasonal factor, reference windows included (Noufaily's "noPeriods=10")
PAST_WEEKS_NOT_INCLUDED = 26  # of 52: half a year, scaled for other periods_per_year
WEIGHTS_THRESHOLD = 2.58  # standardised Anscombe residual above which a week is down-weighted
P_THRESHOLD_TREND = 0.05
TREND_MIN_YEARS = 3  # R's atLeastThreeYears
MIN_HISTORY = 8  # weeks below which no model is fitted ("too_short")
SHORT_HISTORY_RECENT_LEFT_OUT = 4
MIN_WEEKS_AFTER_STEP = 8


@dataclass(frozen=True)
class Assessment:
    """One week of one series, judged against its own past.

    ``method`` is ``"farrington"`` (the full model), ``"short_history"`` (a plainly labelled fallback for
    series with under a year of history) or ``"too_short"`` (under 8 weeks: no model; ``expected`` is the mean of
    what there is, ``threshold`` is ``math.inf``, ``dispersion`` is ``nan``, ``p_value`` is 1.0 and ``alarm`` is
    False). See the module docstring for each.
    """

    observed: int
    expected: float  # mu0
    threshold: float  # upper bound at the chosen quantile
    p_value: float  # P(Y >= observed) under the fitted model (1.0 for a fallback with nothing to compare)
    method: str  # "farrington" | "short_history" | "too_short"
    baseline_weeks: int  # how many past weeks the fit used
    dispersion: float
    trend: bool
    alarm: bool  # observed > threshold (and, for "farrington", observed >= min_count)


@dataclass(frozen=True)
class _Fit:
    mu0: float
    phi: float
    trend: bool


def assess(
    counts: Sequence[int],
    *,
    index: int | None = None,
    years_back: int = 3,
    half_window: int = 3,
    alpha: float = 0.005,
    known_steps: Sequence[int] = (),
    min_count: int = 0,
    periods_per_year: int = 52,
    r_trend_test: bool = False,
) -> Assessment:
    """counts[i] = count of week i (oldest first); assess week `index` (default the last) from the weeks before it.

    ``known_steps`` are week indices (same numbering as ``counts``) where the level is known to have changed;
    ``min_count`` is the smallest observed count that may alarm under the full method; ``alpha`` is the one-sided
    upper-tail probability of the threshold (0.005: a 99.5% bound). ``r_trend_test`` tests the trend as
    surveillance 1.20-1.26 does (see :func:`_trend_p_value`); it exists for the comparison with R's outputs.
    """
    y = np.asarray(counts, dtype=np.float64)
    if y.ndim != 1 or len(y) == 0:
        raise ValueError("counts must be a non-empty sequence of weekly counts")
    if np.any(y < 0) or np.any(np.isnan(y)):
        raise ValueError("counts must be non-negative")
    k = len(y) - 1 if index is None else index
    if not 0 <= k < len(y):
        raise ValueError(f"index {k} is outside the series")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    if years_back < 1 or half_window < 0 or periods_per_year < 1:
        raise ValueError("years_back and periods_per_year must be positive, half_window non-negative")

    start = 0
    steps = sorted({s for s in known_steps if 0 < s <= k})
    while True:
        rows, seasons, b = _baseline(k, start, years_back, half_window, periods_per_year)
        latest = [s for s in steps if s > start]
        if latest and rows is not None and np.count_nonzero(rows >= latest[-1]) < MIN_WEEKS_AFTER_STEP:
            start = latest[-1]  # the history starts again at the step: nothing yet to estimate the new level from
            continue
        break
    observed = int(y[k])
    active_steps = [s for s in steps if s > start]

    if rows is None:
        return _too_short(y[start:k], observed)

    fit = _fit(
        y,
        rows,
        seasons,
        k,
        steps=active_steps,
        allow_trend=b >= TREND_MIN_YEARS if seasons is not None else len(rows) >= MIN_HISTORY,
        r_trend_test=r_trend_test,
    )
    threshold, p_value = _threshold(fit.mu0, fit.phi, alpha, observed)
    method = "farrington" if seasons is not None else "short_history"
    alarm = observed > threshold and (method != "farrington" or observed >= min_count)
    return Assessment(
        observed=observed,
        expected=fit.mu0,
        threshold=threshold,
        p_value=p_value,
        method=method,
        baseline_weeks=len(rows),
        dispersion=fit.phi,
        trend=fit.trend,
        alarm=bool(alarm),
    )


def false_discovery_control(assessments: Sequence[Assessment], *, q: float = 0.05) -> list[bool]:
    """Benjamini–Hochberg across every series assessed in one run: which alarms stand.

    Returns one bool per assessment, in order: True where the assessment is an alarm and its p-value is within
    the Benjamini–Hochberg cut-off at level ``q`` over *all* the assessments given (alarms or not; a fallback's
    p-value of 1.0 counts in ``m`` and is never a discovery).
    """
    m = len(assessments)
    if m == 0:
        return []
    if not 0 < q < 1:
        raise ValueError("q must be between 0 and 1")
    p = np.array([a.p_value if math.isfinite(a.p_value) else 1.0 for a in assessments])
    order = np.argsort(p, kind="stable")
    below = p[order] <= q * np.arange(1, m + 1) / m
    discoveries = np.zeros(m, dtype=bool)
    if below.any():
        last = int(np.flatnonzero(below)[-1])
        discoveries[order[: last + 1]] = True
    return [bool(d) and a.alarm for d, a in zip(discoveries, assessments, strict=True)]


def _too_short(history: FloatArray, observed: int) -> Assessment:
    expected = float(history.mean()) if len(history) else math.nan
    return Assessment(
        observed=observed,
        expected=expected,
        threshold=math.inf,
        p_value=1.0,
        method="too_short",
        baseline_weeks=len(history),
        dispersion=math.nan,
        trend=False,
        alarm=False,
    )


def _baseline(
    k: int, start: int, years_back: int, w: int, freq: int
) -> tuple[npt.NDArray[np.int64] | None, npt.NDArray[np.int64] | None, int]:
    """The baseline weeks for week k, their seasonal levels (None for the short-history fit), and b.

    Returns (None, None, 0) when there are fewer than MIN_HISTORY weeks from ``start`` to ``k``.
    Follows ``blocks()`` and ``algo.farrington.data.glm()`` in R's farringtonFlexible.R.
    """
    history = k - start
    b = min(years_back, (history - w) // freq)
    if b >= 1:
        levels = np.zeros(k + 1, dtype=np.int64)  # 0: not in the baseline
        levels[k - w : k + 1] = NO_PERIODS
        period = freq - 2 * w - 1  # weeks between one year's window and the next
        # R stops when a year has too few periods for 9 blocks (monthly data, say); we make fewer, smaller blocks.
        blocks = min(NO_PERIODS - 1, max(period, 0))
        lengths = np.full(blocks, period // blocks if blocks else 0)
        lengths[: period % blocks if blocks else 0] += 1
        bounds = np.concatenate(([0], np.cumsum(lengths)))
        for i in range(1, b + 1):
            ref = k - freq * i
            levels[max(ref - w, 0) : ref + w + 1] = NO_PERIODS
            for j in range(1, blocks + 1):
                levels[ref + w + 1 + bounds[j - 1] : ref + w + 1 + bounds[j]] = j
        levels[max(0, k - PAST_WEEKS_NOT_INCLUDED * freq // 52) :] = 0
        levels[:start] = 0
        rows = np.flatnonzero(levels)
        return rows, levels[rows], b
    if history < MIN_HISTORY:
        return None, None, 0
    return np.arange(start, k - SHORT_HISTORY_RECENT_LEFT_OUT, dtype=np.int64), None, 0


def _design(
    rows: npt.NDArray[np.int64],
    seasons: npt.NDArray[np.int64] | None,
    k: int,
    steps: Sequence[int],
    trend: bool,
) -> tuple[FloatArray, FloatArray]:
    """The model matrix for the baseline rows and the row for week k (the reference-window level)."""
    columns: list[FloatArray] = [np.ones(len(rows))]
    now: list[float] = [1.0]
    if trend:
        columns.append(rows.astype(np.float64))
        now.append(float(k))
    for step in steps:
        indicator = (rows >= step).astype(np.float64)
        if 0 < indicator.sum() < len(rows):  # weeks on both sides, else it is the intercept or nothing
            columns.append(indicator)
            now.append(1.0)
    if seasons is not None:
        # Dummies for every level present but the reference windows' (NO_PERIODS), so week k is the intercept.
        for level in np.unique(seasons):
            if level != NO_PERIODS:
                columns.append((seasons == level).astype(np.float64))
                now.append(0.0)
    return np.column_stack(columns), np.array(now)


def _glm(
    response: FloatArray, design: FloatArray, weights: FloatArray | None
) -> sm.genmod.generalized_linear_model.GLMResults:
    model = sm.GLM(response, design, family=sm.families.Poisson(), var_weights=weights)
    with warnings.catch_warnings():
        # A seasonal level with no cases drives its coefficient towards minus infinity, as it does in R's glm;
        # the fitted means (all that is used) converge all the same.
        warnings.simplefilter("ignore")
        return model.fit(scale="X2", use_t=True)


def _fit_reweighted(
    response: FloatArray, design: FloatArray
) -> tuple[sm.genmod.generalized_linear_model.GLMResults, float, FloatArray]:
    """Fit, reweight by Anscombe residuals, refit (R's algo.farrington.fitGLM.flexible).

    Returns (fit, phi, weights).
    """
    first = _glm(response, design, None)
    phi = max(float(first.scale), 1.0)
    mu = np.asarray(first.fittedvalues, dtype=np.float64)
    hat = np.clip(np.asarray(first.get_hat_matrix_diag(), dtype=np.float64), 0.0, 1.0 - 1e-12)
    anscombe = 1.5 * (response ** (2 / 3) * mu ** (-1 / 6) - mu**0.5) / np.sqrt(phi * (1 - hat))
    high = anscombe > WEIGHTS_THRESHOLD
    raw = np.ones_like(anscombe)
    raw[high] = anscombe[high] ** -2.0
    weights = raw * (len(raw) / raw.sum())
    second = _glm(response, design, weights)
    return second, max(float(second.scale), 1.0), weights


def _trend_p_value(
    fit: sm.genmod.generalized_linear_model.GLMResults, response: FloatArray, weights: FloatArray, r_compatible: bool
) -> float:
    """The two-sided t-test p-value of the trend coefficient (column 1).

    The quasi-Poisson test uses the Pearson dispersion of the reweighted fit. surveillance's
    algo.farrington.fitGLM.flexible overwrites ``model$weights`` (glm's working weights) with the prior weights
    ``omega`` before ``summary.glm`` reads them, so R's test uses ``sum(omega * ((y - mu) / mu)**2) / df`` as the
    dispersion instead; ``r_compatible`` reproduces that.
    """
    if not r_compatible:
        return float(fit.pvalues[1])
    mu = np.asarray(fit.fittedvalues, dtype=np.float64)
    dispersion = float(np.sum(weights * ((response - mu) / mu) ** 2)) / float(fit.df_resid)
    se = math.sqrt(dispersion * float(fit.normalized_cov_params[1, 1]))
    return float(2 * stats.t.sf(abs(float(fit.params[1])) / se, fit.df_resid))


def _fit(
    y: FloatArray,
    rows: npt.NDArray[np.int64],
    seasons: npt.NDArray[np.int64] | None,
    k: int,
    *,
    steps: Sequence[int],
    allow_trend: bool,
    r_trend_test: bool,
) -> _Fit:
    response = y[rows]
    if not response.any():
        return _Fit(mu0=0.0, phi=1.0, trend=False)
    if allow_trend:
        design, now = _design(rows, seasons, k, steps, trend=True)
        fit, phi, weights = _fit_reweighted(response, design)
        if fit.converged:
            mu0 = float(np.exp(now @ fit.params))
            significant = _trend_p_value(fit, response, weights, r_trend_test) < P_THRESHOLD_TREND
            if significant and mu0 <= response.max():
                return _Fit(mu0=mu0, phi=phi, trend=True)
    design, now = _design(rows, seasons, k, steps, trend=False)
    fit, phi, _ = _fit_reweighted(response, design)
    return _Fit(mu0=float(np.exp(now @ fit.params)), phi=phi, trend=False)


def _threshold(mu0: float, phi: float, alpha: float, observed: int) -> tuple[float, float]:
    """The nbPlugin upper bound and P(Y >= observed) (R's algo.farrington.threshold.noufaily)."""
    if mu0 <= 0.0:
        return 0.0, 1.0 if observed <= 0 else 0.0
    distribution = stats.nbinom(mu0 / (phi - 1.0), 1.0 / phi) if phi > 1.0 else stats.poisson(mu0)
    return float(distribution.ppf(1.0 - alpha)), float(distribution.sf(observed - 1))

"""The statistical core of contribution tests, on numpy arrays: each number against statsmodels, pandas or a
formula written here; simulations for the false-positive rate and for finding planted lead/lag relations."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.regression.linear_model import OLS
from statsmodels.tsa.stattools import grangercausalitytests

from accord.analyze.contribution import (MIN_DF, MIN_PERIODS, adjust, cross_correlations, edge_statistics,
                                         granger_test, max_orders, orders_wanted, verdict)

ALPHA = 0.05


def statsmodels_granger(child: np.ndarray, parent: np.ndarray, max_order: int) -> dict[int, tuple]:
    """ssr_ftest (F, p, df_den, df_num) per order, from statsmodels, on differenced series."""
    data = np.column_stack([parent, child])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = grangercausalitytests(data, max_order)
    return {k: res[k][0]["ssr_ftest"] for k in range(1, max_order + 1)}


def led(n: int, lag: int, beta: float, rng, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A random-walk child and a parent whose changes follow the child's `lag` periods later times beta."""
    dx = rng.normal(size=n + lag)
    dy = beta * dx[:n] + noise * rng.normal(size=n)
    return np.cumsum(dx[lag:]), np.cumsum(dy)


# ---------------------------------------------------------------- each number, independently

@pytest.mark.parametrize("seed", [0, 1])
def test_granger_f_equals_statsmodels(seed):
    rng = np.random.default_rng(seed)
    child, parent = led(80, 2, 0.4, rng)
    dx, dy = np.diff(child), np.diff(parent)
    ref = statsmodels_granger(dx, dy, 6)
    for order in range(1, 7):
        f, p, df_num, df_den = granger_test(dx, dy, order)
        rf, rp, rdf_den, rdf_num = ref[order]
        assert f == pytest.approx(rf, rel=1e-8)
        assert p == pytest.approx(rp, rel=1e-6, abs=1e-300)
        assert (df_num, df_den) == (rdf_num, rdf_den)


def test_same_period_f_equals_nested_ols():
    """first_lag 0: the child's changes at lags 0 .. k-1, tested as a nested OLS comparison."""
    rng = np.random.default_rng(3)
    dx = rng.normal(size=60)
    dy = 0.5 * dx + rng.normal(size=60)
    for order in (1, 3):
        n = len(dy)
        y = dy[order:]
        own = np.column_stack([dy[order - k:n - k] for k in range(1, order + 1)] + [np.ones(n - order)])
        full = np.column_stack([own] + [dx[order - k:n - k] for k in range(0, order)])
        f, p, _ = OLS(y, full).fit().compare_f_test(OLS(y, own).fit())
        mine = granger_test(dx, dy, order, first_lag=0)
        assert mine[0] == pytest.approx(f, rel=1e-8)
        assert mine[1] == pytest.approx(p, rel=1e-6, abs=1e-300)


def test_cross_correlations_equal_pandas_shift():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=50), rng.normal(size=50)
    ccf = cross_correlations(x, y, 6)
    for k in range(7):
        expected = pd.Series(y).corr(pd.Series(x).shift(k))   # child at t - k against parent at t
        assert ccf[k] == pytest.approx(expected, abs=1e-12)


def test_cross_correlation_of_a_constant_is_none():
    assert cross_correlations(np.ones(30), np.arange(30.0), 2) == [None, None, None]


def test_benjamini_hochberg_by_hand():
    p = [0.001, 0.04, 0.03, 0.2, 0.011, 0.9]
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    expected = [0.0] * m
    running = 1.0
    for rank in range(m, 0, -1):                 # step-up: the smallest of p * m / rank from the top down
        i = order[rank - 1]
        running = min(running, p[i] * m / rank)
        expected[i] = running
    assert adjust(p, ALPHA) == pytest.approx(expected)
    assert adjust([], ALPHA) == []


@pytest.mark.parametrize("p_adj, r, sign, expected", [
    (0.01, 0.4, 1, "supported"), (0.01, -0.4, 1, "reversed"), (0.01, -0.4, -1, "supported"),
    (0.01, 0.4, -1, "reversed"), (0.2, 0.9, 1, "unsupported"), (0.05, 0.3, 1, "supported"),
    (None, 0.9, 1, "insufficient-data"), (0.01, None, 1, "unsupported"),
])
def test_verdicts(p_adj, r, sign, expected):
    assert verdict(p_adj, r, sign, ALPHA) == expected


def test_orders_wanted_is_lag_plus_four_weeks_at_least_eight():
    assert orders_wanted("0w", "week") == 8
    assert orders_wanted("4w", "week") == 8
    assert orders_wanted("5w", "week") == 9
    assert orders_wanted("13w", "week") == 17
    assert orders_wanted("6w", "month") == 2         # 6w ≈ 1 month, + 4w ≈ 1 month; 8w ≈ 2 months
    assert orders_wanted("14d", "day") == 56          # 8 weeks of days is more than 14 + 28 days


def test_short_history_caps_orders_keeping_residual_freedom():
    for periods in (26, 30, 40, 60):
        k = max_orders(periods, 30)
        n = periods - 1
        assert k >= 1
        assert (n - k) - (2 * k + 1) >= MIN_DF        # the largest regression keeps MIN_DF residual df
        assert (n - (k + 1)) - (2 * (k + 1) + 1) < MIN_DF
    assert max_orders(200, 8) == 8


# ---------------------------------------------------------------- edges built to known answers

def test_child_leading_by_four_is_found_at_four_with_its_sign():
    rng = np.random.default_rng(11)
    child, parent = led(104, 4, 0.6, rng)
    s = edge_statistics(child, parent, orders_wanted("4w", "week"))
    assert s.periods == 104 and s.orders_tested == 8
    assert s.best_lag == 4 and s.correlation > 0.3
    ref = statsmodels_granger(np.diff(child), np.diff(parent), 8)
    smallest = min(ref[k][1] for k in ref)
    assert s.p_smallest == pytest.approx(smallest, rel=1e-6)
    assert s.p_value == pytest.approx(min(1.0, smallest * 8), rel=1e-6)
    assert s.best_order == min(ref, key=lambda k: ref[k][1])
    assert verdict(s.p_value, s.correlation, +1, ALPHA) == "supported"
    assert verdict(s.p_value, s.correlation, -1, ALPHA) == "reversed"


def test_child_that_lowers_a_parent_it_claims_to_raise_is_reversed():
    rng = np.random.default_rng(12)
    child, parent = led(80, 2, -0.7, rng)
    s = edge_statistics(child, parent, orders_wanted("2w", "week"))
    assert s.best_lag == 2 and s.correlation < -0.3
    assert verdict(s.p_value, s.correlation, +1, ALPHA) == "reversed"


def test_noise_is_unsupported():
    rng = np.random.default_rng(13)
    child, parent = np.cumsum(rng.normal(size=104)), np.cumsum(rng.normal(size=104))
    s = edge_statistics(child, parent, 8)
    assert s.p_value > ALPHA
    assert verdict(s.p_value, s.correlation, +1, ALPHA) == "unsupported"


def test_fewer_than_26_periods_is_insufficient():
    rng = np.random.default_rng(14)
    child, parent = led(MIN_PERIODS - 1, 1, 1.0, rng)
    s = edge_statistics(child, parent, 8)
    assert not s.tested and s.p_value is None and "25 periods" in s.note
    assert verdict(s.p_value, s.correlation, +1, ALPHA) == "insufficient-data"
    assert edge_statistics(*led(MIN_PERIODS, 1, 1.0, rng), 8).tested


def test_a_constant_child_cannot_move_its_parent():
    s = edge_statistics(np.full(40, 5.0), np.cumsum(np.random.default_rng(15).normal(size=40)), 8)
    assert s.p_value == 1.0 and s.note == "the child never changes"


def test_same_period_edges_see_same_week_moves():
    rng = np.random.default_rng(16)
    child, parent = led(60, 0, 0.8, rng)
    strict = edge_statistics(child, parent, 8, first_lag=1)
    same = edge_statistics(child, parent, 8, first_lag=0)
    assert same.best_lag == 0 and same.correlation > 0.4
    assert same.p_value < 1e-4 < strict.p_value
    assert same.lags_tested == [0, 7] and strict.lags_tested == [1, 8]


# ---------------------------------------------------------------- simulations

def test_independent_random_walks_are_judged_related_at_most_at_the_nominal_rate():
    """2,000 independent pairs of random walks, lengths 26 to 104 weeks, claimed lags 0 to 6 weeks:
    the share judged supported or reversed stays at or below alpha (one edge per project, so the
    Benjamini–Hochberg step leaves its p-value as it is: the strictest case)."""
    rng = np.random.default_rng(2026)
    sims, hits = 2000, 0
    for i in range(sims):
        n = (26, 52, 104)[i % 3]
        lag = i % 7
        child, parent = np.cumsum(rng.normal(size=n)), np.cumsum(rng.normal(size=n))
        s = edge_statistics(child, parent, orders_wanted(f"{lag}w", "week"), 0 if lag == 0 else 1)
        (p,) = adjust([s.p_value], ALPHA)
        hits += verdict(p, s.correlation, +1, ALPHA) in ("supported", "reversed")
    rate = hits / sims
    # a rate of alpha gives 100 ± 10 hits in 2,000; Bonferroni over the lags keeps the test conservative
    assert rate <= ALPHA, rate


def test_a_project_of_unrelated_edges_rarely_has_any_verdict():
    """Ten unrelated edges judged together: Benjamini–Hochberg keeps the share of projects with any false
    verdict at or below alpha."""
    rng = np.random.default_rng(7)
    projects, any_false = 100, 0
    for _ in range(projects):
        stats = [edge_statistics(np.cumsum(rng.normal(size=52)), np.cumsum(rng.normal(size=52)), 8)
                 for _ in range(10)]
        adjusted = adjust([s.p_value for s in stats], ALPHA)
        any_false += any(verdict(p, s.correlation, +1, ALPHA) != "unsupported" for p, s in zip(adjusted, stats))
    assert any_false / projects <= ALPHA


@pytest.mark.parametrize("lag, sign", [(1, 1), (4, 1), (6, -1), (3, -1)])
def test_planted_lead_is_found_at_its_lag_with_its_sign(lag, sign):
    """Two years of weeks; the parent's changes are 0.8 × the child's `lag` weeks earlier plus noise of the
    same size (a correlation near 0.6 at that lag)."""
    rng = np.random.default_rng(100 + lag)
    sims, right = 100, 0
    for _ in range(sims):
        child, parent = led(104, lag, 0.8 * sign, rng)
        s = edge_statistics(child, parent, orders_wanted(f"{lag}w", "week"))
        right += (s.best_lag == lag and verdict(s.p_value, s.correlation, sign, ALPHA) == "supported"
                  and np.sign(s.correlation) == sign)
    assert right / sims >= 0.95

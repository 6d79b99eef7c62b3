"""Trends: the Mann–Kendall p-value against the exact distribution of inversions, the Theil–Sen slope against
the median of every pairwise slope, and what counts as improving."""
from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest

from accord.analyze.trend import MIN_TREND_PERIODS, trend, trend_numbers
from accord.analyze.values import Series


def exact_upper_tail(n: int, s: int) -> float:
    """P(S ≥ s) for Kendall's S of n untied values in random order, from the count of permutations with
    each number of inversions (S = pairs − 2 × inversions)."""
    counts = [1]
    for k in range(2, n + 1):                       # Mahonian numbers, one more element at a time
        new = [0] * (len(counts) + k - 1)
        for inv, c in enumerate(counts):
            for add in range(k):
                new[inv + add] += c
        counts = new
    pairs = n * (n - 1) // 2
    total = sum(counts)
    return sum(c for inv, c in enumerate(counts) if pairs - 2 * inv >= s) / total


def mann_kendall_upper(y) -> float:
    """One-sided p-value of a rise: exact without ties; with ties, the normal approximation with the
    tie-corrected variance of S (no continuity correction)."""
    n = len(y)
    s = kendall_s(y)
    _, counts = np.unique(np.asarray(y), return_counts=True)
    if (counts == 1).all():
        return exact_upper_tail(n, s)
    var = (n * (n - 1) * (2 * n + 5) - sum(int(t) * (t - 1) * (2 * t + 5) for t in counts)) / 18
    from scipy.stats import norm
    return float(norm.sf(s / np.sqrt(var)))


def kendall_s(y) -> int:
    return sum(int(np.sign(y[j] - y[i])) for i, j in itertools.combinations(range(len(y)), 2))


def median_pairwise_slope(y) -> float:
    return float(np.median([(y[j] - y[i]) / (j - i) for i, j in itertools.combinations(range(len(y)), 2)]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mann_kendall_and_theil_sen_by_hand(seed):
    rng = np.random.default_rng(seed)
    y = np.arange(13) * 0.3 + rng.normal(size=13)          # 13 weeks, no ties
    slope, low, high, tau, p, p_up, p_down = trend_numbers(y, 0.05)
    s = kendall_s(y)
    assert tau == pytest.approx(s / (13 * 12 / 2))
    assert p_up == pytest.approx(exact_upper_tail(13, s), rel=1e-9)
    assert p_down == pytest.approx(exact_upper_tail(13, -s), rel=1e-9)
    assert slope == pytest.approx(median_pairwise_slope(y))
    assert low <= slope <= high


def test_mann_kendall_with_ties_uses_the_tie_corrected_variance():
    y = np.array([3, -2, 1, 0, -1, 2, -3, 1, -1, 0, -2, 1, -1], dtype=float)
    *_, p_up, p_down = trend_numbers(y, 0.05)
    assert p_up == pytest.approx(mann_kendall_upper(y), rel=1e-9)
    assert p_down == pytest.approx(mann_kendall_upper(-y), rel=1e-9)


def test_flat_series_has_no_trend():
    assert trend_numbers(np.full(13, 4.0), 0.05)[:5] == (0.0, 0.0, 0.0, 0.0, 1.0)


def _series(values) -> Series:
    starts = tuple(dt.date(2026, 1, 5) + dt.timedelta(weeks=i) for i in range(len(values)))
    return Series("week", starts, tuple(f"w{i}" for i in range(len(values))), tuple(values))


def test_window_and_improving():
    rising = _series([100.0] * 20 + [100.0 + 3 * i + (i % 2) for i in range(13)])
    t = trend(rising, 13, 0.05)
    assert (t.periods, t.first_period, t.last_period) == (13, "w20", "w32")
    assert t.moving == "rising" and t.improving("up") and not t.improving("down")
    falling = trend(_series([50.0 - i for i in range(13)]), 13, 0.05)
    assert falling.moving == "falling" and falling.improving("down") and falling.p_toward("down") < 0.001


def test_too_few_values_for_a_trend():
    assert trend(_series([1.0] * (MIN_TREND_PERIODS - 1)), 13, 0.05) is None
    gaps = _series([1.0, None] * 8)
    assert trend(gaps, 13, 0.05) is None                 # 6 values in the last 13 weeks

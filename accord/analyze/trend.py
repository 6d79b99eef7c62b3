"""Is a metric moving? Mann–Kendall (Kendall's tau of the values against time) and the Theil–Sen slope,
over the last `trend_window` of complete test-grain periods."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from accord.analyze.values import Series

MIN_TREND_PERIODS = 8


@dataclass(frozen=True)
class Trend:
    grain: str
    periods: int                 # values used
    first_period: str
    last_period: str
    slope: float                 # Theil–Sen, per period
    slope_low: float             # its confidence interval at 1 - alpha
    slope_high: float
    tau: float
    p_value: float               # Mann–Kendall, two-sided
    p_rising: float              # one-sided: the values rise over time
    p_falling: float
    alpha: float

    @property
    def moving(self) -> str:
        """rising, falling or flat: significant at alpha, two-sided."""
        if self.p_value <= self.alpha and self.slope != 0:
            return "rising" if self.tau > 0 else "falling"
        return "flat"

    def p_toward(self, direction: str) -> float:
        """One-sided p-value of a move in `direction` (up or down)."""
        return self.p_rising if direction == "up" else self.p_falling

    def improving(self, direction: str) -> bool:
        """Significantly moving in `direction`, with a Theil–Sen slope that agrees."""
        toward = self.slope > 0 if direction == "up" else self.slope < 0
        return self.p_toward(direction) <= self.alpha and toward

    def as_dict(self) -> dict:
        return {"grain": self.grain, "periods": self.periods, "first_period": self.first_period,
                "last_period": self.last_period, "slope": self.slope, "slope_low": self.slope_low,
                "slope_high": self.slope_high, "tau": self.tau, "p_value": self.p_value,
                "p_rising": self.p_rising, "p_falling": self.p_falling, "moving": self.moving}


def trend_numbers(values: np.ndarray, alpha: float) -> tuple[float, float, float, float, float, float, float]:
    """(slope, slope_low, slope_high, tau, p two-sided, p rising, p falling) of values at times 0, 1, …
    (NaN values skipped, their times kept)."""
    t = np.arange(len(values), dtype=float)
    keep = ~np.isnan(values)
    t, y = t[keep], values[keep]
    if np.ptp(y) == 0:
        return 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0
    slope, _, low, high = stats.theilslopes(y, t, alpha=1 - alpha)
    tau, p = stats.kendalltau(t, y)
    p_up = stats.kendalltau(t, y, alternative="greater").pvalue
    p_down = stats.kendalltau(t, y, alternative="less").pvalue
    return float(slope), float(low), float(high), float(tau), float(p), float(p_up), float(p_down)


def trend(series: Series, window: int, alpha: float) -> Trend | None:
    """The trend over the last `window` complete periods; None with fewer than MIN_TREND_PERIODS values."""
    recent = series.tail(window)
    values = recent.array()
    if int((~np.isnan(values)).sum()) < MIN_TREND_PERIODS:
        return None
    return Trend(recent.grain, int((~np.isnan(values)).sum()), recent.labels[0], recent.labels[-1],
                 *trend_numbers(values, alpha), alpha=alpha)

"""What over-contact costs: the outcome rate after a customer's first touch over a cap, against the rate
after a comparable touch of customers never over it, each with a Wilson interval.

The comparable touch of a customer never over the cap is the moment it came closest: its earliest touch
with the most touches in the trailing window. Only index touches at least `DAYS` before the end of today
count (their window is complete), and only customers without an outcome at or before it (still at risk).
An outcome column of dates is compared by day: an outcome on the day of the index touch counts as after it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accord.analyze.contact_log import MICROS_PER_DAY

DAYS = 30


@dataclass(frozen=True)
class Group:
    customers: int
    outcomes: int
    low: float | None
    high: float | None

    @property
    def rate(self) -> float | None:
        return self.outcomes / self.customers if self.customers else None

    def as_dict(self) -> dict:
        return {"customers": self.customers, "outcomes": self.outcomes, "rate": self.rate,
                "low": self.low, "high": self.high}


@dataclass(frozen=True)
class OutcomeComparison:
    rule: str
    source: str
    days: int
    alpha: float
    over: Group          # customers over the cap, from their first touch over it
    never: Group         # customers never over it, from their closest touch

    @property
    def difference(self) -> float | None:
        if self.over.rate is None or self.never.rate is None:
            return None
        return self.over.rate - self.never.rate

    @property
    def separated(self) -> bool:
        """The two intervals do not overlap."""
        o, n = self.over, self.never
        if None in (o.low, o.high, n.low, n.high):
            return False
        return o.low > n.high or n.low > o.high

    def as_dict(self) -> dict:
        return {"rule": self.rule, "source": self.source, "days": self.days,
                "confidence": 1 - self.alpha, "over_cap": self.over.as_dict(),
                "never_over": self.never.as_dict(), "difference": self.difference,
                "intervals_separate": self.separated}


def wilson(successes: int, n: int, alpha: float) -> tuple[float | None, float | None]:
    if n == 0:
        return None, None
    from statsmodels.stats.proportion import proportion_confint
    low, high = proportion_confint(successes, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def outcome_group(index_us: np.ndarray, events: dict[int, list[int]], cutoff_us: int, by_day: bool,
                  alpha: float) -> Group:
    """The share of customers with an outcome within DAYS after their index touch.

    `index_us` holds one index time per customer (-1: not in the group); `events` maps a customer's
    position in it to the times of its outcomes.
    """
    window = DAYS * MICROS_PER_DAY
    eligible = (index_us >= 0) & (index_us + window <= cutoff_us)
    n, hit = int(eligible.sum()), 0
    for row, times in events.items():
        if not eligible[row]:
            continue
        t0 = int(index_us[row])
        if by_day:
            t0 -= t0 % MICROS_PER_DAY
        if any(o < t0 if by_day else o <= t0 for o in times):
            n -= 1                                    # already there: not at risk
        elif any((t0 <= o if by_day else t0 < o) and o <= t0 + window for o in times):
            hit += 1
    low, high = wilson(hit, n, alpha)
    return Group(n, hit, low, high)

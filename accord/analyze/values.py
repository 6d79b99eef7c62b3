"""The numbers the tree reads, in one compute() per grain: every metric's complete test-grain series, and
its last two complete periods at the grain it is judged at (its target's, else compare_grain) and at
compare_grain (for handoffs)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from accord.compute.periods import Calendar
from accord.project.model import Metric, Project


@dataclass(frozen=True)
class Series:
    """One metric's complete periods at one grain, oldest first, consecutive."""

    grain: str
    starts: tuple[dt.date, ...]
    labels: tuple[str, ...]
    values: tuple[float | None, ...]

    def __len__(self) -> int:
        return len(self.values)

    def array(self) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in self.values], dtype=float)

    def tail(self, n: int) -> "Series":
        return Series(self.grain, self.starts[-n:], self.labels[-n:], self.values[-n:]) if n > 0 else \
            Series(self.grain, (), (), ())

    def between(self, first: dt.date, before: dt.date) -> "Series":
        """The periods that start on or after `first` and before `before`."""
        keep = [i for i, s in enumerate(self.starts) if first <= s < before]
        return Series(self.grain, tuple(self.starts[i] for i in keep), tuple(self.labels[i] for i in keep),
                      tuple(self.values[i] for i in keep))


@dataclass(frozen=True)
class Pair:
    """A metric's last complete period at one grain and the one before."""

    grain: str
    period: str
    start: dt.date
    value: float | None
    previous_period: str
    previous: float | None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def relative(self) -> float | None:
        """The change over the previous value's size; None from zero."""
        if self.change is None or self.previous == 0:
            return None
        return self.change / abs(self.previous)


@dataclass(frozen=True)
class Numbers:
    test: dict[str, Series]     # complete test-grain periods
    judged: dict[str, Pair]     # at the grain each metric's target is judged at
    compare: dict[str, Pair]    # at compare_grain


def judged_grain(project: Project, m: Metric) -> str:
    return m.target.period if m.target is not None else project.settings.compare_grain


def _series(rows, grain: str, names: list[str]) -> dict[str, Series]:
    by: dict[str, list] = {n: [] for n in names}
    for r in rows:
        if r.complete and r.metric in by:
            by[r.metric].append(r)
    return {n: Series(grain, tuple(r.start for r in rs), tuple(r.period for r in rs), tuple(r.value for r in rs))
            for n, rs in by.items()}


def _pairs(series: dict[str, Series], calendar: Calendar, today: dt.date) -> dict[str, Pair]:
    last = calendar.last_complete(today)
    before = calendar.previous(last)
    out = {}
    for name, s in series.items():
        at = dict(zip(s.starts, s.values))
        out[name] = Pair(calendar.grain, calendar.label(last), last, at.get(last), calendar.label(before),
                         at.get(before))
    return out


def gather(project: Project, engine, today: dt.date, names: list[str]) -> Numbers:
    """Everything the tree needs: one compute() at test_grain over all history, one per other grain."""
    from accord.compute.run import compute
    settings = project.settings
    fy = settings.fiscal_year_start
    if not names:
        return Numbers({}, {}, {})
    test = _series(compute(project, engine, names, settings.test_grain, today).rows, settings.test_grain, names)
    wanted: dict[str, list[str]] = {settings.compare_grain: list(names)}
    for n in names:
        g = judged_grain(project, project.metric(n))
        wanted.setdefault(g, [])
        if n not in wanted[g]:
            wanted[g].append(n)
    pairs: dict[str, dict[str, Pair]] = {}
    for grain, ms in wanted.items():
        cal = Calendar(grain, fy)
        if grain == settings.test_grain:
            pairs[grain] = _pairs({n: test[n] for n in ms}, cal, today)
            continue
        last = cal.last_complete(today)
        rows = compute(project, engine, ms, grain, today, since=cal.previous(last), until=last).rows
        pairs[grain] = _pairs(_series(rows, grain, ms), cal, today)
    judged = {n: pairs[judged_grain(project, project.metric(n))][n] for n in names}
    return Numbers(test, judged, pairs[settings.compare_grain])

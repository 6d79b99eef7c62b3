"""Handoff collisions: where one team hands work to the next, the upstream team's win is the downstream
team's loss, between the last two complete compare-grain periods with data for both — and the weekly numbers show it.

Opposing quarter moves alone are a coincidence as often as a collision. A pair is an error only with
evidence that the two move against each other week by week: each metric's test-grain changes over the two
compare periods, oriented so that a step its team wants is positive, are correlated with the downstream
changes 0 .. L periods later (L as for contribution edges: max(4 weeks, 8 weeks) in test periods); the
smallest one-sided p-value for a negative correlation is Bonferroni-adjusted for the lags tried, then the
pairs whose moves oppose are adjusted together (Benjamini–Hochberg). Adjusted p ≤ alpha: an error; else
the pair is `info` ("moved apart; weekly changes not related").
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy import special

from accord.analyze.contribution import adjust, orders_wanted
from accord.analyze.hierarchy import direction
from accord.analyze.values import Numbers, Pair, Series
from accord.compute.periods import Calendar
from accord.findings import Finding
from accord.project.lint import metric_owner
from accord.project.model import Project

MIN_PAIRS = 4          # changes a lag needs before its correlation counts


@dataclass(frozen=True)
class Association:
    """How the upstream's gains go with the downstream's gains k periods later, at the most negative k."""

    lag: int | None                # test periods from the upstream change to the downstream one
    correlation: float | None      # at that lag, of the target-oriented changes
    pairs: int                     # changes correlated at that lag (at lag 0 when nothing was tested)
    p_smallest: float | None       # one-sided, for a negative correlation, before adjustment
    p_value: float | None          # p_smallest times the lags tried (at most 1)
    lags_tested: int               # lags 0 .. lags_tested - 1


def changes(up: Series, down: Series, up_way: str, down_way: str) -> tuple[np.ndarray, np.ndarray]:
    """Both series' period-to-period changes on their common consecutive periods (NaN where a value is
    missing), each signed so that a move its team wants is positive."""
    va, vb = dict(zip(up.starts, up.values)), dict(zip(down.starts, down.values))
    starts = sorted(set(va) | set(vb))

    def diff(values: dict, way: str) -> np.ndarray:
        x = np.array([np.nan if values.get(s) is None else values[s] for s in starts], dtype=float)
        return np.diff(x) * (1.0 if way == "up" else -1.0)

    return diff(va, up_way), diff(vb, down_way)


def one_sided_negative(r: float, n: int) -> float:
    """P(R ≤ r) for a Pearson correlation of n pairs under no association (Student's t with n − 2 df)."""
    if r <= -1.0:
        return 0.0
    if r >= 1.0:
        return 1.0
    t = r * np.sqrt((n - 2) / (1.0 - r * r))
    return float(special.stdtr(n - 2, t))


def negative_association(up: np.ndarray, down: np.ndarray, max_lag: int) -> Association:
    """Correlate up[t] with down[t + k] for k = 0 .. max_lag (pairs where both are known); the lag with the
    smallest one-sided p for a negative correlation, Bonferroni-adjusted over the lags that could be tested."""
    best: tuple[float, int, float, int] | None = None
    tried = 0
    n = len(up)
    for k in range(max_lag + 1):
        a, b = up[:n - k], down[k:]
        ok = ~np.isnan(a) & ~np.isnan(b)
        a, b = a[ok], b[ok]
        if len(a) < MIN_PAIRS:
            continue
        tried += 1
        if np.ptp(a) == 0 or np.ptp(b) == 0:
            continue
        r = float(np.clip(np.corrcoef(a, b)[0, 1], -1.0, 1.0))
        p = one_sided_negative(r, len(a))
        if best is None or p < best[0]:
            best = (p, k, r, len(a))
    if best is None:
        both = int((~np.isnan(up) & ~np.isnan(down)).sum())
        return Association(None, None, both, None, None, tried)
    p, k, r, pairs = best
    return Association(k, r, pairs, p, min(1.0, p * tried), tried)


def _move(pair: Pair, way: str) -> float | None:
    """The relative change in the direction `way` (positive: it moved the way it should)."""
    rel = pair.relative
    return None if rel is None else rel if way == "up" else -rel


def _side(project: Project, name: str, way: str, pair: Pair) -> dict:
    m = project.metric(name)
    return {"metric": name, "team": m.team, "direction": way, "unit": m.unit,
            "values": [pair.previous, pair.value], "change": pair.relative}


def _pct(x: float) -> str:
    return f"{abs(x):.0%}" if abs(x) >= 0.095 else f"{abs(x):.1%}"




ADVERB = {"day": "daily", "week": "weekly", "month": "monthly", "quarter": "quarterly", "year": "yearly"}


def _evidence_words(a: Association, p_adjusted: float | None, grain: str) -> str:
    """'r −0.75 in the same week, adjusted p 0.0004'."""
    when = f"in the same {grain}" if a.lag == 0 else f"{a.lag} {grain}{'s' if a.lag != 1 else ''} later"
    r = f"{a.correlation:+.2f}".replace("-", "−")
    p = "< 0.001" if p_adjusted < 0.001 else f"{p_adjusted:.2g}"
    return f"r {r} {when}, adjusted p {p}"


@dataclass(frozen=True)
class _Candidate:
    handoff: str | None
    teams: tuple[str, str]
    up: str
    down: str
    association: Association
    pairs: tuple[Pair, Pair]                 # both at the latest compare period with data for both
    window: tuple[dt.date, dt.date]          # the test periods of that period and the one before


def handoff_collisions(project: Project, numbers: Numbers, today: dt.date) -> list[Finding]:
    """Every (upstream metric, downstream metric) pair of each declared handoff where the upstream metric
    moved its way by at least handoff_gain while the downstream one moved against its way by at least
    handoff_loss, both read in the latest compare-grain period complete and with data for both
    (`Numbers.common_pairs`): an error when their weekly changes move against each other (see the module),
    else info. Metrics without a direction (no target, no parent) are skipped."""
    s = project.settings
    gain, loss, grain = s.handoff_gain, s.handoff_loss, s.test_grain
    cal = Calendar(s.compare_grain, s.fiscal_year_start)
    max_lag = orders_wanted("0w", grain)
    ways = {m.name: direction(project, m) for m in project.metrics}
    found: list[_Candidate] = []
    seen: set[tuple[str, str]] = set()
    for h in project.handoffs:
        if (h.from_team, h.to_team) in seen:
            continue
        seen.add((h.from_team, h.to_team))
        ups = [m for m in project.metrics if m.team == h.from_team and ways[m.name]]
        downs = [m for m in project.metrics if m.team == h.to_team and ways[m.name]]
        for u in ups:
            for d in downs:
                pu, pd = numbers.common_pairs(u.name, d.name)
                won, lost = _move(pu, ways[u.name]), _move(pd, ways[d.name])
                if won is None or won < gain or lost is None or -lost < loss:
                    continue
                window = (cal.previous(pu.start), cal.next(pu.start))
                du, dd = changes(numbers.test[u.name].between(*window), numbers.test[d.name].between(*window),
                                 ways[u.name], ways[d.name])
                found.append(_Candidate(h.what, (h.from_team, h.to_team), u.name, d.name,
                                        negative_association(du, dd, max_lag), (pu, pd), window))
    tested = [i for i, c in enumerate(found) if c.association.p_value is not None]
    adjusted = dict(zip(tested, adjust([found[i].association.p_value for i in tested], s.alpha)))
    out = []
    for i, c in enumerate(found):
        a, p_adj = c.association, adjusted.get(i)
        pu, pd = c.pairs
        evident = p_adj is not None and p_adj <= s.alpha
        teams = f"{c.teams[0]} → {c.teams[1]}"
        if evident:
            title = (f"{teams}: '{c.up}' {'rose' if pu.change > 0 else 'fell'} {_pct(pu.relative)} from "
                     f"{pu.previous_period} to {pu.period} while '{c.down}' {'rose' if pd.change > 0 else 'fell'} "
                     f"{_pct(pd.relative)}, against its target direction; {grain} by {grain} one's gains go "
                     f"with the other's losses ({_evidence_words(a, p_adj, grain)})")
        elif p_adj is None:
            title = (f"{teams}: '{c.up}' and '{c.down}' moved apart from {pu.previous_period} to {pu.period}; "
                     f"too few {ADVERB[grain]} changes with both values to tell whether they are related")
        else:
            title = (f"{teams}: '{c.up}' and '{c.down}' moved apart from {pu.previous_period} to {pu.period}; "
                     f"{ADVERB[grain]} changes not related ({_evidence_words(a, p_adj, grain)})")
        labels = numbers.test[c.up].between(*c.window).labels
        evidence = {"handoff": c.handoff, "periods": [pu.previous_period, pu.period],
                    "upstream": _side(project, c.up, ways[c.up], pu),
                    "downstream": _side(project, c.down, ways[c.down], pd),
                    "grain": grain, "test_periods": [labels[0], labels[-1]] if labels else None,
                    "weekly_correlation": a.correlation, "lag": a.lag, "weekly_changes": a.pairs,
                    "lags_tested": [0, a.lags_tested - 1] if a.lags_tested else None,
                    "p_value": a.p_value, "p_value_adjusted": p_adj, "alpha": s.alpha,
                    "gain_limit": gain, "loss_limit": loss}
        up_metric = project.metric(c.up)
        out.append(Finding("handoff-collision", "error" if evident else "info", title, metrics=(c.up, c.down),
                           teams=c.teams, owner=metric_owner(project, up_metric), evidence=evidence,
                           location=up_metric.location))
    return out

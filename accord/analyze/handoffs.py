"""Handoff collisions: where one team hands work to the next, the upstream team's win is the downstream
team's loss, between the last two complete compare-grain periods."""
from __future__ import annotations

import datetime as dt

import numpy as np

from accord.analyze.hierarchy import direction
from accord.analyze.values import Numbers, Pair, Series
from accord.compute.periods import Calendar
from accord.findings import Finding
from accord.project.lint import metric_owner
from accord.project.model import Project


def weekly_changes_correlation(a: Series, b: Series) -> tuple[float | None, int]:
    """Pearson correlation of the two series' period-to-period changes, over the changes both have:
    (r, number of changes). None with fewer than 3 or when either does not vary."""
    va, vb = dict(zip(a.starts, a.values)), dict(zip(b.starts, b.values))
    starts = sorted(set(va) & set(vb))
    da, db = [], []
    for before, now in zip(starts, starts[1:]):
        pair = (va[before], va[now], vb[before], vb[now])
        if None in pair:
            continue
        da.append(pair[1] - pair[0])
        db.append(pair[3] - pair[2])
    if len(da) < 3 or np.ptp(da) == 0 or np.ptp(db) == 0:
        return None, len(da)
    return float(np.corrcoef(da, db)[0, 1]), len(da)


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


def handoff_collisions(project: Project, numbers: Numbers, today: dt.date) -> list[Finding]:
    """Every (upstream metric, downstream metric) pair of each declared handoff where the upstream metric
    moved its way by at least handoff_gain while the downstream one moved against its way by at least
    handoff_loss. Metrics without a direction (no target, no parent) are skipped."""
    gain, loss = project.settings.handoff_gain, project.settings.handoff_loss
    cal = Calendar(project.settings.compare_grain, project.settings.fiscal_year_start)
    last = cal.last_complete(today)
    window = (cal.previous(last), cal.next(last))
    ways = {m.name: direction(project, m) for m in project.metrics}
    out = []
    seen: set[tuple[str, str]] = set()
    for h in project.handoffs:
        if (h.from_team, h.to_team) in seen:
            continue
        seen.add((h.from_team, h.to_team))
        ups = [m for m in project.metrics if m.team == h.from_team and ways[m.name]]
        downs = [m for m in project.metrics if m.team == h.to_team and ways[m.name]]
        for u in ups:
            won = _move(numbers.compare[u.name], ways[u.name])
            if won is None or won < gain:
                continue
            for d in downs:
                lost = _move(numbers.compare[d.name], ways[d.name])
                if lost is None or -lost < loss:
                    continue
                pu, pd = numbers.compare[u.name], numbers.compare[d.name]
                r, n = weekly_changes_correlation(numbers.test[u.name].between(*window),
                                                  numbers.test[d.name].between(*window))
                verb_u = "rose" if pu.change > 0 else "fell"
                verb_d = "rose" if pd.change > 0 else "fell"
                title = (f"{h.from_team} → {h.to_team}: '{u.name}' {verb_u} {_pct(pu.relative)} from "
                         f"{pu.previous_period} to {pu.period} while '{d.name}' {verb_d} {_pct(pd.relative)}, "
                         f"against its target direction")
                evidence = {"handoff": h.what, "periods": [pu.previous_period, pu.period],
                            "upstream": _side(project, u.name, ways[u.name], pu),
                            "downstream": _side(project, d.name, ways[d.name], pd),
                            "weekly_correlation": r, "weekly_changes": n,
                            "gain_limit": gain, "loss_limit": loss}
                out.append(Finding("handoff-collision", "error", title, metrics=(u.name, d.name),
                                   teams=(h.from_team, h.to_team), owner=metric_owner(project, u),
                                   evidence=evidence, location=u.location))
    return out

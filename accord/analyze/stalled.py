"""Green dashboards, stalled outcome: most children on target while the metric they feed does not move."""
from __future__ import annotations

from accord.analyze.hierarchy import children, direction
from accord.analyze.trend import Trend
from accord.analyze.values import Pair
from accord.findings import Finding
from accord.project.lint import metric_owner
from accord.project.model import Project

SHARE_GREEN = 2 / 3
MIN_GREEN = 2


def green_but_stalled(project: Project, status: dict[str, str], judged: dict[str, Pair],
                      trends: dict[str, Trend | None]) -> list[Finding]:
    """A metric whose children with targets are at least two thirds green (two at least), while it does not
    improve in its own direction over the trend window: Mann–Kendall not significant that way, or a
    Theil–Sen slope against it."""
    out = []
    kids = children(project)
    for m in project.metrics:
        rated = [k for k in kids[m.name] if status[k] in ("green", "red")]
        green = sorted(k for k in rated if status[k] == "green")
        if len(green) < MIN_GREEN or len(green) < SHARE_GREEN * len(rated):
            continue
        way, t = direction(project, m), trends.get(m.name)
        if way is None or t is None or t.improving(way):
            continue
        want = "rising" if way == "up" else "falling"
        title = (f"{len(green)} of {len(rated)} metrics feeding '{m.name}' are on target, yet it is not {want}: "
                 f"over the last {t.periods} {t.grain}s its slope is {t.slope:+,.4g} a {t.grain} "
                 f"(Mann–Kendall p {t.p_toward(way):.2g} for {want})")
        first = project.metric(green[0])
        index = next(i for i, p in enumerate(first.parents) if p.metric == m.name)
        pair = judged[m.name]
        evidence = {
            "metric": m.name, "direction": way, "status": status[m.name], "period": pair.period, "value": pair.value,
            "slope": t.slope, "slope_low": t.slope_low, "slope_high": t.slope_high, "p_value": t.p_toward(way),
            "p_value_two_sided": t.p_value, "tau": t.tau, "trend_grain": t.grain, "trend_periods": t.periods,
            "trend_from": t.first_period, "trend_to": t.last_period,
            "children": [{"metric": k, "team": project.metric(k).team, "status": status[k],
                          "period": judged[k].period, "value": judged[k].value,
                          "target": project.metric(k).target.value, "direction": project.metric(k).target.direction}
                         for k in rated],
        }
        out.append(Finding("green-but-stalled", "error", title, metrics=tuple(green) + (m.name,),
                           teams=tuple(sorted({project.metric(k).team for k in green} | {m.team})),
                           owner=metric_owner(project, first), evidence=evidence,
                           location=first.at(f"parents.{index}.metric")))
    return out

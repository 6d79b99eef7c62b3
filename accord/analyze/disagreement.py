"""Sources that disagree: same label, same entity, different systems — bridged automatically."""
from __future__ import annotations

import datetime as dt
from itertools import combinations

from accord.analyze.bridge import reconcile
from accord.analyze.collisions import common_period, group_label, label_groups, stale_words
from accord.compute.periods import Calendar
from accord.errors import UserError
from accord.findings import Finding
from accord.project.lint import metric_owner
from accord.project.model import Project
from accord.project.references import fragment
from accord.analyze.bridge_words import compact, offset, sentence
from accord.sql.expressions import additivity


def _bridgeable(project: Project, name: str) -> bool:
    m = project.metric(name)
    return m.kind == "simple" and additivity(fragment(m.measure)).kind is not None \
        and project.source(m.source).key is not None and project.source(m.source).entity is not None


def source_disagreements(project: Project, engine, today: dt.date, computed=None) -> list[Finding]:
    """source-disagreement per pair of bridgeable metrics under one label over different systems, bridged in
    the latest compare-grain period complete and with data for both (`computed`: every metric at
    compare_grain already, else one compute)."""
    from accord.compute.run import compute
    calendar = Calendar(project.settings.compare_grain, project.settings.fiscal_year_start)
    pairs = []
    for group in label_groups(project):
        names = [m.name for m in group.metrics if _bridgeable(project, m.name)]
        for a_name, b_name in combinations(sorted(names), 2):
            a, b = project.metric(a_name), project.metric(b_name)
            sa, sb = project.source(a.source), project.source(b.source)
            if sa.entity != sb.entity or (sa.system or sa.name) == (sb.system or sb.name):
                continue
            pairs.append((group, a_name, b_name))
    if pairs and (computed is None or computed.grain != calendar.grain):
        computed = compute(project, engine, sorted({n for _, a, b in pairs for n in (a, b)}), calendar.grain, today)
    out: list[Finding] = []
    for group, a_name, b_name in pairs:
        a, b = project.metric(a_name), project.metric(b_name)
        sa, sb = project.source(a.source), project.source(b.source)
        start = common_period(computed, [a_name, b_name])
        if start is None:
            continue
        period = calendar.label(start)
        try:
            br = reconcile(project, engine, a_name, b_name, period)
        except UserError:
            continue
        data = br.as_dict()
        if data["gap"] == 0 or not data["steps"]:
            continue
        base = data["a"]["value"]
        relative = data["gap"] / abs(base) if base else None
        largest = data["steps"][0]
        teams = {m.name: m.team for m in project.metrics}
        words = sentence(largest, data["a"], data["b"], sa.entity, teams)
        against = offset(data["gap"], data["steps"])
        gap_words = f"{relative:+.0%}".replace("-", "−") if relative is not None else compact(data["gap"], a.unit)
        severity = "error" if relative is None or abs(relative) > project.settings.collision_spread else "warning"
        out.append(Finding(
            "source-disagreement", severity,
            f"{sb.system or sb.name} and {sa.system or sa.name} disagree on '{group_label(group)}' by "
            f"{gap_words} for {period}; largest single reason: {compact(largest['delta'], a.unit)} · {words}"
            + (f", partly offset by {compact(against, a.unit)}" if against else ""),
            metrics=(a_name, b_name), teams=tuple(sorted({a.team, b.team})), owner=metric_owner(project, a),
            evidence={"period": period, "period_chosen": stale_words(computed, [a_name, b_name], period),
                      "a": data["a"], "b": data["b"], "gap": data["gap"],
                      "gap_relative": relative, "largest_step": largest, "largest_step_words": words,
                      "steps": data["steps"]},
            location=a.location))
    return out

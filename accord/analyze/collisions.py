"""Label collisions (one word, several meanings) and duplicate definitions (one meaning, several names)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from accord.compute.periods import Calendar
from accord.findings import Finding
from accord.project.fingerprint import definition, fingerprint
from accord.project.labels import normalize_label
from accord.project.lint import metric_owner
from accord.project.model import Decision, Metric, Project
from accord.sql.normalize import normalized_sql
from accord.project.references import fragment

STRICT = ("decision-grade", "board-grade")


@dataclass(frozen=True)
class LabelGroup:
    label: str                      # normalized
    metrics: tuple[Metric, ...]     # sorted by name


def label_groups(project: Project) -> list[LabelGroup]:
    """Metrics sharing a label after normalization and synonyms, two or more per group."""
    groups: dict[str, list[Metric]] = defaultdict(list)
    for m in project.metrics:
        groups[normalize_label(m.display_label, project.settings.synonyms)].append(m)
    return [LabelGroup(k, tuple(sorted(v, key=lambda m: m.name))) for k, v in sorted(groups.items()) if len(v) > 1]


def group_label(group: LabelGroup) -> str:
    """The label as most plainly written in the group (one that needs no synonym), else the first."""
    plain = [m.display_label for m in group.metrics if normalize_label(m.display_label) == group.label]
    return plain[0] if plain else group.metrics[0].display_label


def common_period(result, names: list[str]) -> dt.date | None:
    """The start of the latest period of `result` that is complete and has data for every one of `names`."""
    common: set[dt.date] | None = None
    for n in set(names):
        starts = {r.start for r in result.used(n)}
        common = starts if common is None else common & starts
    return max(common) if common else None


def last_complete_values(project: Project, engine, names: list[str], today: dt.date,
                         grain: str | None = None, result=None) -> tuple[str, dict[str, float | None]]:
    """Each metric's value in the latest period of `grain` (default compare_grain) that is complete and has
    data for all of them: one compute, or `result` when it holds them at that grain already.
    The period is "" when there is none."""
    from accord.compute.run import compute
    grain = grain or project.settings.compare_grain
    calendar = Calendar(grain, project.settings.fiscal_year_start)
    if result is None or result.grain != grain:
        result = compute(project, engine, sorted(set(names)), grain, today)
    start = common_period(result, names)
    values: dict[str, float | None] = {n: None for n in names}
    if start is None:
        return "", values
    for n in names:
        values[n] = next((r.value for r in result.used(n) if r.start == start), None)
    return calendar.label(start), values


def stale_words(result, names: list[str], period: str) -> str | None:
    """Why a comparison reads `period`, when some metric's data stops before the last complete period."""
    if result is None or not period:
        return None
    stopped = sorted(n for n in set(names)
                     if any(r.stale and r.complete for r in result.series(n)) and result.last_day.get(n))
    if not stopped:
        return None
    return (f"{period} is the latest {result.grain} complete and with data for all of them: the data of "
            + ", ".join(f"'{n}' stops on {result.last_day[n].isoformat()}" for n in stopped))


def spread(values: list[float | None]) -> float | None:
    """(max − min) / |max| over the known values; None when fewer than two or max is 0."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return None
    hi, lo = max(known), min(known)
    return None if hi == 0 else (hi - lo) / abs(hi)


def _clauses(metric: Metric) -> dict[tuple[str, str], str]:
    """(side, normalized sql) → clause name."""
    out = {}
    for side in ("include", "exclude"):
        for c in getattr(metric, side) or ():
            out[(side, normalized_sql(fragment(c.sql)))] = c.name
    return out


def _who(ms: list[Metric]) -> str:
    names = sorted({m.team for m in ms})
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def differences(project: Project, metrics: tuple[Metric, ...]) -> list[str]:
    """Each way the definitions differ, in words people say."""
    out: list[str] = []
    simple = [m for m in metrics if m.kind == "simple"]
    kinds = {m.kind for m in metrics}
    if len(kinds) > 1:
        out.append("; ".join(f"{m.team} computes it as a {m.kind}" for m in metrics))
    if len({project.source(m.source).system or m.source for m in simple}) > 1 or \
            len({m.source for m in simple}) > 1:
        out.append("; ".join(f"{m.team} reads {m.source}"
                             + (f" ({project.source(m.source).system})" if project.source(m.source).system else "")
                             for m in simple))
    defs = {m.name: definition(project, m) for m in simple}
    if len({defs[m.name]["measure"] for m in simple}) > 1:
        out.append("; ".join(f"{m.team} measures {defs[m.name]['measure'].lower()}" for m in simple))
    if len({defs[m.name]["time"] for m in simple}) > 1:
        first, *rest = simple
        out.append(f"{first.team} dates by {defs[first.name]['time']}"
                   + "".join(f", {m.team} by {defs[m.name]['time']}" for m in rest))
    clauses = {m.name: _clauses(m) for m in simple}
    every = sorted({k for c in clauses.values() for k in c})
    for side, sql in every:
        having = [m for m in simple if (side, sql) in clauses[m.name]]
        lacking = [m for m in simple if (side, sql) not in clauses[m.name]]
        if not lacking:
            continue
        name = clauses[having[0].name][(side, sql)]
        verb = "excludes" if side == "exclude" else "only counts"
        does = "does not" if len({m.team for m in lacking}) == 1 else "do not"
        out.append(f"{_who(having)} {verb} {name} ({sql}); {_who(lacking)} {does}")
    return out


def _side_by_side(project: Project, m: Metric, fp: str, value: float | None) -> dict:
    d = {"metric": m.name, "label": m.display_label, "team": m.team, "owner": m.owner,
         "confidence": m.confidence, "decision": m.decision, "kind": m.kind, "fingerprint": fp,
         "value": value, "unit": m.unit}
    if m.kind == "simple":
        src = project.source(m.source)
        d.update({"source": m.source, "system": src.system, "entity": src.entity, "measure": m.measure,
                  "time": m.time or src.time,
                  "include": [{"name": c.name, "sql": c.sql} for c in m.include or ()],
                  "exclude": [{"name": c.name, "sql": c.sql} for c in m.exclude or ()]})
    elif m.kind == "ratio":
        d.update({"numerator": m.ratio.numerator, "denominator": m.ratio.denominator})
    else:
        d["formula"] = m.formula
    return d


def covering_decision(project: Project, label: str, metrics: tuple[Metric, ...],
                      prints: dict[str, str]) -> tuple[Decision | None, list[str]]:
    """The decision for this label, and the metrics it does not cover with a matching fingerprint."""
    for d in project.decisions:
        if normalize_label(d.label, project.settings.synonyms) != label:
            continue
        recorded = {c.metric: c.fingerprint for c in d.canonical + d.alternates}
        uncovered = [m.name for m in metrics if recorded.get(m.name) != prints[m.name]]
        return d, uncovered
    return None, [m.name for m in metrics]


def collisions(project: Project, engine, today: dt.date, computed=None) -> list[Finding]:
    """label-collision per label whose metrics differ, compared in the latest compare-grain period complete
    and with data for all of them (`computed`: every metric at compare_grain already, else one compute);
    duplicate-definition per definition under several names."""
    from accord.compute.run import compute
    groups = label_groups(project)
    prints = {m.name: fingerprint(project, m) for m in project.metrics}
    findings: list[Finding] = []
    colliding = [g for g in groups if len({prints[m.name] for m in g.metrics}) > 1]
    grain = project.settings.compare_grain
    if colliding and (computed is None or computed.grain != grain):
        computed = compute(project, engine, sorted({m.name for g in colliding for m in g.metrics}), grain, today)
    for g in colliding:
        names = [m.name for m in g.metrics]
        period, values = last_complete_values(project, engine, names, today, grain, computed)
        vals = [values.get(m.name) for m in g.metrics]
        s = spread(vals)
        strict = any(m.confidence in STRICT for m in g.metrics)
        limit = project.settings.collision_spread
        severity = "error" if strict or (s is not None and s > limit) else "warning"
        decision, uncovered = covering_decision(project, g.label, g.metrics, prints)
        if decision is not None and not uncovered and not decision.unresolved:
            severity = "info"
        first = g.metrics[0]
        label = group_label(g)
        pct = f"{s:.0%}" if s is not None else "an unknown amount"
        when = f"their values for {period} differ by {pct}" if period else \
            "no complete period has data for all of them, so their values cannot be compared"
        title = f"'{label}' means {len(g.metrics)} different things to {_who(list(g.metrics))}: {when}"
        evidence = {"label": label, "period": period, "period_chosen": stale_words(computed, names, period),
                    "spread": s, "spread_limit": limit,
                    "definitions": [_side_by_side(project, m, prints[m.name], values.get(m.name)) for m in g.metrics],
                    "differences": differences(project, g.metrics)}
        if decision is not None:
            evidence["decision"] = {"label": decision.label, "decided_on": decision.decided_on.isoformat(),
                                    "owner": decision.owner, "file": decision.location.file,
                                    "line": decision.location.line, "uncovered": uncovered}
        findings.append(Finding("label-collision", severity, title, metrics=tuple(m.name for m in g.metrics),
                                teams=tuple(sorted({m.team for m in g.metrics})),
                                owner=metric_owner(project, first), evidence=evidence, location=first.location))
    same: dict[str, list[Metric]] = defaultdict(list)
    for m in project.metrics:
        same[prints[m.name]].append(m)
    for fp, ms in sorted(same.items()):
        if len(ms) > 1:
            ms = sorted(ms, key=lambda m: m.name)
            findings.append(Finding(
                "duplicate-definition", "info",
                f"{', '.join(m.name for m in ms)} are the same definition under {len(ms)} names: keep one, "
                "or make the difference explicit", metrics=tuple(m.name for m in ms),
                teams=tuple(sorted({m.team for m in ms})), owner=metric_owner(project, ms[0]),
                evidence={"fingerprint": fp, "labels": {m.name: m.display_label for m in ms}},
                location=ms[0].location))
    return findings

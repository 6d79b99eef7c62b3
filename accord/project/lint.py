"""Governance lint: pure rules over the project, each returning findings; RULES lists them in order."""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterable

from accord.findings import Finding, Location
from accord.project.model import LEVELS, Metric, Project
from accord.project.fingerprint import source_location
from accord.project.references import find_cycles, fragment
from accord.sql.normalize import normalized_sql

Rule = Callable[[Project], Iterable[Finding]]


def team_lead(project: Project, team: str | None) -> str | None:
    t = project.team(team) if team else None
    return t.lead if t else None


def metric_owner(project: Project, m: Metric) -> str | None:
    """Who should act on a finding about a metric: its owner, else its team's lead."""
    return m.owner or team_lead(project, m.team)


def _finding(project: Project, code: str, severity: str, title: str, m: Metric,
             evidence: dict | None = None, location: Location | None = None, **kw) -> Finding:
    return Finding(code=code, severity=severity, title=title, metrics=kw.pop("metrics", (m.name,)),
                   teams=kw.pop("teams", (m.team,)), owner=kw.pop("owner", metric_owner(project, m)),
                   evidence=evidence or {}, location=location or m.location, **kw)


def missing_owner(project: Project) -> Iterable[Finding]:
    for m in project.metrics:
        if not m.owner:
            lead = team_lead(project, m.team)
            yield _finding(project, "missing-owner", "warning",
                           f"'{m.name}' has no owner: nobody is accountable when this number moves or breaks",
                           m, {"team": m.team, "team_lead": lead,
                               "fix": f"add owner: <email> to '{m.name}'"})


def missing_decision(project: Project) -> Iterable[Finding]:
    for m in project.metrics:
        if m.decision is None:
            yield _finding(project, "missing-decision", "warning",
                           f"'{m.name}' names no decision it supports: a number without a decision invites "
                           "local optimisation", m, {"fix": f"add decision: <the decision or meeting> to '{m.name}'"})


def no_exclusions(project: Project) -> Iterable[Finding]:
    for m in project.metrics:
        if m.kind == "simple" and m.exclude is None:
            yield _finding(project, "no-exclusions", "warning",
                           f"'{m.name}' states no exclusions: what it leaves out (tests, internal accounts, "
                           "duplicates) is hidden", m,
                           {"fix": "add exclude: [...] with named clauses, or exclude: [] to say nothing is "
                                   "excluded on purpose"})


def _excludes(project: Project, m: Metric) -> dict[str, str]:
    """A simple metric's exclude clauses by their normalized SQL (so wording and order do not matter)."""
    return {normalized_sql(fragment(c.sql)): c.name for c in m.exclude or ()}


def ratio_mismatch(project: Project) -> Iterable[Finding]:
    """A ratio whose numerator and denominator read one source but exclude different records.

    Excludes say who does not count at all (test accounts, internal users): a side that leaves them out
    while the other counts them makes the rate mix two populations. Includes are how a rate defines success,
    so differing includes are not flagged.
    """
    names = {m.name for m in project.metrics}
    for m in project.metrics:
        if m.kind != "ratio" or not {m.ratio.numerator, m.ratio.denominator} <= names:
            continue
        num, den = project.metric(m.ratio.numerator), project.metric(m.ratio.denominator)
        if num.kind != "simple" or den.kind != "simple" or num.source is None or den.source is None:
            continue
        try:
            same = source_location(project, num.source) == source_location(project, den.source)
        except KeyError:
            continue
        if not same:
            continue
        n_ex, d_ex = _excludes(project, num), _excludes(project, den)
        only_num = [n_ex[k] for k in n_ex if k not in d_ex]
        only_den = [d_ex[k] for k in d_ex if k not in n_ex]
        if not (only_num or only_den):
            continue
        parts = []
        if only_num:
            parts.append(f"'{num.name}' leaves out {_quoted(only_num)}, which '{den.name}' counts")
        if only_den:
            parts.append(f"'{den.name}' leaves out {_quoted(only_den)}, which '{num.name}' counts")
        yield _finding(project, "ratio-mismatch", "warning",
                       f"'{m.name}' divides two populations: " + "; ".join(parts), m,
                       {"source": num.source, "numerator": num.name, "denominator": den.name,
                        "numerator_only_excludes": only_num, "denominator_only_excludes": only_den,
                        "fix": "exclude the same records on both sides (excludes say who does not count at "
                               "all); a difference that defines success belongs in include"},
                       location=m.at("ratio"))


def _quoted(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def too_many_metrics(project: Project) -> Iterable[Finding]:
    limit = project.settings.max_metrics_per_level
    groups: dict[tuple[str | None, str], list[Metric]] = defaultdict(list)
    for m in project.metrics:
        if m.status == "deprecated":
            continue
        groups[(None if m.level == "company" else m.team, m.level)].append(m)
    for (team, level), ms in sorted(groups.items(), key=lambda kv: (kv[0][0] or "", LEVELS.index(kv[0][1]))):
        if len(ms) > limit:
            first = ms[0]
            who = "the company" if team is None else f"team '{team}'"
            yield _finding(project, "too-many-metrics", "warning",
                           f"{who} has {len(ms)} {level} metrics (more than {limit}): focus blurs and "
                           "metrics start to compete", first,
                           {"count": len(ms), "limit": limit, "level": level, "team": team,
                            "metrics": [m.name for m in ms]},
                           metrics=tuple(sorted(m.name for m in ms)),
                           teams=tuple(sorted({m.team for m in ms})),
                           owner=team_lead(project, team) if team else metric_owner(project, first))


def orphan_metric(project: Project) -> Iterable[Finding]:
    """A role or function metric with no parent path up to a company metric."""
    levels = {m.name: m.level for m in project.metrics}
    parents = {m.name: [p.metric for p in m.parents if p.metric in levels] for m in project.metrics}
    reaches: dict[str, bool] = {}

    def up(name: str, seen: frozenset) -> bool:
        if name in reaches:
            return reaches[name]
        if levels[name] == "company":
            return True
        ok = any(up(p, seen | {name}) for p in parents[name] if p not in seen)
        if not seen:
            reaches[name] = ok
        return ok

    for m in project.metrics:
        if m.level != "company" and not up(m.name, frozenset()):
            yield _finding(project, "orphan-metric", "warning",
                           f"'{m.name}' does not feed any company metric: nobody can say which outcome it serves",
                           m, {"level": m.level, "parents": [p.metric for p in m.parents],
                               "fix": "add parents: [{metric: <a metric it feeds>, effect: raises}]"})


def unknown_reference(project: Project) -> Iterable[Finding]:
    metrics = {m.name for m in project.metrics}
    teams = {t.name for t in project.teams}
    sources = {s.name for s in project.sources}

    def ref(kind: str, name: str, known: set[str], location: Location, where: str,
            metric: Metric | None = None, owner: str | None = None, team: str | None = None) -> Finding:
        from accord.errors import did_you_mean
        hint = did_you_mean(name, known)
        return Finding("unknown-reference", "error", f"{where} names {kind} '{name}', which does not exist.{hint}",
                       metrics=(metric.name,) if metric else (), teams=(team,) if team else (),
                       owner=owner, evidence={"kind": kind, "name": name, "in": where},
                       location=location)

    for m in project.metrics:
        for i, p in enumerate(m.parents):
            if p.metric not in metrics:
                yield ref("metric", p.metric, metrics, m.at(f"parents.{i}.metric"), f"metric '{m.name}' (parents)",
                          m, metric_owner(project, m), m.team)
        if teams and m.team not in teams:
            yield ref("team", m.team, teams, m.at("team"), f"metric '{m.name}'", m, m.owner, m.team)
        for i, team in enumerate(m.visible_to or ()):
            if team not in teams:
                yield ref("team", team, teams, m.at(f"visible_to.{i}"), f"metric '{m.name}' (visible_to)", m,
                          m.owner, m.team)
    for h in project.handoffs:
        for side, key in ((h.from_team, "from"), (h.to_team, "to")):
            if side not in teams:
                yield ref("team", side, teams, h.at(key), "a handoff", owner=None, team=side)
    for d in project.decisions:
        for group in ("canonical", "alternates"):
            for i, c in enumerate(getattr(d, group)):
                if c.metric not in metrics:
                    yield ref("metric", c.metric, metrics, d.at(f"{group}.{i}.metric"),
                              f"decision '{d.label}' ({group})", owner=d.owner)
    for a in project.accept:
        for i, name in enumerate(a.metrics):
            if name not in metrics:
                yield ref("metric", name, metrics, a.at(f"metrics.{i}"), f"accept entry for '{a.code}'",
                          owner=a.owner)
    policy = project.contact_policy
    if policy is not None:
        named = [(t.source, f"touches.{i}.source") for i, t in enumerate(policy.touches)]
        named += [(s.source, f"states.{i}.source") for i, s in enumerate(policy.states)]
        if policy.cases:
            named.append((policy.cases.source, "cases.source"))
        if policy.outcome:
            named.append((policy.outcome.source, "outcome.source"))
        for name, key in named:
            if name not in sources:
                yield ref("source", name, sources, policy.at(key), "contact_policy")
        if teams:
            policy_teams = [(t.team, f"touches.{i}.team") for i, t in enumerate(policy.touches)]
            for rule in policy.rules:
                policy_teams += [(t, "rules") for t in (rule.teams or ()) + (rule.block_teams or ())]
            for name, key in policy_teams:
                if name not in teams:
                    yield ref("team", name, teams, policy.at(key), "contact_policy")
        states = {s.name for s in policy.states} | ({"open_case"} if policy.cases else set())
        for i, rule in enumerate(policy.rules):
            if rule.while_ and rule.while_ not in states:
                yield ref("state", rule.while_, states, policy.at(f"rules.{i}.while"), f"rule '{rule.name}'")


def cycle(project: Project) -> Iterable[Finding]:
    graph = {m.name: [p.metric for p in m.parents] for m in project.metrics}
    for c in find_cycles(graph):
        first = project.metric(c[0])
        yield _finding(project, "cycle", "error",
                       f"contribution path loops back on itself: {' -> '.join(c + [c[0]])}", first,
                       {"cycle": c + [c[0]]}, metrics=tuple(sorted(c)),
                       teams=tuple(sorted({project.metric(n).team for n in c})))


RULES: tuple[Rule, ...] = (
    missing_owner,
    missing_decision,
    no_exclusions,
    ratio_mismatch,
    too_many_metrics,
    orphan_metric,
    unknown_reference,
    cycle,
)


def lint(project: Project) -> list[Finding]:
    return [f for rule in RULES for f in rule(project)]

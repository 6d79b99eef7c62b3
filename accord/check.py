"""`accord check`: every diagnostic that exists, in order, with accepted findings marked."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable, Iterable

from accord.findings import Finding, at_or_above, sort_findings
from accord.project.lint import lint
from accord.project.model import Accept, Project


@dataclass
class Context:
    """What a diagnostic may use: the project, the date, and an engine opened on first use
    (the factory given, else the engine accord.yml names)."""

    project: Project
    today: dt.date
    engine_factory: Callable | None = None
    analyses: dict = field(default_factory=dict)    # results worth reusing (the tree, the touchpoints)
    _engine: object = None
    _computed: dict = field(default_factory=dict)

    def computed(self, grain: str | None = None):
        """Every metric at `grain` (default compare_grain), computed once per check: one scan per source."""
        from accord.compute.run import compute
        grain = grain or self.project.settings.compare_grain
        if grain not in self._computed:
            self._computed[grain] = compute(self.project, self.engine, None, grain, self.today)
        return self._computed[grain]

    @property
    def engine(self):
        if self._engine is None:
            if self.engine_factory is None:
                from accord.compute.connect import project_engine
                self._engine = project_engine(self.project)
            else:
                self._engine = self.engine_factory()
        return self._engine


Diagnostic = Callable[[Context], Iterable[Finding]]


def governance(ctx: Context) -> Iterable[Finding]:
    return lint(ctx.project)


def source_freshness(ctx: Context) -> Iterable[Finding]:
    """stale-source, from each source time column's last data time (found in the compute scan), and from
    the sources only the contact policy reads (one small query each)."""
    from accord.analyze.freshness import policy_last_data, stale_sources
    known = ctx.computed().last_data if ctx.project.metrics else []
    facts = list(known)
    if ctx.project.contact_policy is not None:
        facts += policy_last_data(ctx.project, ctx.engine, ctx.today, known)
    return stale_sources(ctx.project, facts, ctx.today)


def label_collisions(ctx: Context) -> Iterable[Finding]:
    from accord.analyze.collisions import collisions, label_groups
    if not label_groups(ctx.project):  # nothing shares a label: no need to open the data
        return []
    return collisions(ctx.project, ctx.engine, ctx.today, ctx.computed())


def source_disagreements(ctx: Context) -> Iterable[Finding]:
    from accord.analyze.collisions import label_groups
    from accord.analyze.disagreement import source_disagreements
    if not label_groups(ctx.project):
        return []
    return source_disagreements(ctx.project, ctx.engine, ctx.today, ctx.computed())


def definition_drift(ctx: Context) -> Iterable[Finding]:
    rev = ctx.project.settings.baseline_rev
    if not rev:
        return []
    from accord.analyze.drift import drift_findings
    from accord.project.history import load_at_revision
    return drift_findings(ctx.project, load_at_revision(ctx.project, rev), rev)


def import_drift(ctx: Context) -> Iterable[Finding]:
    """import-drift: an imported metric's definition changed in its tool since the last import."""
    if not ctx.project.settings.imports:
        return []
    from accord.imports.drift import import_drift as run
    return run(ctx.project)


def contribution_tree(ctx: Context) -> Iterable[Finding]:
    """unsupported-contribution, reversed-contribution, green-but-stalled, handoff-collision,
    missing-balancing-metric. The tree is kept for the report."""
    from accord.analyze.tree import build_tree
    if not any(m.parents or m.target for m in ctx.project.metrics) and not ctx.project.handoffs:
        return []
    tree = build_tree(ctx.project, ctx.engine, ctx.today)
    ctx.analyses["tree"] = tree
    return tree.findings


def touchpoint_rules(ctx: Context) -> Iterable[Finding]:
    """touchpoint-overload, contact-during-open-case, contact-in-quiet-hours. The analysis is kept for the report."""
    from accord.analyze.contact_log import policy_problems
    from accord.analyze.touchpoints import findings_of, touchpoints
    if ctx.project.contact_policy is None or policy_problems(ctx.project):
        return []      # unknown sources and states are unknown-reference findings already
    result = touchpoints(ctx.project, ctx.engine, ctx.today)
    ctx.analyses["touchpoints"] = result
    return findings_of(ctx.project, result)


def decision_governance(ctx: Context) -> Iterable[Finding]:
    """unresolved-conflict, unapproved-change, review-overdue, follow-up-overdue."""
    from accord.workshop.governance import governance_findings
    return governance_findings(ctx.project, ctx.today)


DIAGNOSTICS: tuple[Diagnostic, ...] = (
    governance,
    source_freshness,
    label_collisions,
    source_disagreements,
    definition_drift,
    import_drift,
    contribution_tree,
    touchpoint_rules,
    decision_governance,
)


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    today: dt.date | None = None
    analyses: dict = field(default_factory=dict)

    def analysis(self, name: str, today: dt.date):
        """An analysis check already ran for the same day (the tree, the touchpoints), else None."""
        return self.analyses.get(name) if today == self.today else None

    @property
    def open(self) -> list[Finding]:
        return [f for f in self.findings if f.accepted is None]

    @property
    def accepted(self) -> list[Finding]:
        return [f for f in self.findings if f.accepted is not None]

    def failing(self, threshold: str) -> list[Finding]:
        return [f for f in self.open if at_or_above(f.severity, threshold)]

    def counts(self) -> dict[str, int]:
        out = {"error": 0, "warning": 0, "info": 0, "accepted": len(self.accepted)}
        for f in self.open:
            out[f.severity] += 1
        return out


def _matches(entry: Accept, finding: Finding) -> bool:
    if entry.code != finding.code:
        return False
    if entry.metrics and not set(finding.metrics) <= set(entry.metrics):
        return False
    if entry.teams and not set(finding.teams) <= set(entry.teams):
        return False
    return True


def apply_accepts(project: Project, findings: list[Finding], today: dt.date) -> list[Finding]:
    """Mark findings matched by an unexpired accept entry; an expired entry becomes a warning itself."""
    out: list[Finding] = []
    for f in findings:
        entry = next((a for a in project.accept if _matches(a, f) and a.until >= today), None)
        out.append(f.with_acceptance({"owner": entry.owner, "reason": entry.reason,
                                      "until": entry.until.isoformat()}) if entry else f)
    for a in project.accept:
        if a.until < today:
            out.append(Finding("accepted-expired", "warning",
                               f"the acceptance of '{a.code}' expired on {a.until.isoformat()}: "
                               "fix the finding or renew the acceptance with a reason",
                               metrics=tuple(sorted(a.metrics)), teams=tuple(sorted(a.teams)), owner=a.owner,
                               evidence={"code": a.code, "until": a.until.isoformat(), "reason": a.reason},
                               location=a.location))
    return out


def run_check(project: Project, today: dt.date, engine_factory: Callable | None = None,
              diagnostics: tuple[Diagnostic, ...] = DIAGNOSTICS) -> CheckResult:
    ctx = Context(project, today, engine_factory)
    try:
        findings = [f for d in diagnostics for f in d(ctx)]
    finally:
        if ctx._engine is not None:
            ctx._engine.close()
    return CheckResult(sort_findings(apply_accepts(project, findings, today)), today, ctx.analyses)

"""The report: everything one page needs to show a leader the whole picture, as plain data (no HTML).

`build_report` computes every metric once per grain it is shown at (one `compute()` call per grain, never
one per metric), judges targets on the last complete period, and sorts findings into what someone should
do about them. Renderers turn the `Report` into a page (`accord.render.html.write_report` does both).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any, Callable

from accord.check import CheckResult
from accord.errors import UserError
from accord.findings import Finding
from accord.project.model import LEVELS, Metric, Project, Target
from accord.report_context import ReportContext, SectionBuilder, label_of, plural  # noqa: F401 (re-exported)
from accord.report_items import items
from accord.report_views import (Action, ActionGroup, BridgeStep, CollisionView, Contact, CustomerStory,
                                DecisionView, FindingView, LevelGroup, MetricView, Point, Report,
                                RuleBreach, Section, TeamGroup, TouchpointsView, TreeNode, Variant)  # noqa: F401 (the shapes, re-exported)

# How many complete periods a sparkline shows, per grain.
RECENT = {"day": 30, "week": 13, "month": 12, "quarter": 8, "year": 5}

LEVEL_WORDS = {
    "company": ("Company", "The few numbers the whole company steers by."),
    "function": ("Function", "What each function runs on, and the company numbers they feed."),
    "role": ("Role", "What people move day to day."),
}


# ---------------------------------------------------------------- what a leader should do

# Every finding code lands in the first action that lists it; a code listed nowhere lands in OTHER.
# A new diagnostic adds its code to one line here.
ACTIONS: tuple[Action, ...] = (
    Action("decide", "Decide which number is official",
           "One word stands for different numbers in different teams, or sources disagree. "
           "Pick the number the company uses and rename the others.", "leader",
           ("label-collision", "source-disagreement", "unresolved-conflict", "duplicate-definition")),
    Action("approve", "Approve or roll back changes to official numbers",
           "An agreed definition changed since it was approved.", "leader",
           ("definition-drift", "unapproved-change")),
    Action("stalled", "Look behind the green",
           "These numbers hit their targets while the company number they claim to feed does not move.",
           "leader", ("green-but-stalled",)),
    Action("handoffs", "Settle the handoffs between teams",
           "Where one team hands work to the next, one team's win is the next team's loss.", "leader",
           ("handoff-collision",)),
    Action("contact", "Protect customers from over-contact",
           "Teams reach the same customers at once, during open cases or at night.", "leader",
           ("touchpoint-overload", "contact-during-open-case", "contact-in-quiet-hours")),
    Action("focus", "Cut to the few numbers that matter",
           "Too many metrics at one level blur focus and start to compete.", "leader",
           ("too-many-metrics",)),
    Action("fresh", "Restore data that stopped arriving",
           "A source's data stops before today: its numbers after that are unknown, not zero.", "owners",
           ("stale-source",)),
    Action("path", "Fix the contribution path",
           "Each number should feed a company number, in the direction it claims.", "owners",
           ("reversed-contribution", "unsupported-contribution", "orphan-metric", "cycle")),
    Action("owner", "Name an owner",
           "Nobody is accountable when these numbers move or break.", "owners", ("missing-owner",)),
    Action("purpose", "Say which decision each number supports",
           "A number that supports no decision invites local optimisation.", "owners", ("missing-decision",)),
    Action("upkeep", "Keep decisions current",
           "Agreed decisions need their reviews, follow-ups and acceptances kept up.", "owners",
           ("review-overdue", "follow-up-overdue", "accepted-expired")),
    Action("balance", "Pair each volume with a quality number",
           "A team steers a volume with no rate or quality metric over the same records, so nothing shows what "
           "the volume is worth.", "owners", ("missing-balancing-metric",)),
    Action("define", "Tighten the definitions",
           "What a number leaves out, and what it points at, should be written down.", "owners",
           ("no-exclusions", "ratio-mismatch", "unknown-reference")),
)
OTHER = Action("other", "Other things to check", "Findings of a kind this page does not group yet.", "owners", ())
ACCEPTED = Action("accepted", "Accepted for now",
                  "Known findings that an owner has accepted, with a reason, until a date.", "owners", ())


def action_for(code: str) -> Action:
    return next((a for a in ACTIONS if code in a.codes), OTHER)


# ---------------------------------------------------------------- building it

def metric_grain(project: Project, m: Metric) -> str:
    """A metric is shown at its target's grain, else at the project's compare grain."""
    return m.target.period if m.target else project.settings.compare_grain


def compute_series(ctx: ReportContext) -> tuple[dict[str, list], list[str]]:
    """Each metric's rows at its grain: one compute() per grain in use; and the problems that stopped it."""
    from accord.compute.run import compute
    project = ctx.project
    by_grain: dict[str, list[str]] = {}
    for m in project.metrics:
        by_grain.setdefault(metric_grain(project, m), []).append(m.name)
    rows: dict[str, list] = {m.name: [] for m in project.metrics}
    try:
        for grain, names in by_grain.items():
            result = compute(project, ctx.engine, names, grain, ctx.today)
            ctx.last_day.update(result.last_day)
            for r in result.rows:
                rows[r.metric].append(r)
    except UserError as e:
        return {m.name: [] for m in project.metrics}, e.lines()
    return rows, []


def target_status(target: Target | None, value: float | None) -> str | None:
    """Met when the last complete period is at or beyond the target in its direction (DESIGN.md)."""
    if target is None:
        return None
    if value is None:
        return "no-data"
    met = value >= target.value if target.direction == "up" else value <= target.value
    return "met" if met else "missed"


def _metric_view(project: Project, m: Metric, rows: list, open_counts: dict[str, int],
                 last_day: dt.date | None = None) -> MetricView:
    """The card: the last complete period with data (a period after the source's last data is no data, not
    0), and "stale since" the last data day when a complete period has none."""
    grain = metric_grain(project, m)
    complete = [r for r in rows if r.complete and not r.stale]
    stale = any(r.complete and r.stale for r in rows)
    last = complete[-1] if complete else None
    previous = complete[-2] if len(complete) > 1 else None
    recent = complete[-RECENT[grain]:]
    feeds = tuple(label_of(project, project.metric(p.metric)) for p in m.parents if project.has_metric(p.metric))
    return MetricView(
        name=m.name, label=label_of(project, m), team=m.team, level=m.level, owner=m.owner, decision=m.decision,
        description=m.description, confidence=m.confidence, caveats=m.caveats, status=m.status, unit=m.unit,
        grain=grain, target=m.target, period=last.period if last else None, value=last.value if last else None,
        previous=previous.value if previous else None,
        target_status=target_status(m.target, last.value if last else None),
        series=tuple(Point(r.period, r.start, r.value) for r in recent), feeds=feeds,
        findings=open_counts.get(m.name, 0), location=_where(m.location),
        stale_since=last_day.isoformat() if stale and last_day else None)


def _where(location) -> str | None:
    if location is None or not location.file:
        return None
    return f"{location.file}:{location.line}" if location.line else location.file


def _finding_view(project: Project, f: Finding, index: int, see: Section | None = None) -> FindingView:
    subjects = []
    for name in f.metrics:
        if project.has_metric(name):
            m = project.metric(name)
            subjects.append((name, label_of(project, m), m.team))
        else:
            subjects.append((name, name, None))
    facts, notes = evidence_facts(f.evidence)
    if see is not None:  # the section shows the detail; keep the headline numbers here
        facts = {k: v for k, v in facts.items() if not isinstance(v, (dict, list))}
        notes = ()
    facts = dict(list(facts.items())[:FACTS])
    return FindingView(f, f"finding-{index}", tuple(subjects), facts, notes, f.evidence.get("fix"),
                       _where(f.location), (see.key, see.title) if see else None)


FACTS = 6  # evidence shown per finding; the rest is in `accord check --format json`


def evidence_facts(evidence: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The proof a reader can take in at a glance: numbers, words and short lists as facts, sentences as notes.

    Nested records (such as side-by-side definitions) are left to the sections that lay them out.
    """
    facts: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in evidence.items():
        if key == "fix" or value is None or value == "" or value == [] or value == {}:
            continue
        if isinstance(value, str) and " " in value and len(value) > 60:
            notes.append(value)
        elif isinstance(value, (bool, int, float, str)):
            facts[key] = value
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (int, float, str)) for v in value):
            if any(isinstance(v, str) and " " in v for v in value):
                notes += [str(v) for v in value]
            else:
                facts[key] = list(value)
        elif isinstance(value, dict) and all(isinstance(v, (int, float, str, type(None))) for v in value.values()):
            facts[key] = value
    return facts, tuple(notes)


def _levels(project: Project, views: dict[str, MetricView]) -> tuple[LevelGroup, ...]:
    team_order = [t.name for t in project.teams]
    team_order += sorted({m.team for m in project.metrics} - set(team_order))
    out = []
    for level in LEVELS:
        teams = []
        for name in team_order:
            ms = tuple(views[m.name] for m in project.metrics if m.level == level and m.team == name)
            if ms:
                t = project.team(name)
                teams.append(TeamGroup(name, t.function if t else None, t.lead if t else None, ms))
        if teams:
            title, lead = LEVEL_WORDS[level]
            out.append(LevelGroup(level, title, lead, tuple(teams)))
    return tuple(out)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def summarize(report: Report) -> str:
    """One plain paragraph: how much is defined, what needs whom, how targets went."""
    by_level = {lv: sum(1 for m in report.metrics if m.level == lv) for lv in LEVELS}
    parts = [f"{plural(len(report.metrics), 'metric')} across {plural(report.teams, 'team')}"
             + (": " + ", ".join(f"{by_level[lv]} {lv}" for lv in LEVELS if by_level[lv]) + "." if report.metrics
                else ".")]
    accepted = len(report.accepted.findings) if report.accepted else 0
    leader = sum(1 for i in report.items if i.leader and i.severity != "info")
    owners = sum(1 for i in report.items if not i.leader and i.severity != "info")
    info = sum(1 for i in report.items if i.severity == "info")
    if leader or owners or info:
        asks = []
        if leader:
            asks.append(f"{plural(leader, 'decision waits', 'decisions wait')} for a leader")
        if owners:
            asks.append(f"{plural(owners, 'fix is', 'fixes are')} for metric owners")
        if info:
            asks.append(f"{plural(info, 'is', 'are')} worth a look")
        asked = _and(asks)
        found = report.leader_count + report.owner_count + report.info_count
        parts.append(asked[0].upper() + asked[1:] + f" ({plural(found, 'finding')})"
                     + (f"; {accepted:,} more accepted for now." if accepted else "."))
        if report.top:
            parts.append(f"The {'one' if len(report.top) == 1 else len(report.top)} that "
                         f"{'matters' if len(report.top) == 1 else 'matter'} most {'is' if len(report.top) == 1 else 'are'} below.")
    else:
        parts.append("Every check passes" + (f"; {plural(accepted, 'finding')} accepted for now." if accepted
                                             else "."))
    t = report.targets
    judged = t["met"] + t["missed"]
    if judged:
        s = f"{t['met']:,} of {plural(judged, 'target')} met in the last complete period"
        if t["no-data"]:
            s += f" ({t['no-data']:,} more had no data)"
        parts.append(s + ".")
        company = [m for m in report.metrics if m.level == "company" and m.target_status in ("met", "missed")]
        missed = [m.label for m in company if m.target_status == "missed"]
        if company and not missed:
            parts.append("Every company number with a target is on target.")
        elif missed:
            parts.append(f"Off target at company level: {_and(missed)}.")
    elif not any(m.target for m in report.metrics) and report.metrics:
        parts.append("No metric has a target yet.")
    unowned = sum(1 for m in report.metrics if not m.owner)
    if unowned:
        parts.append(f"{plural(unowned, 'metric has', 'metrics have')} no owner.")
    if report.problems:
        parts.append("Numbers could not be computed; see the note below.")
    return " ".join(parts)


def build_report(project: Project, today: dt.date, check: CheckResult, engine_factory: Callable | None = None,
                 sections: tuple[SectionBuilder, ...] | None = None) -> Report:
    """Everything the page shows; one engine serves the values and every section."""
    if sections is None:
        from accord.report_sections import SECTIONS as sections  # the sections load with the first report
    ctx = ReportContext(project, today, check, engine_factory or (lambda: _project_engine(project)))
    try:
        return _build(ctx, sections)
    finally:
        ctx.close()


def _build(ctx: ReportContext, sections: tuple[SectionBuilder, ...]) -> Report:
    project, check = ctx.project, ctx.check
    rows, problems = compute_series(ctx)
    open_counts: dict[str, int] = {}
    for f in check.open:
        for name in f.metrics:
            open_counts[name] = open_counts.get(name, 0) + 1
    ctx.metrics = {m.name: _metric_view(project, m, rows[m.name], open_counts, ctx.last_day.get(m.name))
                   for m in project.metrics}

    built = {}
    for builder in sections:
        section = builder(ctx)
        if section is not None and section.items:
            built[section.key] = section
    covered = {code: section for section in built.values() for code in section.covers}
    views = [_finding_view(project, f, i, covered.get(f.code))
             for i, f in enumerate(check.open + check.accepted, start=1)]
    grouped: dict[str, list[FindingView]] = {}
    for v in views[:len(check.open)]:
        grouped.setdefault(action_for(v.finding.code).key, []).append(v)
    actions = tuple(ActionGroup(a, tuple(grouped[a.key])) for a in ACTIONS + (OTHER,) if a.key in grouped)
    accepted = ActionGroup(ACCEPTED, tuple(views[len(check.open):])) if check.accepted else None
    teams = {t.name for t in project.teams} | {m.team for m in project.metrics}
    see = {code: (section.key, section.title) for code, section in covered.items()}
    decisions = items(project, list(check.open), {id(v.finding): v for v in views}, see)
    report = Report(project=project.name, today=ctx.today, summary="", counts=check.counts(), teams=len(teams),
                    metrics=tuple(ctx.metrics.values()), levels=_levels(project, ctx.metrics), actions=actions,
                    accepted=accepted, sections=built, problems=tuple(problems), files=project.files_read,
                    items=decisions)
    return replace(report, summary=summarize(report))


def _project_engine(project: Project):
    from accord.compute.connect import project_engine
    return project_engine(project)

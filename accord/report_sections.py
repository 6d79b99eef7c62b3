"""The report's sections beyond the metrics and findings: collisions, the tree, decisions, touchpoints.

Each builder takes the `ReportContext` and returns a `Section` (None when the project has nothing for it);
`SECTIONS` is their order on the page. A section lists the finding codes it tells in full (`covers`), so
the findings list links there instead of repeating it.
"""
from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import replace

from accord.analyze.timeline import touch_words
from accord.errors import UserError
from accord.findings import Finding
from accord.project.model import Project
from accord.report_context import ReportContext, SectionBuilder, label_of, plural
from accord.report_views import (BridgeStep, CollisionView, Contact, CustomerStory, DecisionView, RuleBreach,
                                Section, TouchpointsView, TreeNode, Variant)

def collisions_section(ctx: ReportContext) -> Section | None:
    """Each word that means several numbers, side by side, from the label-collision findings, with the
    widest source-disagreement bridge between them when there is one."""
    project = ctx.project
    bridges = [f for f in ctx.check.findings if f.code == "source-disagreement" and f.evidence.get("steps")]
    items = []
    for f in ctx.check.findings:
        if f.code != "label-collision":
            continue
        e = f.evidence
        roles = _decided_roles(project, e.get("decision", {}).get("label") if e.get("decision") else None)
        variants = []
        for d in e.get("definitions", ()):
            m = project.metric(d["metric"]) if project.has_metric(d["metric"]) else None
            variants.append(Variant(
                metric=d["metric"], label=d.get("label") or d["metric"], team=d.get("team", ""),
                owner=d.get("owner"), value=d.get("value"), unit=d.get("unit"), role=roles.get(d["metric"]),
                description=m.description if m else None, decision=d.get("decision"),
                confidence=d.get("confidence")))
        view = CollisionView(label=e.get("label", ""), period=e.get("period", ""), variants=tuple(variants),
                             spread=e.get("spread"), severity=f.severity,
                             differences=tuple(e.get("differences", ())), decided=f.severity == "info")
        names = {v.metric for v in variants}
        fitting = [b for b in bridges if set(b.metrics) <= names and b.evidence.get("period") == view.period]
        if fitting:
            view = _with_bridge(project, view, max(fitting, key=lambda b: abs(b.evidence.get("gap") or 0)))
        items.append(view)
    if not items:
        return None
    return Section("collisions", "One word, several numbers",
                   "The same word stands for different definitions in different teams. Here they are side by "
                   "side for the last complete period, with what makes them differ.", tuple(items),
                   covers=("label-collision", "source-disagreement"))


def _with_bridge(project: Project, view: CollisionView, finding: Finding) -> CollisionView:
    """The collision with the steps of a source-disagreement bridge, each in meeting words."""
    from accord.analyze.bridge_words import sentence
    e = finding.evidence
    a, b = e["a"], e["b"]
    entity = project.source(a["source"]).entity if a.get("source") and a["source"] in {
        s.name for s in project.sources} else None
    teams = {v.metric: v.team for v in view.variants}
    steps = tuple(BridgeStep(sentence(step, a, b, entity, teams), float(step["delta"]), step.get("records"))
                  for step in e["steps"])
    ends = (a.get("value"), b.get("value"))
    return replace(view, bridge_from=a["metric"], bridge_to=b["metric"], bridge=steps,
                   bridge_ends=ends if None not in ends else None)


VERDICT_WORDS = {
    "supported": "its changes are followed by {parent} {moving}",
    "unsupported": "no effect on {parent} found",
    "reversed": "moves {parent} the opposite way",
    "insufficient-data": "too little history to test",
}


def tree_section(ctx: ReportContext) -> Section | None:
    """How the numbers connect: company metrics at the top, what claims to feed each below, every claimed
    contribution with the verdict of its test."""
    from accord.analyze.tree import build_tree
    project = ctx.project
    if not any(m.parents for m in project.metrics):
        return None
    tree = ctx.check.analysis("tree", ctx.today)
    if tree is None:
        try:
            tree = build_tree(project, ctx.engine, ctx.today)
        except UserError:
            return None
    drawn: set[str] = set()

    def node(name: str, parent: str | None, path: frozenset[str]) -> TreeNode:
        n, view = tree.nodes[name], ctx.metrics[name]
        edge = n.edge_to(parent) if parent else None
        repeat = name in drawn
        drawn.add(name)
        kids = () if repeat else tuple(node(c, name, path | {name}) for c in n.children if c not in path)
        words = None
        if edge is not None:
            moving = "rising" if edge.link.effect == "raises" else "falling"
            words = VERDICT_WORDS.get(edge.verdict, edge.verdict).format(
                parent=ctx.metrics[parent].label, moving=moving)
        return TreeNode(name, view.label, view.team, view.level, view.value, view.unit, view.target_status,
                        edge.verdict if edge else None, words, kids, repeat)

    items = tuple(node(r, None, frozenset()) for r in tree.roots)
    counts = tree.verdict_counts()
    tested = sum(counts.values())
    lead = ("Each company number with the numbers that claim to feed it. "
            f"Of {plural(tested, 'claimed contribution')}, {counts['supported']:,} "
            f"{'shows' if counts['supported'] == 1 else 'show'} in the data"
            + (f", {counts['unsupported']:,} not" if counts["unsupported"] else "")
            + (f" and {counts['reversed']:,} the wrong way round" if counts["reversed"] else "") + ".")
    return Section("tree", "How the numbers connect", lead, items,
                   covers=("unsupported-contribution", "reversed-contribution"))


def _decided_roles(project: Project, label: str | None) -> dict[str, str]:
    d = next((d for d in project.decisions if d.label == label), None) if label else None
    if d is None:
        return {}
    return {**{a.metric: "alternate" for a in d.alternates}, **{c.metric: "official" for c in d.canonical}}


def decisions_section(ctx: ReportContext) -> Section | None:
    """Decisions on record, with what is still open about each."""
    project = ctx.project
    if not project.decisions:
        return None

    def named(name: str) -> str:
        return label_of(project, project.metric(name)) if project.has_metric(name) else name

    items = []
    for d in sorted(project.decisions, key=lambda d: (d.decided_on, d.label), reverse=True):
        review = _next_review(d.decided_on, d.review_every)
        items.append(DecisionView(
            label=d.label, decided_on=d.decided_on, owner=d.owner,
            canonical=tuple((named(c.metric), c.for_) for c in d.canonical),
            alternates=tuple((c.rename_to or named(c.metric), c.for_) for c in d.alternates),
            caveats=d.caveats, unresolved=d.unresolved,
            follow_ups=tuple((u.task, u.owner, u.due, u.done, bool(u.due and not u.done and u.due < ctx.today))
                             for u in d.follow_ups),
            next_review=review, review_overdue=bool(review and review < ctx.today)))
    return Section("decisions", "Decisions on record",
                   "What leaders agreed, which number is official for what, and what is still open.", tuple(items))


def _next_review(on: dt.date, every: str | None) -> dt.date | None:
    if every is None:
        return None
    months = {"month": 1, "quarter": 3, "year": 12}[every]
    year, month = divmod(on.year * 12 + on.month - 1 + months, 12)
    return dt.date(year, month + 1, min(on.day, calendar.monthrange(year, month + 1)[1]))


# The page places each section by its key. Touchpoints adds its builder here, returning a Section of one
# TouchpointsView.
TOUCHPOINT_CODES = ("touchpoint-overload", "contact-during-open-case", "contact-in-quiet-hours")
STORY_CONTACTS = 40


def touchpoints_section(ctx: ReportContext) -> Section | None:
    """Touches per customer per week by team, each contact rule with how often it was broken and what it
    would have held back, and the worst customers' timelines (from check's touchpoint findings)."""
    found = [f for f in ctx.check.findings if f.code in TOUCHPOINT_CODES]
    if ctx.project.contact_policy is None and not found:
        return None
    weekly, customers, teams, by_team = (), 0, (), ()
    if ctx.project.contact_policy is not None:
        from accord.analyze.touchpoints import touchpoints
        result = ctx.check.analysis("touchpoints", ctx.today)
        if result is None:
            try:
                result = touchpoints(ctx.project, ctx.engine, ctx.today)
            except UserError:
                result = None
        if result is not None:
            weekly = tuple((week, tuple(sorted(n.items()))) for week, n in sorted(result.weekly.items()))
            customers, teams, by_team = result.customers, tuple(result.teams), tuple(result.by_team.items())
    rules = tuple(RuleBreach(rule=f.evidence.get("rule", f.title), customers=int(f.evidence.get("customers", 0)),
                             breaches=int(f.evidence.get("touches", 0)), share=f.evidence.get("customer_share"),
                             teams=tuple(sorted(t for t, n in (f.evidence.get("by_team") or {}).items() if n)),
                             suppressed=f.evidence.get("suppressed"))
                  for f in found)
    stories, seen = [], set()
    for f in found:
        for worst in (f.evidence.get("worst") or [])[:1]:
            if worst["customer"] in seen or not worst.get("timeline"):
                continue
            seen.add(worst["customer"])
            timeline = worst["timeline"][:STORY_CONTACTS]
            contacts = tuple(Contact(at=dt.datetime.fromisoformat(c["time"]), team=c["team"],
                                     what=touch_words(c.get("channel"), c.get("subject"))
                                     or c["source"].replace("_", " "), flagged=bool(c.get("breaks")))
                             for c in timeline)
            story_teams = sorted({c.team for c in contacts})
            flagged = sum(c.flagged for c in contacts)
            headline = (f"{plural(worst['touches'], 'contact')} broke '{f.evidence.get('rule', f.code)}'. Around "
                        f"the worst of it: {plural(len(contacts), 'contact')} from {plural(len(story_teams), 'team')} "
                        f"({', '.join(story_teams)}), {flagged} of them against the rule.")
            stories.append(CustomerStory(worst["customer"], headline, contacts))
    lead = ("Every team's contacts with a customer in one log, checked against the contact policy: how many "
            "customers each rule was broken for, and what the worst-hit customers went through.")
    view = TouchpointsView(rules, tuple(stories[:3]), by_team, weekly, customers, teams)
    return Section("touchpoints", "Customers and the contacts they get", lead, (view,), covers=TOUCHPOINT_CODES)


SECTIONS: tuple[SectionBuilder, ...] = (
    collisions_section,
    tree_section,
    decisions_section,
    touchpoints_section,
)

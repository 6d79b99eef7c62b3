"""`accord tree`: the hierarchy company → function → role, each metric with its numbers and each claimed
contribution tested; and the findings that come from it.

One compute() at the test grain (every metric's history) and one per grain metrics are judged at; the
concept modules do the rest: contribution (edges), trend, stalled, handoffs, balance.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterator

from accord.analyze.balance import missing_balancing_metrics
from accord.analyze.contribution import Edge, contribution_findings, test_edges
from accord.analyze.handoffs import handoff_collisions
from accord.analyze.hierarchy import children, roots
from accord.analyze.stalled import green_but_stalled
from accord.analyze.trend import Trend, trend
from accord.analyze.values import Pair, Series, gather
from accord.findings import Finding, sort_findings
from accord.project.durations import in_periods
from accord.project.lint import metric_owner
from accord.project.model import Metric, Project, Target


def target_status(target: Target | None, value: float | None) -> str:
    """green when the value meets the target (≥ up, ≤ down), red when not, none without target or value."""
    if target is None or value is None:
        return "none"
    met = value >= target.value if target.direction == "up" else value <= target.value
    return "green" if met else "red"


@dataclass(frozen=True)
class Node:
    """One metric in the tree: its numbers, its status, its trend, its edges up and its children."""

    metric: Metric
    owner: str | None
    numbers: Pair
    status: str
    trend: Trend | None
    edges: tuple[Edge, ...]          # to its parents, in the order declared
    children: tuple[str, ...]
    recent: Series                   # the complete test-grain periods of the trend window
    label: str = ""                  # the word it is shown under (a decision may have renamed it)

    @property
    def name(self) -> str:
        return self.metric.name

    def edge_to(self, parent: str) -> Edge | None:
        return next((e for e in self.edges if e.link.parent == parent), None)

    def as_dict(self) -> dict:
        m, p = self.metric, self.numbers
        return {"metric": m.name, "label": self.label, "team": m.team, "level": m.level, "kind": m.kind,
                "unit": m.unit, "owner": self.owner, "grain": p.grain, "period": p.period, "value": p.value,
                "previous_period": p.previous_period, "previous_value": p.previous,
                "change": {"absolute": p.change, "relative": p.relative},
                "target": m.target.model_dump() if m.target else None, "status": self.status,
                "trend": self.trend.as_dict() if self.trend else None,
                "recent": [{"period": p_, "value": v} for p_, v in zip(self.recent.labels, self.recent.values)],
                "parents": [e.as_dict() for e in self.edges], "children": list(self.children)}


@dataclass(frozen=True)
class Place:
    """Where a node is drawn: under `parent` (None at the top), `depth` deep; `repeat` when it was drawn in
    full under another parent already."""

    node: Node
    parent: str | None
    depth: int
    repeat: bool

    @property
    def edge(self) -> Edge | None:
        return self.node.edge_to(self.parent) if self.parent else None


@dataclass
class Tree:
    project: str
    as_of: dt.date
    compare_grain: str
    test_grain: str
    trend_window: str
    trend_periods: int
    alpha: float
    nodes: dict[str, Node]           # in the order the tree is read
    roots: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def edges(self) -> list[Edge]:
        return [e for n in self.nodes.values() for e in n.edges]

    def walk(self) -> Iterator[Place]:
        """Depth first from each root; a metric with several parents is drawn in full under the first and
        as a repeat under the others; a cycle stops where it closes."""
        drawn: set[str] = set()

        def visit(name: str, parent: str | None, depth: int, path: frozenset[str]) -> Iterator[Place]:
            node = self.nodes[name]
            repeat = name in drawn
            yield Place(node, parent, depth, repeat)
            if repeat:
                return
            drawn.add(name)
            for child in node.children:
                if child not in path:
                    yield from visit(child, name, depth + 1, path | {name})

        for r in self.roots:
            yield from visit(r, None, 0, frozenset())

    def verdict_counts(self) -> dict[str, int]:
        out = {v: 0 for v in ("supported", "reversed", "unsupported", "insufficient-data")}
        for e in self.edges:
            out[e.verdict] += 1
        return out

    def as_dict(self) -> dict:
        return {"project": self.project, "as_of": self.as_of.isoformat(), "compare_grain": self.compare_grain,
                "test_grain": self.test_grain, "trend_window": self.trend_window, "alpha": self.alpha,
                "roots": list(self.roots), "metrics": [n.as_dict() for n in self.nodes.values()],
                "verdicts": self.verdict_counts(), "findings": [f.as_dict() for f in self.findings]}


def build_tree(project: Project, engine, today: dt.date) -> Tree:
    s = project.settings
    window = in_periods(s.trend_window, s.test_grain)
    names = [m.name for m in project.metrics]
    numbers = gather(project, engine, today, names)
    trends = {n: trend(numbers.test[n], window, s.alpha) for n in names}
    status = {n: target_status(project.metric(n).target, numbers.judged[n].value) for n in names}
    edges: dict[str, list[Edge]] = {n: [] for n in names}
    tested = test_edges(project, numbers.test)
    for e in tested:
        edges[e.link.child].append(e)
    kids = children(project)
    top = roots(project)
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        order.append(name)
        for c in kids[name]:
            visit(c)

    for r in top:
        visit(r)
    nodes = {n: Node(project.metric(n), metric_owner(project, project.metric(n)), numbers.judged[n], status[n],
                     trends[n], tuple(edges[n]), tuple(kids[n]), numbers.test[n].tail(window),
                     project.label_of(n)) for n in order}
    findings = (contribution_findings(project, tested)
                + green_but_stalled(project, status, numbers.judged, trends)
                + handoff_collisions(project, numbers, today)
                + missing_balancing_metrics(project, {n: numbers.judged[n].value for n in names}))
    return Tree(project.name, today, s.compare_grain, s.test_grain, s.trend_window, window, s.alpha, nodes, top,
                sort_findings(findings))

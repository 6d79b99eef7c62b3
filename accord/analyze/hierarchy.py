"""The contribution hierarchy as declared: which metric feeds which, the order the tree is read in, and
which way each metric should move."""
from __future__ import annotations

from dataclasses import dataclass

from accord.project.model import Metric, Project


@dataclass(frozen=True)
class Link:
    """One `parents:` entry whose parent exists: `child` claims to raise or lower `parent` after `lag`."""

    child: str
    parent: str
    effect: str      # raises | lowers
    lag: str         # as written, e.g. 6w
    index: int       # its position in the child's parents list

    @property
    def sign(self) -> int:
        return 1 if self.effect == "raises" else -1


def links(project: Project) -> list[Link]:
    """Every declared edge to a known parent, in definition order (unknown parents are lint's to report)."""
    return [Link(m.name, p.metric, p.effect, p.lag, i)
            for m in project.metrics for i, p in enumerate(m.parents)
            if p.metric != m.name and project.has_metric(p.metric)]


def children(project: Project) -> dict[str, list[str]]:
    """Each metric's children, in definition order."""
    out: dict[str, list[str]] = {m.name: [] for m in project.metrics}
    for link in links(project):
        if link.child not in out[link.parent]:
            out[link.parent].append(link.child)
    return out


def roots(project: Project) -> list[str]:
    """Where the tree starts: company metrics first, then every other metric that feeds nothing known,
    then whatever only a cycle reaches (so every metric is shown once)."""
    has_parent = {link.child for link in links(project)}
    top = [m.name for m in project.metrics if m.name not in has_parent]
    top.sort(key=lambda n: project.metric(n).level != "company")
    kids = children(project)
    seen: set[str] = set()

    def reach(name: str) -> None:
        stack = [name]
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack += kids[n]

    for n in top:
        reach(n)
    for m in project.metrics:
        if m.name not in seen:
            top.append(m.name)
            reach(m.name)
    return top


def direction(project: Project, metric: Metric, _seen: frozenset[str] = frozenset()) -> str | None:
    """Which way a metric should move: its target's direction; without a target, its first parent edge's
    effect applied to that parent's direction (a parent with none is taken to go up); with neither, None."""
    if metric.target is not None:
        return metric.target.direction
    for p in metric.parents:
        if not project.has_metric(p.metric) or p.metric in _seen or p.metric == metric.name:
            continue
        up = direction(project, project.metric(p.metric), _seen | {metric.name}) or "up"
        if p.effect == "raises":
            return up
        return "down" if up == "up" else "up"
    return None

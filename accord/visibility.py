"""Who may see a metric's values: `visible_to: [teams]` on a metric limits its values, bridges and example
records to those teams, its owner, facilitators and admins. A floor under every shell (web, digest, API).

`hidden(project, reader)` names the metrics whose values a reader may not see; `redact(report, hidden)` is
the report with those values taken out: numbers become None and `restricted` is set, and every finding or
decision item naming such a metric is left out (their sentences carry the numbers).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from accord.project.model import Project
from accord.report_views import Report


@dataclass(frozen=True)
class Reader:
    email: str | None
    teams: tuple[str, ...]
    staff: bool = False        # facilitators and admins see everything


def same_person(a: str | None, b: str | None) -> bool:
    """Two emails naming one person (case and surrounding spaces aside)."""
    return bool(a and b) and a.strip().lower() == b.strip().lower()


def may_see(project: Project, reader: Reader, metric: str) -> bool:
    if not project.has_metric(metric):
        return True
    m = project.metric(metric)
    if m.visible_to is None or reader.staff or same_person(reader.email, m.owner):
        return True
    return bool(set(reader.teams) & set(m.visible_to))


def hidden(project: Project, reader: Reader) -> frozenset[str]:
    """The metrics whose values `reader` may not see."""
    return frozenset(m.name for m in project.metrics if m.visible_to is not None
                     and not may_see(project, reader, m.name))


def source_teams(project: Project, source: str) -> set[str]:
    """The teams owning a source: those whose lead or members include its owner."""
    if source not in {s.name for s in project.sources}:
        return set()
    owner = project.source(source).owner
    return {t.name for t in project.teams if same_person(t.lead, owner) or any(same_person(m, owner) for m in t.members)}


def redact(report: Report, hide: frozenset[str]) -> Report:
    """The report without the values of the metrics in `hide` (the same report when it is empty)."""
    if not hide:
        return report

    def view(m):
        return replace(m, value=None, previous=None, series=(), target_status=None, stale_since=None,
                       restricted=True) if m.name in hide else m

    def names(finding_view) -> set[str]:
        return set(finding_view.finding.metrics)

    def node(n):
        kids = tuple(node(c) for c in n.children)
        if n.metric in hide:
            return replace(n, value=None, target_status=None, restricted=True, children=kids)
        return replace(n, children=kids)

    sections = {}
    for key, section in report.sections.items():
        items = section.items
        if key == "tree":
            items = tuple(node(n) for n in items)
        elif key == "collisions":
            items = tuple(_collision(c, hide) for c in items)
        sections[key] = replace(section, items=items)
    levels = tuple(replace(level, teams=tuple(replace(t, metrics=tuple(view(m) for m in t.metrics))
                                             for t in level.teams)) for level in report.levels)
    actions = tuple(replace(g, findings=tuple(f for f in g.findings if not names(f) & hide))
                    for g in report.actions)
    accepted = report.accepted and replace(report.accepted, findings=tuple(
        f for f in report.accepted.findings if not names(f) & hide))
    items = tuple(i for i in report.items if not any(names(f) & hide for f in i.findings)
                  and not _mentions(i, hide))
    return replace(report, metrics=tuple(view(m) for m in report.metrics), levels=levels,
                   actions=tuple(g for g in actions if g.findings), accepted=accepted, items=items,
                   sections=sections)


def _mentions(item, hide: frozenset[str]) -> bool:
    return any(name in f"{item.sentence} {' '.join(item.details)} {item.how}" for name in hide)


def _collision(c, hide: frozenset[str]):
    """A collision shows every definition, but a hidden one without its value, and no bridge through it."""
    if not {v.metric for v in c.variants} & hide:
        return c
    variants = tuple(replace(v, value=None, restricted=True) if v.metric in hide else v for v in c.variants)
    return replace(c, variants=variants, spread=None, bridge=(), bridge_ends=None, bridge_from=None,
                   bridge_to=None)

"""Missing balancing metrics: a team steers a volume (a count or a sum) with no rate or quality metric of
its own over the same records, so nothing shows what the volume is worth."""
from __future__ import annotations

from sqlglot import exp

from accord.findings import Finding
from accord.project.lint import metric_owner
from accord.project.model import Metric, Project
from accord.project.references import fragment, metric_inputs
from accord.sql.expressions import additivity
from accord.words import possessive


def is_volume(m: Metric) -> bool:
    """A count or a sum of records."""
    return m.kind == "simple" and additivity(fragment(m.measure)).kind is not None


def is_quality(m: Metric) -> bool:
    """A rate, an average or any other measure that does not grow with volume."""
    if m.kind == "ratio":
        return True
    if m.kind == "formula":
        return any(isinstance(node, exp.Div) for node in fragment(m.formula).walk())
    return not is_volume(m)


def sources_of(project: Project, m: Metric, _seen: frozenset[str] = frozenset()) -> set[str]:
    """The sources a metric reads, through its ratio or formula inputs."""
    if m.kind == "simple":
        return {m.source}
    out: set[str] = set()
    for name in metric_inputs(m):
        if project.has_metric(name) and name not in _seen:
            out |= sources_of(project, project.metric(name), _seen | {m.name})
    return out


def _entity(project: Project, source: str) -> str | None:
    try:
        return project.source(source).entity
    except KeyError:
        return None


def _covers(project: Project, quality: Metric, source: str) -> bool:
    read = sources_of(project, quality)
    entity = _entity(project, source)
    return source in read or (entity is not None and entity in {_entity(project, s) for s in read})


def _plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    return word if word.endswith("s") else word + "s"


def _possessive(team: str) -> str:
    return possessive(team)


def missing_balancing_metrics(project: Project, values: dict[str, float | None] | None = None) -> list[Finding]:
    """One info finding per team and source whose volume metrics with targets have no quality counterpart
    in that team over the same source or entity. `values` (last complete period) orient a suggested ratio
    so that it reads as a conversion: the smaller volume over the larger."""
    values = values or {}
    live = [m for m in project.metrics if m.status != "deprecated"]
    groups: dict[tuple[str, str], list[Metric]] = {}
    for m in live:
        if not (is_volume(m) and m.target is not None):
            continue
        own = [q for q in live if q.team == m.team and is_quality(q)]
        if not any(_covers(project, q, m.source) for q in own):
            groups.setdefault((m.team, m.source), []).append(m)
    out = []
    for (team, source), volumes in groups.items():
        volumes.sort(key=lambda m: m.name)
        entity = _entity(project, source)
        records = _plural(entity.replace("_", " ")) if entity else f"rows of {source}"
        names = " and ".join(f"'{m.name}'" for m in volumes)
        elsewhere = sorted((q.name, q.team) for q in live
                           if q.team != team and is_quality(q) and _covers(project, q, source))
        suggestions = []
        if len(volumes) > 1:
            a, b = volumes[:2]
            va, vb = values.get(a.name), values.get(b.name)
            small, large = (a, b) if va is not None and vb is not None and abs(va) <= abs(vb) else (b, a)
            suggestions.append(f"a ratio of {'the two' if len(volumes) == 2 else 'two of them'}, such as "
                               f"{small.name} / {large.name}")
        for name, other in elsewhere[:3]:
            suggestions.append(f"{_possessive(other)} {name}, which reads the same {records}")
        if not suggestions:
            suggestions.append(f"a rate or an average over the same {records}, such as the share that reaches "
                               "the next stage")
        title = (f"{team} steers {names} ({'volumes' if len(volumes) > 1 else 'a volume'} of {records}) with no "
                 f"rate or quality metric over the same {records}: volume targets without a quality counterpart "
                 f"encourage low quality. consider {'; or '.join(suggestions)}")
        out.append(Finding("missing-balancing-metric", "info", title, metrics=tuple(m.name for m in volumes),
                           teams=(team,), owner=metric_owner(project, volumes[0]),
                           evidence={"source": source, "entity": entity,
                                     "volume_metrics": [m.name for m in volumes],
                                     "quality_metrics_elsewhere": [{"metric": n, "team": t} for n, t in elsewhere],
                                     "suggestions": suggestions},
                           location=volumes[0].location))
    return out

"""Definition drift: what changed in each metric between two versions of the project, in words and numbers."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from accord.compute.periods import Calendar
from accord.errors import UserError
from accord.findings import Finding
from accord.project.fingerprint import fingerprint
from accord.project.lint import metric_owner
from accord.project.model import Metric, Project
from accord.project.references import fragment
from accord.sql.normalize import normalized_sql

IMPACT_PERIODS = 4
_SKIP = {"name", "include", "exclude", "location", "positions"}
_SEMANTIC = {"source", "measure", "time", "ratio", "formula"}
STRICT = ("decision-grade", "board-grade")


@dataclass
class MetricChange:
    metric: str
    changes: list[str]
    semantic: bool
    old_fingerprint: str
    new_fingerprint: str
    impact: list[dict] = field(default_factory=list)
    impact_error: str | None = None

    def as_dict(self) -> dict:
        return {"metric": self.metric, "changes": self.changes, "semantic": self.semantic,
                "old_fingerprint": self.old_fingerprint, "new_fingerprint": self.new_fingerprint,
                "impact": self.impact, "impact_error": self.impact_error}


@dataclass
class Diff:
    rev: str
    added: list[str]
    removed: list[str]
    changed: list[MetricChange]

    def as_dict(self) -> dict:
        return {"rev": self.rev, "added": self.added, "removed": self.removed,
                "changed": [c.as_dict() for c in self.changed]}


def _show(v) -> str:
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_show(x)}" for k, x in v.items() if x not in (None, (), [])) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    return "none" if v is None else str(v)


def _clause_changes(old: Metric, new: Metric) -> list[str]:
    out = []
    for side in ("include", "exclude"):
        was = {c.name: c.sql for c in getattr(old, side) or ()}
        now = {c.name: c.sql for c in getattr(new, side) or ()}
        norm_was = {normalized_sql(fragment(sql)): name for name, sql in was.items()}
        norm_now = {normalized_sql(fragment(sql)): name for name, sql in now.items()}
        for name in sorted(set(was) | set(now)):
            if name in was and name in now:
                if normalized_sql(fragment(was[name])) != normalized_sql(fragment(now[name])):
                    out.append(f"{side} clause '{name}' changed from `{was[name]}` to `{now[name]}`")
            elif name in now:
                same = norm_was.get(normalized_sql(fragment(now[name])))
                if same and same not in now:
                    out.append(f"{side} clause '{same}' renamed to '{name}' (same condition)")
                else:
                    out.append(f"{side} clause '{name}' added: `{now[name]}`")
            elif norm_now.get(normalized_sql(fragment(was[name]))) is None:
                out.append(f"{side} clause '{name}' removed (was `{was[name]}`)")
        if (getattr(old, side) is None) != (getattr(new, side) is None):
            out.append(f"`{side}:` {'added' if getattr(old, side) is None else 'removed'}")
    return out


def metric_changes(old_p: Project, new_p: Project, old: Metric, new: Metric) -> list[str]:
    """Every changed field and clause of one metric, in words."""
    a = old.model_dump(by_alias=True, exclude=_SKIP)
    b = new.model_dump(by_alias=True, exclude=_SKIP)
    out = []
    for key in sorted(set(a) | set(b)):
        if key in ("measure", "formula") and a.get(key) and b.get(key) and \
                normalized_sql(fragment(a[key])) == normalized_sql(fragment(b[key])):
            continue
        if a.get(key) != b.get(key):
            out.append(f"{key} changed from {_show(a.get(key))} to {_show(b.get(key))}")
    out += _clause_changes(old, new)
    if new.kind == "simple" and old.kind == "simple" and old.source == new.source:
        s_old, s_new = old_p.source(old.source), new_p.source(new.source)
        for key in ("path", "table", "sql", "time"):
            if getattr(s_old, key) != getattr(s_new, key):
                out.append(f"its source '{new.source}' changed {key} from {_show(getattr(s_old, key))} to "
                           f"{_show(getattr(s_new, key))}")
    return out


def diff(old_p: Project, new_p: Project, rev: str, engine=None, today: dt.date | None = None) -> Diff:
    old_names = {m.name for m in old_p.metrics}
    new_names = {m.name for m in new_p.metrics}
    changed = []
    for m in new_p.metrics:
        if m.name not in old_names:
            continue
        old = old_p.metric(m.name)
        fo, fn = fingerprint(old_p, old), fingerprint(new_p, m)
        words = metric_changes(old_p, new_p, old, m)
        if words or fo != fn:
            changed.append(MetricChange(m.name, words or ["the definition of a metric it is computed from changed"],
                                        fo != fn, fo, fn))
    if engine is not None and today is not None:
        _impact(old_p, new_p, [c for c in changed if c.semantic], engine, today)
    return Diff(rev, [m.name for m in new_p.metrics if m.name not in old_names],
                [m.name for m in old_p.metrics if m.name not in new_names], changed)


def _impact(old_p: Project, new_p: Project, changes: list[MetricChange], engine, today: dt.date) -> None:
    """Old and new definitions on today's data for each metric's last complete periods with data (up to
    IMPACT_PERIODS of them; a period after a source's last data has none): one compute per version."""
    if not changes:
        return
    from accord.compute.run import compute
    grain = new_p.settings.compare_grain
    names = [c.metric for c in changes]
    values, used = {}, {}
    for version, proj in (("old", old_p), ("new", new_p)):
        try:
            result = compute(proj, engine, [n for n in names if proj.has_metric(n)], grain, today)
        except UserError as e:
            for c in changes:
                c.impact_error = f"the {version} definitions cannot be computed on today's data: {e.lines()[0]}"
            return
        values[version] = {(r.metric, r.period): r.value for r in result.rows if r.complete and not r.stale}
        used[version] = {n: [r.period for r in result.used(n)] for n in names}
    for c in changes:
        periods = used["new"][c.metric] or used["old"][c.metric]
        for label in periods[-IMPACT_PERIODS:]:
            o, n = values["old"].get((c.metric, label)), values["new"].get((c.metric, label))
            rel = None if o in (None, 0) or n is None else (n - o) / abs(o)
            c.impact.append({"period": label, "old": o, "new": n, "change": rel})


def drift_findings(project: Project, baseline: Project, rev: str) -> list[Finding]:
    """A decision-grade or board-grade metric whose definition differs from the baseline revision."""
    out = []
    d = diff(baseline, project, rev)
    for c in d.changed:
        m = project.metric(c.metric)
        if not c.semantic or m.confidence not in STRICT:
            continue
        out.append(Finding("definition-drift", "error",
                           f"'{m.name}' ({m.confidence}) no longer means what it meant at {rev}: "
                           + "; ".join(c.changes),
                           metrics=(m.name,), teams=(m.team,), owner=metric_owner(project, m),
                           evidence={"baseline_rev": rev, "changes": c.changes,
                                     "old_fingerprint": c.old_fingerprint, "new_fingerprint": c.new_fingerprint},
                           location=m.location))
    return out

"""A metric's definition, normalized, and its fingerprint.

The fingerprint hashes what the number means — source location, measure, time column, the
conjunction of includes and negated excludes, ratio and formula parts recursively — and nothing
about who owns it or how it is written (clause names, order, formatting, labels).
"""
from __future__ import annotations

import hashlib
import json

from sqlglot import exp

from accord.project.model import Metric, Project
from accord.project.references import fragment, parse_fragment_statement
from accord.sql.normalize import normalize, normalized_sql


def condition(metric: Metric) -> exp.Expression | None:
    """Includes as they are, excludes as NOT COALESCE(e, FALSE): one boolean AST (None: no clauses)."""
    parts = [fragment(c.sql) for c in metric.include or ()]
    parts += [exp.Not(this=exp.Coalesce(this=fragment(c.sql), expressions=[exp.false()]))
              for c in metric.exclude or ()]
    if not parts:
        return None
    out = parts[0]
    for p in parts[1:]:
        out = exp.And(this=out, expression=p)
    return normalize(out)


def source_location(project: Project, name: str) -> str:
    s = project.source(name)
    if s.path:
        return "path:" + s.path.replace("\\", "/").lstrip("./")
    if s.table:
        return "table:" + s.table.lower()
    return "sql:" + normalize(parse_fragment_statement(s.sql)).sql("duckdb")


def definition(project: Project, metric: Metric) -> dict:
    """The normalized parts of a definition, for fingerprints and for showing differences."""
    if metric.kind == "simple":
        src = project.source(metric.source)
        return {"kind": "simple", "source": source_location(project, metric.source),
                "measure": normalized_sql(fragment(metric.measure)),
                "time": (metric.time or src.time or "").lower(),
                "condition": normalized_sql(condition(metric))}
    if metric.kind == "ratio":
        return {"kind": "ratio",
                "numerator": fingerprint(project, project.metric(metric.ratio.numerator)),
                "denominator": fingerprint(project, project.metric(metric.ratio.denominator))}
    tree = fragment(metric.formula)
    names = {c.name for c in tree.find_all(exp.Column)}
    prints = {n: fingerprint(project, project.metric(n)) for n in names}
    swapped = tree.transform(lambda n: exp.column(f"m_{prints[n.name]}") if isinstance(n, exp.Column) else n)
    return {"kind": "formula", "formula": normalized_sql(swapped)}


def fingerprint(project: Project, metric: Metric) -> str:
    text = json.dumps(definition(project, metric), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

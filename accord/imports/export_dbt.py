"""accord's metrics out to dbt's semantic layer: a model, a semantic model and metrics per source, exactly or not.

A metric is written when MetricFlow computes the same number per period as accord does: a measure that is one
aggregate (sum, count, count distinct, avg, min, max) over the source's columns, with clauses on columns of the
same source; a ratio; a formula of + - * / over metrics and numbers. Everything else is listed, one line each,
with why. What accord adds beside the number (team, level, owner, decision, …) goes under `config.meta`.

Per source that an exported metric reads: `<source>.sql`, the rows accord reads (its file, table or SELECT, in
the engine's dialect), and `<source>.yml`, the semantic model over `ref('<source>')` with the metrics.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from ruamel.yaml import YAML
from sqlglot import exp

from accord.compute.relations import (DATE_TYPES, TIMESTAMP_TYPES, Schema, local_time, select_all)
from accord.errors import Problem
from accord.imports.translation import slug
from accord.project.model import Metric, Project, Source
from accord.sql.expressions import FragmentError, aggregates, parse_fragment

_AGG = {exp.Sum: "sum", exp.Avg: "average", exp.Min: "min", exp.Max: "max"}
_ZERO_WHEN_EMPTY = ("sum", "count", "count_distinct")
_DBT_NAME = re.compile(r"[a-z][a-z0-9_]*[a-z0-9]|[a-z]")
_META = ("team", "level", "owner", "decision", "unit", "confidence", "caveats", "status")
HEADER = ("# Written by `accord export dbt` from the accord project {project}. Each metric's number is the one\n"
          "# `accord compute` gives; team, level, owner and the other governance fields are under config.meta.\n")


class NotExact(ValueError):
    """A metric with no exact dbt equivalent; the message says why and what to do."""


@dataclass
class Export:
    """Files to write (relative path under --out -> text), the metrics written, one line per metric left out."""

    files: dict[str, str] = field(default_factory=dict)
    metrics: list[str] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    renamed_labels: dict[str, str] = field(default_factory=dict)   # metric -> the label written (dbt: unique)


@dataclass
class _Model:
    """One semantic model being built from an accord source."""

    source: Source
    schema: Schema
    entity: str
    key_expr: str | None
    dims: dict[str, dict] = field(default_factory=dict)       # column -> dimension
    time_dims: dict[str, dict] = field(default_factory=dict)  # column -> time dimension
    measures: list[dict] = field(default_factory=list)
    default_time: str | None = None
    local: dict[str, str] = field(default_factory=dict)     # column -> its local time, replacing it in the model


def export_dbt(project: Project, schemas: dict[str, Schema], dialect: str) -> Export:
    """The dbt files for every metric of `project` with an exact dbt equivalent; `schemas` holds each source's
    columns and types as the engine reads them (a source missing there could not be read)."""
    out = Export()
    models: dict[str, _Model] = {}
    done: dict[str, dict] = {}            # metric name -> its dbt metric
    home: dict[str, str] = {}             # metric name -> source whose file holds it
    pending = list(project.metrics)
    while pending:                        # simple metrics first, then ratios and formulas over written ones
        progressed = False
        for m in list(pending):
            inputs = _inputs(m)
            if any(i in {p.name for p in pending} for i in inputs if i != m.name):
                continue
            pending.remove(m)
            progressed = True
            try:
                metric, where = _metric(project, m, schemas, models, done, home, dialect)
            except NotExact as e:
                out.refused.append(Problem(m.location.file, m.location.line, 0, f"metric '{m.name}': {e}"))
                continue
            done[m.name] = metric
            home[m.name] = where
        if not progressed:
            for m in pending:             # a cycle: the loader refuses it first; kept for safety
                out.refused.append(Problem(m.location.file, m.location.line, 0,
                                           f"metric '{m.name}': its inputs form a cycle"))
            break
    _unique_labels(done, out)
    _name_elements(models, done, home)
    by_source: dict[str, list[dict]] = {}
    for name, metric in done.items():
        by_source.setdefault(home[name], []).append(metric)
    for source_name, model in sorted(models.items()):
        if source_name not in by_source:
            continue
        file = slug(source_name)
        out.files[f"{file}.sql"] = _model_sql(project, model, dialect)
        doc = {"semantic_models": [_semantic_model(model)], "metrics": by_source[source_name]}
        out.files[f"{file}.yml"] = HEADER.format(project=project.name) + _dump(doc)
    out.metrics = sorted(done)
    out.refused.sort(key=lambda p: (p.file, p.line))
    return out


def _inputs(m: Metric) -> list[str]:
    from accord.project.references import metric_inputs
    return list(metric_inputs(m))


def _metric(project: Project, m: Metric, schemas: dict, models: dict, done: dict, home: dict,
            dialect: str) -> tuple[dict, str]:
    item: dict = {"name": m.name, "label": m.label or m.name}
    if m.description:
        item["description"] = " ".join(m.description.split())
    for name in _inputs(m):
        if name not in done:
            raise NotExact(f"it reads metric '{name}', which is not exported (see its line)")
    if m.ratio is not None:
        item["type"] = "ratio"
        item["type_params"] = {"numerator": m.ratio.numerator, "denominator": m.ratio.denominator}
        where = home[m.ratio.numerator]
    elif m.formula is not None:
        item["type"] = "derived"
        names = _inputs(m)
        item["type_params"] = {"expr": _formula(m.formula, dialect), "metrics": [{"name": n} for n in names]}
        where = home[names[0]] if names else None
        if where is None:
            raise NotExact("a formula over no metric is a constant; dbt needs at least one input metric")
    else:
        where = m.source
        _simple(project, m, schemas, models, item, dialect)
    meta = {k: getattr(m, k) for k in _META if getattr(m, k)}
    if "caveats" in meta:
        meta["caveats"] = list(meta["caveats"])
    if m.target is not None:
        meta["target"] = m.target.model_dump()
    if m.parents:
        meta["parents"] = [p.model_dump() for p in m.parents]
    item["config"] = {"meta": meta}
    return item, where


def _simple(project: Project, m: Metric, schemas: dict, models: dict, item: dict, dialect: str) -> None:
    source = project.source(m.source)
    schema = schemas.get(source.name)
    if schema is None:
        raise NotExact(f"its source '{source.name}' could not be read")
    model = models.get(source.name) or _new_model(source, schema, dialect)
    agg, expr = _aggregate(m.measure, schema, dialect)
    time_col = m.time or source.time
    if not time_col or schema.find(time_col) is None:
        raise NotExact(f"its time column '{time_col}' is not a column of source '{source.name}'")
    time_dim = _time_dim(model, time_col, project.settings.timezone, dialect, m)
    read = {schema.find(c.name) for c in parse_fragment(m.measure).find_all(exp.Column)}
    if read & set(model.local):
        raise NotExact(f"its measure reads the time column '{sorted(read & set(model.local))[0]}', which the dbt "
                       "model holds as local time")
    filters = []
    for clause in m.include or ():
        filters.append(_filter(clause.sql, model, time_col, dialect))
    for clause in m.exclude or ():
        filters.append(f"({_filter(clause.sql, model, time_col, dialect)}) is not true")
    measure: dict = {"name": m.name, "agg": agg, "expr": expr, "_time": time_dim, "_metric": m.name}
    models[source.name] = model
    model.measures.append(measure)
    params: dict = {"measure": {"name": m.name}}
    if agg in _ZERO_WHEN_EMPTY:       # accord: 0 for a period without rows; MetricFlow: 0 with these two
        params["measure"].update({"fill_nulls_with": 0, "join_to_timespine": True})
    item["type"] = "simple"
    item["type_params"] = params
    if filters:
        item["filter"] = filters


def _new_model(source: Source, schema: Schema, dialect: str) -> _Model:
    entity = source.entity or source.name
    key = None
    if source.key:
        col = schema.find(source.key)
        key = _column_sql(col, dialect) if col else None
    return _Model(source, schema, slug(entity), key)


def _column_sql(name: str, dialect: str) -> str:
    plain = re.fullmatch(r"[a-z_][a-z0-9_]*", name) is not None
    return exp.column(name, quoted=not plain).sql(dialect)


def _aggregate(measure: str, schema: Schema, dialect: str) -> tuple[str, str]:
    """(dbt agg, expr) for a measure that is one aggregate over columns; NotExact otherwise."""
    tree = parse_fragment(measure)
    measure = " ".join(measure.split())
    if len(aggregates(tree)) != 1 or not isinstance(tree, (exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Count)):
        raise NotExact(f"measure '{measure}' is not one aggregate (sum, count, count distinct, avg, min or max) "
                       "over the source's columns; a dbt measure is one. define a metric per aggregate and a "
                       "formula over them")
    if isinstance(tree, exp.Count):
        inner = tree.this
        if inner is None or isinstance(inner, exp.Star):
            return "count", "1"
        if isinstance(inner, exp.Distinct):
            if len(inner.expressions) != 1:
                raise NotExact(f"measure '{measure}' counts distinct combinations of columns; a dbt "
                               "count_distinct reads one expression")
            return "count_distinct", _expr(inner.expressions[0], schema, dialect)
        return "count", _expr(inner, schema, dialect)
    if tree.args.get("distinct") or isinstance(tree.this, exp.Distinct):
        raise NotExact(f"measure '{measure}' aggregates distinct values; dbt has count_distinct only")
    return _AGG[type(tree)], _expr(tree.this, schema, dialect)


def _expr(tree: exp.Expression, schema: Schema, dialect: str) -> str:
    for col in tree.find_all(exp.Column):
        if schema.find(col.name) is None:
            raise NotExact(f"'{col.sql(dialect)}' is not a column of the source")
    if any(isinstance(n, (exp.Select, exp.Subquery)) for n in tree.walk()):
        raise NotExact("a measure holding a subquery has no dbt equivalent")
    return _unqualified(tree).sql(dialect)


def _unqualified(tree: exp.Expression) -> exp.Expression:
    return tree.transform(lambda n: exp.column(n.name, quoted=n.this.quoted)
                          if isinstance(n, exp.Column) and n.table else n)


def _time_dim(model: _Model, column: str, timezone: str, dialect: str, m: Metric) -> str:
    col = model.schema.find(column)
    if col not in model.time_dims:
        kind = model.schema.type_of(col)
        if kind in DATE_TYPES or kind in TIMESTAMP_TYPES:
            expr = _column_sql(col, dialect)
        else:   # TIMESTAMPTZ or ISO text: read as accord reads it, in settings.timezone
            try:
                local = local_time(model.schema, col, timezone,
                                   Problem(m.location.file, m.location.line, 0, f"time column '{col}'")).sql(dialect)
            except Exception as e:  # noqa: BLE001 - a column that is no time at all
                raise NotExact(str(e)) from None
            if dialect == "duckdb":     # the model holds the local time under the column's own name
                model.local[col] = local
                expr = _column_sql(col, dialect)
            else:
                expr = local
        model.time_dims[col] = {"name": slug(col), "type": "time", "expr": expr,
                                "type_params": {"time_granularity": "day"}}
    if model.default_time is None and column == model.source.time:
        model.default_time = col
    return col


_PLACEHOLDER = "accord_dimension_{}_"


def _filter(clause: str, model: _Model, time_col: str, dialect: str) -> str:
    """The clause with each column as `{{ Dimension('entity__column') }}` (a categorical dimension)."""
    clause = " ".join(clause.split())
    try:
        tree = parse_fragment(clause)
    except FragmentError as e:
        raise NotExact(f"clause '{clause}' {e}") from None
    if any(isinstance(n, (exp.Select, exp.Subquery)) for n in tree.walk()) or aggregates(tree):
        raise NotExact(f"clause '{clause}' holds a subquery or an aggregate; a dbt filter reads one row")
    names: list[str] = []

    def swap(node: exp.Expression) -> exp.Expression:
        if not isinstance(node, exp.Column):
            return node
        col = model.schema.find(node.name)
        if col is None:
            raise NotExact(f"clause '{clause}': '{node.name}' is not a column of source '{model.source.name}'")
        if col in model.time_dims or col.lower() == time_col.lower():
            raise NotExact(f"clause '{clause}' reads the time column '{col}', which MetricFlow truncates to a "
                           "grain in a filter. write the clause on another column")
        model.dims.setdefault(col, {"name": slug(col), "type": "categorical", "expr": _column_sql(col, dialect)})
        names.append(col)
        return exp.column(_PLACEHOLDER.format(len(names) - 1))

    text = tree.transform(swap).sql(dialect)
    for i, col in reversed(list(enumerate(names))):
        text = text.replace(_PLACEHOLDER.format(i), "{{ Dimension('" + f"{model.entity}__<<dim:{col}>>" + "') }}")
    return text


def _formula(formula: str, dialect: str) -> str:
    """The formula with each division by `nullif(…, 0)`: accord's division by zero is null, DuckDB's an error."""
    tree = parse_fragment(formula)

    def guard(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Div):
            return exp.Div(this=node.this, expression=exp.Nullif(this=node.expression,
                                                                 expression=exp.Literal.number(0)))
        return node
    return tree.transform(guard).sql(dialect)


def _unique_labels(done: dict, out: Export) -> None:
    """dbt refuses two metrics with one label (accord's collisions are exactly that): each shared label gets
    its metric's name in brackets."""
    seen: dict[str, list[str]] = {}
    for name, metric in done.items():
        seen.setdefault(metric["label"], []).append(name)
    for label, names in seen.items():
        if len(names) > 1:
            for name in names:
                done[name]["label"] = f"{label} ({name})"
                out.renamed_labels[name] = done[name]["label"]


def _name_elements(models: dict, done: dict, home: dict) -> None:
    """Dimension names: the column's slug, unless another model with the same primary entity has that dimension
    already (dbt requires entity and dimension pairs to be unique): then prefixed with the source's name. Measure
    names: the metric's, unless an entity or dimension is called that. Filters then name their dimensions."""
    pairs: set[tuple[str, str]] = set()
    elements: set[str] = set()
    for name, model in sorted(models.items()):
        elements.add(model.entity)
        for dim in list(model.time_dims.values()) + list(model.dims.values()):
            if (model.entity, dim["name"]) in pairs or dim["name"] == model.entity:
                dim["name"] = f"{slug(name)}_{dim['name']}"
            pairs.add((model.entity, dim["name"]))
            elements.add(dim["name"])
    for model in models.values():
        for measure in model.measures:
            if measure["name"] in elements:
                measure["name"] += "_measure"
    for metric_name, metric in done.items():
        if metric["type"] != "simple":
            continue
        model = models[home[metric_name]]
        measure = next(x for x in model.measures if x["_metric"] == metric_name)
        metric["type_params"]["measure"]["name"] = measure["name"]
        if "filter" in metric:
            metric["filter"] = [re.sub(r"<<dim:(.*?)>>", lambda g: model.dims[g.group(1)]["name"], f)
                                for f in metric["filter"]]


def _semantic_model(model: _Model) -> dict:
    s = model.source
    out: dict = {"name": s.name}
    if s.description:
        out["description"] = " ".join(s.description.split())
    out["model"] = f"ref('{s.name}')"
    default = model.time_dims.get(model.default_time) if model.default_time else None
    default = default or next(iter(model.time_dims.values()))
    out["defaults"] = {"agg_time_dimension": default["name"]}
    if model.key_expr:
        out["entities"] = [{"name": model.entity, "type": "primary", "expr": model.key_expr}]
    else:
        out["primary_entity"] = model.entity
    dims = list(model.time_dims.values()) + sorted(model.dims.values(), key=lambda d: d["name"])
    out["dimensions"] = dims
    measures = []
    for measure in model.measures:
        m = {k: v for k, v in measure.items() if not k.startswith("_")}
        time_dim = model.time_dims[measure["_time"]]
        if time_dim is not default:
            m["agg_time_dimension"] = time_dim["name"]
        measures.append(m)
    out["measures"] = measures
    return out


def _model_sql(project: Project, model: _Model, dialect: str) -> str:
    """The rows accord reads for the source, as a dbt model (Jinja-looking text kept raw); a time column of text
    or with a time zone holds its local time, as accord reads it."""
    source = model.source
    sql = select_all(project, source).sql(dialect, pretty=True)
    if model.local:
        replaced = ",\n  ".join(f"{expr} AS {_column_sql(col, dialect)}" for col, expr in sorted(model.local.items()))
        inner = "\n".join("  " + line for line in sql.splitlines())
        sql = f"SELECT\n  * REPLACE (\n  {replaced})\nFROM (\n{inner}\n) AS rows_as_accord_reads_them"
    if any(t in sql for t in ("{{", "{%", "{#")):
        sql = "{% raw %}" + sql + "{% endraw %}"
    return f"-- source '{source.name}' as accord reads it (written by accord export dbt)\n{sql}\n"


def _dump(doc: dict) -> str:
    y = YAML(typ="rt")
    y.width = 120
    y.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()

"""dbt's semantic layer into accord: semantic models become sources, metrics become metrics, exactly or not at all.

The YAML under the project's `model-paths` is the source; each semantic model and metric is read with
dbt-semantic-interfaces (the classes dbt and MetricFlow use) after dbt's YAML shape is turned into theirs.
`target/semantic_manifest.json`, when present, only resolves the relation each model builds.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlglot import exp

from accord.errors import Problem, UserError
from accord.imports.jinja_filter import FilterRefused, Reference, translate
from accord.imports.translation import (Refused, Translation, fingerprint, no_extra, one_expression,
                                        plain_column, slug, sql)
from accord.project.yamlfile import plain, position, read_yaml

# agg -> accord measure over the measure's expression; sum_boolean and count as MetricFlow computes them
_AGGS = {"sum": "sum({})", "average": "avg({})", "min": "min({})", "max": "max({})",
         "count_distinct": "count(distinct {})", "sum_boolean": "sum(case when {} then 1 else 0 end)"}
_ZERO_WHEN_EMPTY = ("sum", "count", "count_distinct", "sum_boolean")


@dataclass
class Located:
    item: dict
    file: str
    line: int


@dataclass
class Model:
    """One semantic model as dbt-semantic-interfaces read it, with where it was written."""

    name: str
    parsed: Any
    raw: dict
    file: str
    line: int
    relation: str
    problem: str | None = None
    dims: dict = field(default_factory=dict)
    data_file: str | None = None      # an `external` model: the file dbt-duckdb writes, as dbt names it
    data_path: str | None = None      # … and where that is (absolute)

    @property
    def primary(self) -> Any:
        return next((e for e in self.parsed.entities if str(e.type.value) == "primary"), None)


def _dsi():
    try:
        from dbt_semantic_interfaces.implementations.metric import PydanticMetric
        from dbt_semantic_interfaces.implementations.semantic_model import PydanticSemanticModel
        from dbt_semantic_interfaces.parsing.schemas import metric_validator, semantic_model_validator
    except ImportError:
        raise no_extra("dbt") from None
    return PydanticSemanticModel, PydanticMetric, semantic_model_validator, metric_validator


def read_dbt(dbt_dir: Path, shown: str | None = None) -> tuple[list[Located], list[Located], dict]:
    """(semantic models, metrics, relations) as written under the project's model paths.

    `shown` is how file names appear in messages (the folder as the user typed it)."""
    shown = shown if shown is not None else str(dbt_dir)
    conf_path = dbt_dir / "dbt_project.yml"
    if not conf_path.is_file():
        raise UserError(f"{shown}: no dbt_project.yml in this folder. pass the folder of a dbt project")
    conf, problems = read_yaml(conf_path, _join(shown, "dbt_project.yml"), keep_layout=False)
    if problems:
        raise UserError(problems)
    conf = plain(conf) if isinstance(conf, dict) else {}
    paths = conf.get("model-paths") or conf.get("source-paths") or ["models"]
    models: list[Located] = []
    metrics: list[Located] = []
    external: dict[str, str] = {}       # dbt model name -> the file dbt-duckdb writes it to
    errors: list[Problem] = []
    for folder in paths:
        base = dbt_dir / str(folder)
        files = sorted(p for p in base.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()) \
            if base.is_dir() else []
        for path in files:
            rel = _join(shown, path.relative_to(dbt_dir).as_posix())
            doc, errs = read_yaml(path, rel)
            if errs:
                errors += errs
                continue
            if not isinstance(doc, dict):
                continue
            for model in doc.get("models") or [] if isinstance(doc.get("models"), list) else []:
                location = _external_location(model)
                if location:
                    external[str(model["name"])] = location
            for key, out in (("semantic_models", models), ("metrics", metrics)):
                items = doc.get(key)
                if isinstance(items, list):
                    for i, item in enumerate(items):
                        if isinstance(item, dict):
                            out.append(Located(plain(item), rel, position(doc, (key, i))[0]))
    if errors:
        raise UserError(errors)
    relations = _relations(dbt_dir, conf)
    relations.update({f"file:{name}": location for name, location in external.items()})
    return models, metrics, relations


def _external_location(model: Any) -> str | None:
    """The file of a model that dbt-duckdb materializes as `external` (`config: {materialized: external,
    location: …}` in the model's YAML, relative to the dbt project): that file is the data dbt builds."""
    if not isinstance(model, dict) or "name" not in model:
        return None
    config = model.get("config") if isinstance(model.get("config"), dict) else {}
    if config.get("materialized") == "external" and isinstance(config.get("location"), str) \
            and not any(t in config["location"] for t in ("{{", "{%")):
        return config["location"]
    return None


def _join(shown: str, rel: str) -> str:
    return rel if shown in ("", ".") else f"{shown.rstrip('/')}/{rel}"


def _relations(dbt_dir: Path, conf: dict) -> dict:
    """Semantic model name -> the relation dbt builds for it: from target/semantic_manifest.json, and
    'schema.model' from the profile's target otherwise (under 'model:' in the returned mapping)."""
    out: dict[str, str] = {}
    manifest = dbt_dir / "target" / "semantic_manifest.json"
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            for sm in data.get("semantic_models", []):
                rel = sm.get("node_relation") or {}
                if rel.get("alias"):
                    out[sm["name"]] = ".".join(x for x in (rel.get("schema_name"), rel["alias"]) if x)
        except (ValueError, KeyError, TypeError, AttributeError):
            pass  # the manifest only helps; the profile gives the schema otherwise
    out["model:"] = _profile_schema(dbt_dir, conf)
    return out


def _profile_schema(dbt_dir: Path, conf: dict) -> str:
    name = conf.get("profile")
    for folder in (dbt_dir, os.environ.get("DBT_PROFILES_DIR"), Path.home() / ".dbt"):
        path = Path(folder) / "profiles.yml" if folder else None
        if path is None or not path.is_file():
            continue
        doc, errs = read_yaml(path, "profiles.yml", keep_layout=False)
        if errs or not isinstance(doc, dict) or not isinstance(doc.get(name), dict):
            continue
        profile = plain(doc[name])
        target = (profile.get("outputs") or {}).get(profile.get("target") or "dev") or {}
        schema = target.get("schema")
        return str(schema) if schema else "main" if target.get("type") == "duckdb" else ""
    return ""


# ---------------------------------------------------------------- dbt's YAML shape -> dbt-semantic-interfaces'

def _meta(item: dict) -> dict:
    meta = dict(item.get("meta") or {})
    meta.update((item.get("config") or {}).get("meta") or {})
    return meta


def _model_ref(model: Any) -> str | None:
    import re
    found = re.fullmatch(r"""\s*ref\(\s*['"]([^'"]+)['"]\s*(?:,\s*(?:v|version)\s*=\s*\S+)?\)\s*""", str(model or ""))
    return found.group(1) if found else None


def _as_dsi_model(raw: dict, relation: str) -> dict:
    d = {k: v for k, v in raw.items() if k not in ("model", "meta", "config", "label")}
    schema, _, alias = relation.rpartition(".")
    d["node_relation"] = {"alias": alias, "schema_name": schema or "main"}
    return d


def _as_dsi_metric(raw: dict) -> dict:
    d = {k: v for k, v in raw.items() if k not in ("meta", "config")}
    params = dict(d.get("type_params") or {})
    for key in ("numerator", "denominator"):
        if isinstance(params.get(key), str):
            params[key] = {"name": params[key]}
    if isinstance(params.get("metrics"), list):
        params["metrics"] = [{"name": m} if isinstance(m, str) else m for m in params["metrics"]]
    d["type_params"] = params
    return d


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [type(e).__name__])[0].rstrip(".")


# ---------------------------------------------------------------- translation

def translate_dbt(dbt_dir: Path, shown: str | None = None, team: str | None = None,
                  level: str | None = None) -> Translation:
    """Every semantic model and metric of the dbt project, translated exactly or refused with its reason."""
    model_cls, metric_cls, model_schema, metric_schema = _dsi()
    raw_models, raw_metrics, relations = read_dbt(dbt_dir, shown)
    out = Translation("dbt")
    models: dict[str, Model] = {}
    measures: dict[str, tuple[Model, Any, dict]] = {}
    for loc in raw_models:
        raw = loc.item
        name = str(raw.get("name"))
        ref = _model_ref(raw.get("model"))
        schema = relations.get("model:", "")
        relation = relations.get(name) or (f"{schema}.{ref}" if schema and ref else ref or "")
        file = relations.get(f"file:{ref}") if ref else None
        try:
            d = _as_dsi_model(raw, relation or name)
            model_schema.validate(d)
            parsed = model_cls.parse_obj(d)
        except Exception as e:  # noqa: BLE001 - jsonschema and pydantic errors alike: the model is not valid dbt
            out.refuse(loc.file, loc.line, f"semantic model '{name}'",
                       f"dbt-semantic-interfaces cannot read it ({_first_line(e)}). fix it so `dbt parse` passes")
            continue
        m = Model(name, parsed, raw, loc.file, loc.line, relation, data_file=file,
                  data_path=str((dbt_dir / file).resolve()) if file else None)
        if not ref:
            m.problem = f"its model '{raw.get('model')}' is not ref('…'). accord imports models dbt builds"
        m.dims = {d.name: d for d in parsed.dimensions}
        models[name] = m
        for measure, raw_measure in zip(parsed.measures, raw.get("measures") or []):
            measures[measure.name] = (m, measure, raw_measure)
        if not m.problem:
            _add_source(out, m)
    parsed_metrics: dict[str, tuple[Any, Located]] = {}
    for loc in raw_metrics:
        name = str(loc.item.get("name"))
        try:
            d = _as_dsi_metric(loc.item)
            metric_schema.validate(d)
            parsed_metrics[name] = (metric_cls.parse_obj(d), loc)
        except Exception as e:  # noqa: BLE001
            out.refuse(loc.file, loc.line, f"metric '{name}'",
                       f"dbt-semantic-interfaces cannot read it ({_first_line(e)}). fix it so `dbt parse` passes")
    done: dict[str, str] = {}           # metric name -> output file slug
    pending = dict(parsed_metrics)
    while pending:                      # simple metrics first, then those whose inputs are translated
        progressed = False
        for name, (metric, loc) in list(pending.items()):
            inputs = _inputs(metric)
            if any(i in pending for i in inputs if i != name):
                continue
            del pending[name]
            progressed = True
            try:
                item, file_slug, print_parts = _metric(metric, loc, models, measures, parsed_metrics, done)
                item = _governance(item, loc.item, team, level)
            except Refused as e:
                out.refuse(loc.file, loc.line, f"metric '{name}'", str(e))
                out.fingerprints[name] = fingerprint(loc.item)
                continue
            print_ = fingerprint(*print_parts)
            item["imported_from"] = f"dbt:{name}"
            item["imported_fingerprint"] = print_
            out.fingerprints[name] = print_
            out.add(file_slug, "metrics", item)
            out.origins[name] = (loc.file, loc.line)
            done[name] = file_slug
        if not progressed:              # a cycle between metrics: dbt refuses it too
            for name, (_, loc) in pending.items():
                out.refuse(loc.file, loc.line, f"metric '{name}'", "its inputs form a cycle. fix it in dbt")
            break
    return out


def current_fingerprints(dbt_dir: Path) -> dict[str, str]:
    """The fingerprint of every metric the dbt project defines now (refused ones too)."""
    return translate_dbt(dbt_dir, team="-", level="function").fingerprints


def _add_source(out: Translation, m: Model) -> None:
    item: dict = {"name": m.name}
    if m.raw.get("description"):
        item["description"] = " ".join(str(m.raw["description"]).split())
    if m.data_path:
        item["path"] = m.data_path
    else:
        item["table"] = m.relation
    primary = m.primary
    if primary is not None:
        item["entity"] = primary.name
        try:
            item["key"] = plain_column(primary.expr or primary.name, f"primary entity '{primary.name}'")
        except Refused:
            pass  # a key that is an expression: the source still computes; it only cannot be reconciled
    elif getattr(m.parsed, "primary_entity", None):
        item["entity"] = m.parsed.primary_entity     # an entity without a key column
    default_time = m.parsed.defaults.agg_time_dimension if m.parsed.defaults else None
    if default_time and default_time in m.dims:
        try:
            item["time"] = plain_column(m.dims[default_time].expr or default_time, "time dimension")
        except Refused:
            pass  # each metric then refuses, naming the expression
    item["imported_from"] = f"dbt:{m.name}"
    out.add(slug(m.name), "sources", item)


def _inputs(metric: Any) -> list[str]:
    p = metric.type_params
    names = [i.name for i in (p.metrics or [])]
    names += [x.name for x in (p.numerator, p.denominator) if x is not None]
    return names


def _metric(metric: Any, loc: Located, models: dict, measures: dict, parsed: dict,
            done: dict) -> tuple[dict, str, tuple]:
    kind = str(metric.type.value)
    item: dict = {"name": metric.name}
    if metric.label:
        item["label"] = metric.label
    if metric.description:
        item["description"] = " ".join(metric.description.split())
    if kind == "simple":
        file_slug, parts = _simple(metric, item, models, measures)
        return item, file_slug, (loc.item, *parts)
    if metric.filter is not None and metric.filter.where_filters:
        raise Refused(f"a {kind} metric with its own filter is computed differently by MetricFlow (the filter "
                      "applies to each input). put the filter on the input metrics")
    for name in _inputs(metric):
        if name not in parsed:
            raise Refused(f"it reads metric '{name}', which the dbt project does not define. fix it in dbt")
        if name not in done:
            raise Refused(f"it reads metric '{name}', which is refused (see its line). fix that one first")
    if kind == "ratio":
        p = metric.type_params
        for part in (p.numerator, p.denominator):
            if part.filter is not None and part.filter.where_filters:
                raise Refused(f"its input '{part.name}' has a filter of its own. define a filtered metric "
                              "in dbt and use it as the input")
        item["ratio"] = {"numerator": p.numerator.name, "denominator": p.denominator.name}
        return item, done[p.numerator.name], (loc.item,)
    if kind == "derived":
        item["formula"] = _formula(metric)
        return item, done[metric.type_params.metrics[0].name], (loc.item,)
    raise Refused(f"a {kind} metric has no exact accord equivalent (accord computes simple, ratio and formula "
                  "metrics per period). define it in accord by hand, or leave it to MetricFlow")


def _simple(metric: Any, item: dict, models: dict, measures: dict) -> tuple[str, tuple]:
    ref = metric.type_params.measure
    if ref is None or ref.name not in measures:
        raise Refused(f"its measure '{getattr(ref, 'name', None)}' is not in any semantic model. fix it in dbt")
    model, measure, raw_measure = measures[ref.name]
    if model.problem:
        raise Refused(f"semantic model '{model.name}': {model.problem}")
    agg = str(measure.agg.value)
    if measure.non_additive_dimension is not None:
        raise Refused(f"measure '{measure.name}' is semi-additive (non_additive_dimension): MetricFlow keeps one "
                      "row per period, accord aggregates every row. define a snapshot source in accord instead")
    if agg not in _AGGS and agg != "count":
        raise Refused(f"measure '{measure.name}' aggregates with '{agg}', which accord does not compute exactly "
                      "like MetricFlow. define it in accord by hand")
    if measure.agg_params is not None and any(v is not None for v in measure.agg_params.dict().values()):
        raise Refused(f"measure '{measure.name}' has agg_params. define it in accord by hand")
    if ref.fill_nulls_with is not None and not (ref.fill_nulls_with == 0 and agg in _ZERO_WHEN_EMPTY):
        raise Refused(f"fill_nulls_with: {ref.fill_nulls_with} on a {agg} measure differs from accord, which "
                      f"gives {'0' if agg in _ZERO_WHEN_EMPTY else 'null'} for a period without rows. remove it "
                      "or define the metric in accord by hand")
    if ref.join_to_timespine and ref.fill_nulls_with is None and agg in _ZERO_WHEN_EMPTY:
        raise Refused("join_to_timespine without fill_nulls_with gives null for a period without rows; accord "
                      "gives 0. add fill_nulls_with: 0 in dbt")
    expr = one_expression(measure.expr if measure.expr is not None else measure.name,
                          f"measure '{measure.name}' expr")
    if agg == "count":
        literal = isinstance(expr, exp.Literal) or (isinstance(expr, exp.Paren) and isinstance(expr.this,
                                                                                              exp.Literal))
        item["measure"] = "count(*)" if literal else f"count({sql(expr)})"
    else:
        item["measure"] = _AGGS[agg].format(sql(expr))
    item["source"] = model.name
    time_name = measure.agg_time_dimension or (model.parsed.defaults.agg_time_dimension
                                               if model.parsed.defaults else None)
    if not time_name or time_name not in model.dims:
        raise Refused(f"semantic model '{model.name}' names no time dimension for measure '{measure.name}'. "
                      "set defaults.agg_time_dimension in dbt")
    time_col = plain_column(model.dims[time_name].expr or time_name, f"time dimension '{time_name}'")
    default = model.parsed.defaults.agg_time_dimension if model.parsed.defaults else None
    if time_name != default:
        item["time"] = time_col
    used = {time_name}
    clauses = []
    filters = list(metric.filter.where_filters if metric.filter else ()) + \
        list(ref.filter.where_filters if ref.filter else ())
    for f in filters:
        text = f.where_sql_template
        clauses.append({"name": " ".join(text.split()),
                        "sql": _clause(text, model, models, time_col, used)})
    if clauses:
        item["include"] = clauses
    entity_parts = [{"name": e.name, "type": str(e.type.value), "expr": e.expr} for e in model.parsed.entities]
    parts = (raw_measure, model.name, model.data_file or model.relation, entity_parts,
             {k: _raw_dim(model, k) for k in sorted(used)})
    return slug(model.name), parts


def _raw_dim(model: Model, name: str) -> Any:
    return next((d for d in model.raw.get("dimensions") or [] if isinstance(d, dict) and d.get("name") == name),
                None)


def _clause(text: str, model: Model, models: dict, time_col: str, used: set) -> str:
    def column(ref: Reference) -> str:
        if ref.kind == "TimeDimension" and ref.name == "metric_time":
            return f"date_trunc('{ref.grain}', {time_col})"
        path = ref.entity_path
        if ref.kind == "Entity":
            if path:
                raise FilterRefused(f"Entity('{ref.name}') reaches through another entity (a join)")
            entity = next((e for e in model.parsed.entities if e.name == ref.name), None)
            if entity is None:
                raise FilterRefused(f"Entity('{ref.name}') is not an entity of semantic model '{model.name}' "
                                    "(a join across semantic models)")
            return sql(one_expression(entity.expr or entity.name, f"entity '{entity.name}' expr"))
        primary = model.primary
        dim = model.dims.get(ref.element)
        if len(path) != 1 or primary is None or path[0] != primary.name or dim is None:
            owner = next((n for n, m in models.items() if m is not model and ref.element in m.dims), None)
            if owner is not None or (path and primary is not None and path[0] != primary.name):
                raise FilterRefused(f"{ref.kind}('{ref.name}') reads semantic model '{owner or path[0]}', not "
                                    f"'{model.name}' (a join across semantic models)")
            raise FilterRefused(f"{ref.kind}('{ref.name}') is not a dimension of semantic model '{model.name}' "
                                f"(write it as '{primary.name if primary else 'entity'}__<dimension>')")
        used.add(dim.name)
        is_time = str(dim.type.value) == "time"
        expr = sql(one_expression(dim.expr or dim.name, f"dimension '{dim.name}' expr"))
        if ref.kind == "TimeDimension":
            if not is_time:
                raise FilterRefused(f"TimeDimension('{ref.name}') names a categorical dimension")
            return f"date_trunc('{ref.grain}', {expr})"
        if is_time:
            raise FilterRefused(f"Dimension('{ref.name}') names a time dimension, whose grain depends on the "
                                "query. write TimeDimension('…', 'day')")
        return expr

    try:
        out = translate(text, column)
    except FilterRefused as e:
        todo = ("accord never renders Jinja: write the filter with those calls only" if e.template else
                "accord translates filters on the metric's own semantic model only: define the metric in accord "
                "by hand (a sql: source can join)")
        raise Refused(f"filter '{' '.join(text.split())}': {e}. {todo}") from None
    tree = one_expression(out, "filter").transform(
        lambda n: n.this if isinstance(n, exp.Paren) and isinstance(n.this, exp.Column) else n)
    return sql(tree)


def _formula(metric: Any) -> str:
    aliases: dict[str, str] = {}
    for i in metric.type_params.metrics or []:
        if i.offset_window is not None or i.offset_to_grain is not None:
            raise Refused(f"input '{i.name}' has an offset ({'offset_window' if i.offset_window else 'offset_to_grain'})"
                          ", which is never approximated. leave it to MetricFlow")
        if i.filter is not None and i.filter.where_filters:
            raise Refused(f"input '{i.name}' has a filter of its own. define a filtered metric in dbt and use it")
        aliases[i.alias or i.name] = i.name
    tree = one_expression(metric.type_params.expr or "", "expr")

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table:
            if node.name not in aliases:
                raise Refused(f"expr names '{node.name}', which is not one of its input metrics. fix it in dbt")
            return exp.column(aliases[node.name])
        if isinstance(node, exp.Nullif) and _is_zero(node.expression) and isinstance(node.parent, exp.Div) \
                and node.parent.expression is node:
            return node.this        # x / nullif(y, 0): accord's division by zero is null already
        return node

    out = tree.transform(swap)
    allowed = (exp.Column, exp.Identifier, exp.Literal, exp.Paren, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Neg)
    for node in out.walk():
        if not isinstance(node, allowed):
            raise Refused(f"expr '{metric.type_params.expr}' uses '{node.sql('duckdb')}'; an accord formula is "
                          "arithmetic (+ - * /) over metrics and numbers. define it in accord by hand")
    return sql(out)


def _is_zero(node: exp.Expression) -> bool:
    return isinstance(node, exp.Literal) and not node.is_string and float(node.this) == 0


def _governance(item: dict, raw: dict, team: str | None, level: str | None) -> dict:
    """meta.owner / meta.team / meta.level (or under config), else the command's --team / --level."""
    meta = _meta(raw)
    out = dict(item)
    t = meta.get("team") or team
    lv = meta.get("level") or level or "function"
    if lv not in ("company", "function", "role"):
        raise Refused(f"meta.level '{lv}' is not company, function or role. fix it in dbt")
    gov = {"team": str(t), "level": lv} if t else {"level": lv}   # no team: kept from the last import, if any
    if meta.get("owner"):
        gov["owner"] = str(meta["owner"])
    keys = list(out)
    at = keys.index("description") + 1 if "description" in keys else keys.index("label") + 1 if "label" in keys \
        else 1
    ordered = dict(list(out.items())[:at])
    ordered.update(gov)
    ordered.update(list(out.items())[at:])
    return ordered

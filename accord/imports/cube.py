"""Cube's YAML data model into accord: a cube with `sql_table` becomes a source, its measures become metrics,
exactly or not at all.

Measures `count` (`count(*)` without sql), `count_distinct` (or `countDistinct`), `sum`, `avg`, `min`, `max` over
the measure's `sql`, with `filters: [{sql: …}]` as include clauses; `{CUBE}.col` and `{dimension}` of the same cube
are resolved, anything else in braces (another cube, FILTER_PARAMS, Jinja) is refused. The cube's first time
dimension is the time of its measures. JavaScript model files are listed as not translated.
"""
from __future__ import annotations

import re
from pathlib import Path

from sqlglot import exp

from accord.errors import UserError
from accord.imports.translation import (Refused, Translation, fingerprint, one_expression, plain_column, slug,
                                        sql)
from accord.project.yamlfile import plain, position, read_yaml

_AGGS = {"count_distinct": "count(distinct {})", "countDistinct": "count(distinct {})", "sum": "sum({})",
         "avg": "avg({})", "min": "min({})", "max": "max({})", "count": "count({})"}
_REF = re.compile(r"\$?\{([^{}]*)\}")
_TRIVIAL_SELECT = re.compile(r"\s*select\s+\*\s+from\s+([A-Za-z_][\w.\"`]*)\s*;?\s*", re.IGNORECASE)


def translate_cube(folder: Path, shown: str | None = None, team: str | None = None,
                   level: str | None = None) -> Translation:
    """Every cube's measures in the YAML model files under `folder`, translated exactly or refused with why."""
    shown = shown if shown is not None else str(folder)
    out = Translation("cube")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".yml", ".yaml", ".js", ".ts")
                   and "node_modules" not in p.parts)
    if not files:
        raise UserError(f"{shown}: no model files (.yml, .yaml, .js) in this folder. pass Cube's model folder")
    errors = []
    for path in files:
        rel = _join(shown, path.relative_to(folder).as_posix())
        if path.suffix in (".js", ".ts"):
            if re.search(r"\bcube\s*\(", path.read_text(encoding="utf-8", errors="replace")):
                out.refuse(rel, 1, "file", "a JavaScript model is not translated (it is code, run by Cube). write "
                                           "the cubes in YAML, or define them in accord by hand")
            continue
        doc, errs = read_yaml(path, rel)
        if errs:
            errors += errs
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("cubes"), list):
            continue
        for i, cube in enumerate(doc["cubes"]):
            if isinstance(cube, dict):
                _cube(out, plain(cube), doc, i, rel, team, level)
    if errors:
        raise UserError(errors)
    return out


def _join(shown: str, rel: str) -> str:
    return rel if shown in ("", ".") else f"{shown.rstrip('/')}/{rel}"


def _cube(out: Translation, cube: dict, doc, i: int, rel: str, team: str | None, level: str | None) -> None:
    name = str(cube.get("name"))
    dims = {str(d.get("name")): d for d in cube.get("dimensions") or [] if isinstance(d, dict)}
    source_name = slug(name)
    problem = None
    table = None
    time_col = None
    try:
        table = _table(cube)
        time_dim = next((d for d in dims.values() if d.get("type") == "time"), None)
        if time_dim is None:
            raise Refused("it has no dimension of type time; accord needs a time for every metric")
        time_col = plain_column(_resolve(str(time_dim.get("sql") or time_dim["name"]), name, dims),
                                f"time dimension '{time_dim['name']}' sql")
    except Refused as e:
        problem = str(e)
    if problem is None:
        item: dict = {"name": source_name}
        if cube.get("description"):
            item["description"] = " ".join(str(cube["description"]).split())
        item.update({"table": table, "time": time_col})
        pk = next((d for d in dims.values() if d.get("primary_key") is True or d.get("primaryKey") is True), None)
        if pk is not None:
            try:
                key = plain_column(_resolve(str(pk.get("sql") or pk["name"]), name, dims), "primary key")
                item.update({"entity": source_name, "key": key})
            except Refused:
                pass    # a key that is an expression: the source still computes
        item["imported_from"] = f"cube:{name}"
        out.add(source_name, "sources", item)
    for j, measure in enumerate(cube.get("measures") or []):
        if not isinstance(measure, dict):
            continue
        mname = str(measure.get("name"))
        line = position(doc, ("cubes", i, "measures", j))[0]
        key = f"{name}.{mname}"
        print_ = fingerprint(cube.get("sql_table"), cube.get("sql"), measure, dims)
        out.fingerprints[key] = print_
        metric_name = slug(f"{name}_{mname}")
        try:
            if problem is not None:
                raise Refused(f"cube '{name}': {problem}")
            item = _measure(measure, name, dims, source_name, team, level)
        except Refused as e:
            out.refuse(rel, line, f"measure '{key}'", str(e))
            continue
        item = {"name": metric_name, **item, "imported_from": f"cube:{key}", "imported_fingerprint": print_}
        out.add(source_name, "metrics", item)
        out.origins[metric_name] = (rel, line)


def _table(cube: dict) -> str:
    if cube.get("sql_table"):
        text = str(cube["sql_table"]).strip()
        if _REF.search(text) or "{%" in text:
            raise Refused(f"its sql_table '{text}' holds a template, which accord never renders")
        return text
    if cube.get("sql"):
        found = _TRIVIAL_SELECT.fullmatch(str(cube["sql"]))
        if found:
            return found.group(1)
        raise Refused("its sql is more than SELECT * FROM a table; accord reads tables (a sql: source reads other "
                      "sources). define it by hand")
    if cube.get("extends"):
        raise Refused("it extends another cube; define it in accord by hand")
    raise Refused("it has neither sql_table nor sql")


def _resolve(text: str, cube: str, dims: dict, depth: int = 0) -> str:
    """The SQL with `{CUBE}.x` (or `${CUBE}.x`, `{cube}.x`) as x and `{dim}`/`{CUBE.dim}` as the dimension's SQL."""
    if depth > 20:
        raise Refused("its dimensions refer to each other in a cycle")
    if "{{" in text or "{%" in text:
        raise Refused(f"sql '{' '.join(text.split())}' holds Jinja, which accord never renders")

    def swap(match: re.Match) -> str:
        ref = match.group(1).strip()
        if ref in ("CUBE", cube):
            return "\x00CUBE\x00"
        parts = ref.split(".")
        if len(parts) == 2 and parts[0] in ("CUBE", cube):
            parts = parts[1:]
        if len(parts) != 1:
            raise Refused(f"'{{{ref}}}' reads another cube (a join) or a context variable. accord translates a "
                          "cube on its own")
        dim = dims.get(parts[0])
        if dim is None or dim.get("type") == "time" and dim.get("granularities"):
            raise Refused(f"'{{{ref}}}' is not a dimension of cube '{cube}'")
        return "(" + _resolve(str(dim.get("sql") or dim["name"]), cube, dims, depth + 1) + ")"

    out = _REF.sub(swap, text)
    out = out.replace("\x00CUBE\x00.", "")
    if "\x00CUBE\x00" in out:
        raise Refused(f"sql '{' '.join(text.split())}' uses {{CUBE}} other than as {{CUBE}}.column")
    return sql(one_expression(out, "sql").transform(
        lambda n: n.this if isinstance(n, exp.Paren) and isinstance(n.this, exp.Column) else n))


def _measure(measure: dict, cube: str, dims: dict, source: str, team: str | None, level: str | None) -> dict:
    kind = str(measure.get("type"))
    mname = str(measure.get("name"))
    item: dict = {"label": str(measure.get("title") or mname.replace("_", " ").capitalize())}
    if measure.get("description"):
        item["description"] = " ".join(str(measure["description"]).split())
    meta = measure.get("meta") if isinstance(measure.get("meta"), dict) else {}
    lv = meta.get("level") or level or "function"
    if lv not in ("company", "function", "role"):
        raise Refused(f"meta.level '{lv}' is not company, function or role. fix it in Cube")
    if meta.get("team") or team:
        item["team"] = str(meta.get("team") or team)
    item["level"] = lv
    if meta.get("owner"):
        item["owner"] = str(meta["owner"])
    for unsupported in ("rolling_window", "rollingWindow", "multi_stage", "time_shift", "group_by", "reduce_by",
                        "add_group_by"):
        if measure.get(unsupported):
            raise Refused(f"it has {unsupported}, which accord never approximates. define it in accord by hand")
    if kind == "count" and not measure.get("sql"):
        item["measure"] = "count(*)"
    elif kind in _AGGS:
        if not measure.get("sql"):
            raise Refused(f"a {kind} measure needs sql")
        item["measure"] = _AGGS[kind].format(_resolve(str(measure["sql"]), cube, dims))
    else:
        raise Refused(f"type {kind} has no exact accord equivalent (accord translates count, count_distinct, sum, "
                      "avg, min and max). define it in accord by hand")
    item["source"] = source
    clauses = []
    for f in measure.get("filters") or []:
        if not isinstance(f, dict) or set(f) != {"sql"}:
            raise Refused("a filter other than {sql: …}. define it in accord by hand")
        clauses.append({"name": " ".join(str(f["sql"]).split()), "sql": _resolve(str(f["sql"]), cube, dims)})
    if clauses:
        item["include"] = clauses
    return item

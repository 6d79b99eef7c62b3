"""LookML views into accord: a view with `sql_table_name` becomes a source, its measures become metrics, exactly
or not at all.

Files are parsed with `lkml` (never rendered: Liquid is refused). A measure translates as Looker computes it on an
explore of its view alone: `count` is `count(*)`, `count_distinct`, `sum` (Looker's `COALESCE(SUM(…), 0)`),
`average`, `min`, `max` over the measure's `sql`, and `filters` on the view's string, number or yesno dimensions
with exact values, `-` negation, `NULL` and numeric comparisons. The view's first `dimension_group` of type time is
the time of its measures.
"""
from __future__ import annotations

import re
from pathlib import Path

from sqlglot import exp

from accord.imports.translation import (Refused, Translation, fingerprint, no_extra, one_expression,
                                        plain_column, slug, sql)

_AGGS = {"count_distinct": "count(distinct {})", "sum": "coalesce(sum({}), 0)", "average": "avg({})",
         "min": "min({})", "max": "max({})"}
_REF = re.compile(r"\$\{([^}]*)\}")
_NUMBER = r"-?\d+(?:\.\d+)?"


def _lkml():
    try:
        import lkml
    except ImportError:
        raise no_extra("lookml") from None
    return lkml


def translate_lookml(folder: Path, shown: str | None = None, team: str | None = None,
                     level: str | None = None) -> Translation:
    """Every view's measures in the `*.lkml` files under `folder`, translated exactly or refused with why."""
    lkml = _lkml()
    shown = shown if shown is not None else str(folder)
    out = Translation("lookml")
    files = sorted(p for p in folder.rglob("*.lkml") if p.is_file())
    if not files:
        from accord.errors import UserError
        raise UserError(f"{shown}: no .lkml files in this folder. pass the folder of the LookML views")
    for path in files:
        rel = _join(shown, path.relative_to(folder).as_posix())
        text = path.read_text(encoding="utf-8")
        try:
            doc = lkml.load(text)
        except Exception as e:  # noqa: BLE001 - lkml's syntax errors
            out.refuse(rel, 1, "file", f"lkml cannot parse it ({str(e).splitlines()[0] if str(e) else e}). fix it "
                                       "so the LookML validator passes")
            continue
        for view in doc.get("views") or []:
            _view(out, view, text, rel, team, level)
    return out


def _join(shown: str, rel: str) -> str:
    return rel if shown in ("", ".") else f"{shown.rstrip('/')}/{rel}"


def _line(text: str, pattern: str, start: int = 0) -> tuple[int, int]:
    """(line, offset) of the first match of `pattern` at or after `start`; (1, start) when none."""
    found = re.compile(pattern).search(text, start)
    if not found:
        return 1, start
    return text.count("\n", 0, found.start()) + 1, found.start()


def _view(out: Translation, view: dict, text: str, rel: str, team: str | None, level: str | None) -> None:
    name = str(view.get("name"))
    view_line, at = _line(text, rf"\bview:\s*\+?{re.escape(name)}\s*\{{")
    measures = view.get("measures") or []
    dims = {d["name"]: d for d in view.get("dimensions") or [] if isinstance(d, dict) and "name" in d}
    groups = [g for g in view.get("dimension_groups") or [] if isinstance(g, dict)]
    problem = _view_problem(view)
    source_name = slug(name)
    time_col = None
    if problem is None:
        time_group = next((g for g in groups if g.get("type", "time") == "time"), None)
        if time_group is None:
            problem = "it has no dimension_group of type time; accord needs a time for every metric"
        else:
            try:
                if time_group.get("datatype") not in (None, "timestamp", "datetime", "date"):
                    raise Refused(f"its time dimension_group '{time_group['name']}' has datatype "
                                  f"{time_group['datatype']}; accord reads dates and timestamps")
                time_col = plain_column(_resolve(time_group.get("sql") or f"${{TABLE}}.{time_group['name']}",
                                                 name, dims), f"dimension_group '{time_group['name']}' sql")
            except Refused as e:
                problem = str(e)
    if problem is None:
        item = {"name": source_name, "table": str(view["sql_table_name"]).strip(), "time": time_col}
        pk = next((d for d in dims.values() if d.get("primary_key") == "yes"), None)
        if pk is not None:
            try:
                item["entity"] = slug(name)
                item["key"] = plain_column(_resolve(pk.get("sql") or f"${{TABLE}}.{pk['name']}", name, dims),
                                           "primary key")
            except Refused:
                item.pop("entity", None)    # a key that is an expression: the source still computes
        if view.get("description"):
            item = {"name": item["name"], "description": " ".join(str(view["description"]).split()),
                    **{k: v for k, v in item.items() if k != "name"}}
        item["imported_from"] = f"lookml:{name}"
        out.add(source_name, "sources", item)
    for measure in measures:
        mname = str(measure.get("name"))
        line, _ = _line(text, rf"\bmeasure:\s*{re.escape(mname)}\s*\{{", at)
        metric_name = slug(f"{name}_{mname}")
        key = f"{name}.{mname}"
        print_ = fingerprint(view.get("sql_table_name"), measure, dims, groups)
        out.fingerprints[key] = print_
        try:
            if problem is not None:
                raise Refused(f"view '{name}': {problem}")
            item = _measure(measure, name, dims, source_name)
        except Refused as e:
            out.refuse(rel, line, f"measure '{key}'", str(e))
            continue
        gov = {"team": team, "level": level or "function"} if team else {"level": level or "function"}
        item = {"name": metric_name, "label": item.pop("label"), **({"description": item.pop("description")}
                                                                    if "description" in item else {}),
                **gov, **item, "imported_from": f"lookml:{key}", "imported_fingerprint": print_}
        out.add(source_name, "metrics", item)
        out.origins[metric_name] = (rel, line)
    del view_line


def _view_problem(view: dict) -> str | None:
    if str(view.get("name", "")).startswith("+"):
        return "it refines another view (+view); accord reads each view on its own. define it in accord by hand"
    if view.get("extends") or view.get("extends__all"):
        return "it extends another view; accord reads each view on its own. define it in accord by hand"
    if view.get("derived_table"):
        return "it is a derived_table; accord reads tables (a sql: source reads other sources). define it by hand"
    if not view.get("sql_table_name"):
        return "it has no sql_table_name"
    if _template(str(view["sql_table_name"])):
        return f"its sql_table_name '{view['sql_table_name']}' holds a template, which accord never renders"
    return None


def _template(text: str) -> bool:
    return any(t in text for t in ("{%", "{{", "}}", "%}")) or bool(
        re.search(r"\$\{[^}]*(SQL_TABLE_NAME|_filters|_parameters|_user_attributes|_localization)", text))


def _resolve(text: str, view: str, dims: dict, depth: int = 0) -> str:
    """The SQL with `${TABLE}.x` as x and `${dim}`/`${view.dim}` of this view as the dimension's SQL."""
    if depth > 20:
        raise Refused("its dimensions refer to each other in a cycle")
    if _template(text):
        raise Refused(f"sql '{' '.join(text.split())}' holds Liquid or a template reference; accord never renders "
                      "templates")

    def swap(match: re.Match) -> str:
        ref = match.group(1).strip()
        if ref == "TABLE":
            return "${TABLE}"
        parts = ref.split(".")
        if len(parts) == 2 and parts[0] == view:
            parts = parts[1:]
        if len(parts) != 1:
            raise Refused(f"'${{{ref}}}' reads another view (a join). accord translates a view on its own")
        dim = dims.get(parts[0])
        if dim is None:
            raise Refused(f"'${{{ref}}}' is not a dimension of view '{view}'")
        return "(" + _resolve(dim.get("sql") or f"${{TABLE}}.{dim['name']}", view, dims, depth + 1) + ")"

    out = _REF.sub(swap, text)
    out = re.sub(r"\$\{TABLE\}\.", "", out)
    if "${" in out:
        raise Refused(f"sql '{' '.join(text.split())}' uses ${{TABLE}} other than as ${{TABLE}}.column")
    return sql(one_expression(out, "sql").transform(
        lambda n: n.this if isinstance(n, exp.Paren) and isinstance(n.this, exp.Column) else n))


def _measure(measure: dict, view: str, dims: dict, source: str) -> dict:
    kind = measure.get("type", "string")
    mname = measure["name"]
    item: dict = {"label": str(measure.get("label") or mname.replace("_", " ").title())}
    if measure.get("description"):
        item["description"] = " ".join(str(measure["description"]).split())
    if kind == "count":
        if measure.get("sql"):
            raise Refused("a count with sql: Looker counts rows; write a count_distinct of the column")
        item["measure"] = "count(*)"
    elif kind in _AGGS:
        if not measure.get("sql"):
            raise Refused(f"a {kind} needs sql")
        item["measure"] = _AGGS[kind].format(_resolve(str(measure["sql"]), view, dims))
    else:
        raise Refused(f"type {kind} has no exact accord equivalent (accord translates count, count_distinct, sum, "
                      "average, min and max). define it in accord by hand")
    item["source"] = source
    clauses = []
    for field_name, value in _filters(measure):
        clauses.append({"name": f"{field_name}: {value}", "sql": _filter(field_name, value, view, dims)})
    if clauses:
        item["include"] = clauses
    return item


def _filters(measure: dict) -> list[tuple[str, str]]:
    """(field, expression) pairs from `filters: [a: "x", b: "y"]` and the older `filters: {field: a value: x}`."""
    out = []
    for entry in measure.get("filters__all") or []:
        for part in entry if isinstance(entry, list) else [entry]:
            if isinstance(part, dict) and set(part) == {"field", "value"}:
                out.append((str(part["field"]), str(part["value"])))
            elif isinstance(part, dict):
                out += [(str(k), str(v)) for k, v in part.items()]
    for part in measure.get("filters") or []:
        if isinstance(part, dict):
            out += [(str(k), str(v)) for k, v in part.items()]
    return out


def _filter(field_name: str, value: str, view: str, dims: dict) -> str:
    """One Looker filter expression as SQL, or Refused. Negations keep NULL rows, as Looker writes them."""
    name = field_name.split(".", 1)[1] if field_name.startswith(f"{view}.") else field_name
    dim = dims.get(name)
    if dim is None:
        raise Refused(f"filter on '{field_name}', which is not a dimension of view '{view}' (a join or a "
                      "dimension_group)")
    if dim.get("case_sensitive") == "no":
        raise Refused(f"filter on '{field_name}': the dimension is case_sensitive: no")
    col = _resolve(dim.get("sql") or f"${{TABLE}}.{name}", view, dims)
    kind = dim.get("type", "string")
    v = value.strip()
    what = f"filter {field_name}: \"{value}\""
    if kind == "yesno":
        if v.lower() in ("yes", "no"):
            return f"{_wrap(col)} is {'true' if v.lower() == 'yes' else 'not true'}"
        raise Refused(f"{what}: a yesno filter is yes or no")
    if v.upper() in ("NULL", "-NULL", "NOT NULL"):
        return f"{col} is {'null' if v.upper() == 'NULL' else 'not null'}"
    if kind == "number":
        found = re.fullmatch(rf"(>=|<=|>|<|=)?\s*({_NUMBER})", v)
        if found:
            return f"{col} {found.group(1) or '='} {found.group(2)}"
        items = [x.strip() for x in v.split(",")]
        if len(items) > 1 and all(re.fullmatch(_NUMBER, x) for x in items):
            return f"{col} in ({', '.join(items)})"
        raise Refused(f"{what}: accord translates numbers, >, >=, <, <=, lists and NULL. define it by hand")
    if kind != "string":
        raise Refused(f"{what}: a filter on a {kind} dimension. define it in accord by hand")
    items = [x.strip() for x in v.split(",")]
    if any(not x or re.search(r"[%_^\\\"']", x) or x.upper() in ("EMPTY", "-EMPTY", "NULL", "-NULL")
           for x in items):
        raise Refused(f"{what}: wildcards (% _), escapes (^), quotes, EMPTY or NULL in a list have no exact "
                      "translation here. define it in accord by hand")
    negated = [x.startswith("-") for x in items]
    if any(negated) and not all(negated):
        raise Refused(f"{what}: mixes values and negations. define it in accord by hand")
    values = ", ".join(_quote(x.lstrip("-") if negated[0] else x) for x in items)
    if negated[0]:
        return f"({col} not in ({values}) or {col} is null)"
    return f"{col} in ({values})" if len(items) > 1 else f"{col} = {values}"


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _wrap(col: str) -> str:
    """`col` parenthesized unless it is a plain column name."""
    return col if re.fullmatch(r'[A-Za-z_][A-Za-z0-9_]*|"[^"]+"', col) else f"({col})"

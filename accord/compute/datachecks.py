"""Checks that need the data: every source readable, columns present, keys unique."""
from __future__ import annotations

from sqlglot import exp

from accord.compute.relations import from_source
from accord.compute.run import check_columns, measure_problems, source_schema, time_problems
from accord.engine import Engine, EngineQueryError
from accord.errors import Problem, UserError, did_you_mean
from accord.project.model import Project


def check_data(project: Project, engine: Engine) -> dict[str, dict]:
    """Raise every data problem at once; return per-source facts (rows, NULL keys) when all is well."""
    problems, facts = data_problems(project, engine)
    if problems:
        raise UserError(problems)
    return facts


def data_problems(project: Project, engine: Engine) -> tuple[list[Problem], dict[str, dict]]:
    """Every data problem, and per-source facts (rows, NULL keys). A metric whose SQL does not parse (a
    load problem, reported as such) has its columns left unchecked."""
    problems: list[Problem] = []
    facts: dict[str, dict] = {}
    for source in project.sources:
        try:
            problems += _source_problems(project, engine, source, facts)
        except EngineQueryError as e:  # a file that reads until its pages are decoded (a corrupt Parquet file)
            problems.append(Problem(source.location.file, source.location.line, 0,
                                    f"source '{source.name}' cannot be read: {e}. check the {source.origin}"))
    return problems, facts


def _source_problems(project: Project, engine: Engine, source, facts: dict) -> list[Problem]:
    problems: list[Problem] = []
    try:
        schema = source_schema(engine, project, source)
    except UserError as e:
        return e.problems
    metrics = [m for m in project.metrics if m.kind == "simple" and m.source == source.name]
    missing = check_columns(project, source, metrics, schema)
    problems += missing
    if not missing:
        problems += measure_problems(engine, project, source, metrics, schema)
        times = [source.time] + [m.time for m in metrics if m.time]
        problems += time_problems(engine, project, source, schema, list(dict.fromkeys(t for t in times if t)))
    if source.time and schema.find(source.time) is None and not metrics:
        loc = source.at("time")
        problems.append(Problem(loc.file, loc.line, 0, f"time column '{source.time}' is not in source "
                                f"'{source.name}'.{did_you_mean(source.time, schema.columns)} fix time:"))
    if source.key:
        key = schema.find(source.key)
        if key is None:
            loc = source.at("key")
            problems.append(Problem(loc.file, loc.line, 0, f"key column '{source.key}' is not in source "
                                    f"'{source.name}'.{did_you_mean(source.key, schema.columns)} fix key:"))
            return problems
        problems += _key_problems(project, engine, source, key, facts)
    return problems


def _key_problems(project, engine, source, key, facts) -> list[Problem]:
    """One scan: rows, NULL keys, and the smallest duplicated key with its count."""
    col = exp.column(key, quoted=True)
    text = exp.Cast(this=col, to=exp.DataType.build("VARCHAR"))
    counts = (exp.select(exp.alias_(text, "k"), exp.alias_(exp.Count(this=exp.Star()), "n"))
              .from_(from_source(project, source)).group_by(text))
    def where(agg, cond):
        return exp.Filter(this=agg, expression=exp.Where(this=cond))
    q = exp.select(
        exp.alias_(exp.Sum(this=exp.column("n")), "total_rows"),
        exp.alias_(where(exp.Sum(this=exp.column("n")), exp.column("k").is_(exp.null())), "null_keys"),
        exp.alias_(where(exp.Min(this=exp.column("k")),
                         exp.and_(exp.column("n") > 1, exp.column("k").is_(exp.null()).not_())), "dup_key"),
    ).from_(exp.Subquery(this=counts, alias=exp.TableAlias(this=exp.to_identifier("__keys"))))
    row = engine.records(q)[0]
    facts[source.name] = {"rows": int(row["total_rows"] or 0), "null_keys": int(row["null_keys"] or 0)}
    if row["dup_key"] is None:
        return []
    n = engine.records(exp.select(exp.alias_(exp.Count(this=exp.Star()), "n")).from_(from_source(project, source))
                       .where(exp.EQ(this=text.copy(), expression=exp.Literal.string(row["dup_key"]))))[0]["n"]
    loc = source.at("key")
    return [Problem(loc.file, loc.line, 0, f"source '{source.name}': key '{key}' is not unique: "
                    f"'{row['dup_key']}' appears on {n} rows. fix the data, or choose a key that is "
                    "unique per row")]

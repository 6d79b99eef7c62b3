"""A plan's SQL for every dialect `--show-sql --dialect` knows, with what each engine lacks rewritten.

DuckDB, PostgreSQL and Spark (and Databricks, which is Spark) use their engine module's rewrites. For the
warehouses accord does not run here: Redshift has no FILTER clause (an aggregate of a CASE instead) and
BigQuery's week starts on Sunday (ISO weeks start on Monday: ISOWEEK).
"""
from __future__ import annotations

from sqlglot import exp

from accord.engine.base import reparse, rewrite

DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "spark": "spark", "snowflake": "snowflake",
            "bigquery": "bigquery", "databricks": "databricks", "redshift": "redshift"}


def plan_sql(ast: exp.Expression, dialect: str, pretty: bool = True) -> str:
    if dialect == "postgres":
        from accord.engine.postgres import prepare
        ast = prepare(ast)
    elif dialect in ("spark", "databricks"):
        from accord.engine.spark import prepare
        ast = prepare(ast)
    elif dialect == "redshift":
        from accord.engine.postgres import prepare
        ast = rewrite(prepare(ast), _no_filter)
    elif dialect == "bigquery":
        ast = rewrite(reparse(ast), _iso_week)
    return ast.sql(dialect=DIALECTS[dialect], pretty=pretty)


def _no_filter(node: exp.Expression) -> exp.Expression:
    """`agg(x) FILTER (WHERE c)` as `agg(CASE WHEN c THEN x END)`; `count(*)` counts `CASE WHEN c THEN 1 END`."""
    if not isinstance(node, exp.Filter) or not isinstance(node.this, exp.AggFunc):
        return node
    agg, cond = node.this, node.expression.this
    arg = agg.this
    if arg is None or isinstance(arg, exp.Star):
        arg = exp.Literal.number(1)
    if isinstance(arg, exp.Distinct):
        inner = [exp.Case(ifs=[exp.If(this=cond.copy(), true=e)]) for e in arg.expressions]
        agg.set("this", exp.Distinct(expressions=inner))
    else:
        agg.set("this", exp.Case(ifs=[exp.If(this=cond, true=arg)]))
    return agg


def _iso_week(node: exp.Expression) -> exp.Expression:
    if isinstance(node, (exp.DateTrunc, exp.TimestampTrunc)) and node.unit is not None \
            and node.unit.name.upper() == "WEEK":
        node.set("unit", exp.var("ISOWEEK"))
    return node

"""Engines run SQL ASTs. The interface, the same for every engine:

* `dialect` — the sqlglot dialect its SQL is written in;
* `query(ast)` — a large result as an Arrow table; `records(ast)` — a small one as plain Python rows;
* `describe(relation)` — the relation's columns and their types, spelled as DuckDB spells them
  (VARCHAR, DATE, TIMESTAMP, TIMESTAMP WITH TIME ZONE, DOUBLE, ...), so callers read one vocabulary;
* `sample(relation, rows)` — a FROM-able relation of at most `rows` rows, taken as cheaply as the engine can;
* `sql(ast)` — the SQL the engine would run for `ast`; `close()`.

Plans are written once, as ASTs in DuckDB's vocabulary; each engine module rewrites what its engine lacks
(`prepare`) before transpiling. Engines open user data read-only and run SELECT statements only; DuckDB
runs in a `Sandbox`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

from accord.engine.base import EngineError, EngineQueryError, EngineSpec, first_line, reparse
from accord.engine.dialects import DIALECTS
from accord.engine.sandbox import Sandbox

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["DIALECTS", "Engine", "EngineError", "EngineQueryError", "EngineSpec", "Sandbox", "first_line",
           "open_engine", "plan_sql", "reparse"]


class Engine(Protocol):
    dialect: str

    def query(self, ast: exp.Expression) -> pa.Table: ...

    def records(self, ast: exp.Expression) -> list[dict[str, Any]]: ...

    def describe(self, relation: exp.Expression) -> dict[str, str]: ...

    def sample(self, relation: exp.Expression, rows: int) -> exp.Expression: ...

    def sql(self, ast: exp.Expression) -> str: ...

    def close(self) -> None: ...


def open_engine(spec: EngineSpec | str, database: str | None = None, timezone: str = "UTC",
                sandbox: Sandbox | None = None) -> Engine:
    """An engine opened read-only as `spec` says (a kind alone: DuckDB on `database`, None: in memory, in
    `sandbox`; default: no file readable at all)."""
    if isinstance(spec, str):
        spec = EngineSpec(spec, database=database, timezone=timezone, sandbox=sandbox)
    if spec.kind == "duckdb":
        from accord.engine.duckdb import DuckDBEngine
        return DuckDBEngine(spec.database, spec.timezone, spec.sandbox or Sandbox())
    if spec.kind == "postgres":
        from accord.engine.postgres import PostgresEngine
        return PostgresEngine(spec)
    if spec.kind == "spark":
        from accord.engine.spark import SparkEngine
        return SparkEngine(spec)
    raise EngineError(f"engine type '{spec.kind}' is not supported. use duckdb, postgres, spark or dbt")


def plan_sql(ast: exp.Expression, dialect: str, pretty: bool = True) -> str:
    """The SQL of a plan for a dialect, rewritten as the engine that runs it needs (see `dialects`)."""
    from accord.engine.dialects import plan_sql as write
    return write(ast, dialect, pretty)

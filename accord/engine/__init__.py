"""Engines run SQL ASTs and return Arrow tables. The interface: `dialect`, `query(ast)`, `close()`."""
from __future__ import annotations

from typing import Protocol

import pyarrow as pa
from sqlglot import exp


class Engine(Protocol):
    dialect: str

    def query(self, ast: exp.Expression) -> pa.Table: ...

    def close(self) -> None: ...


def open_engine(kind: str, database: str | None, timezone: str = "UTC") -> Engine:
    """An engine of `kind`, opened read-only on `database` (None: in memory)."""
    if kind == "duckdb":
        from accord.engine.duckdb import DuckDBEngine
        return DuckDBEngine(database, timezone)
    from accord.errors import UserError
    raise UserError(f"accord.yml: engine type '{kind}' is not supported yet. use duckdb")

"""Engines run SQL ASTs. The interface: `dialect`, `query(ast)` (an Arrow table), `records(ast)` (small
results as plain Python rows, without loading Arrow), `close()`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

if TYPE_CHECKING:
    import pyarrow as pa


class Engine(Protocol):
    dialect: str

    def query(self, ast: exp.Expression) -> pa.Table: ...

    def records(self, ast: exp.Expression) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


def open_engine(kind: str, database: str | None, timezone: str = "UTC") -> Engine:
    """An engine of `kind`, opened read-only on `database` (None: in memory)."""
    if kind == "duckdb":
        from accord.engine.duckdb import DuckDBEngine
        return DuckDBEngine(database, timezone)
    from accord.errors import UserError
    raise UserError(f"accord.yml: engine type '{kind}' is not supported yet. use duckdb")

"""Engines run SQL ASTs. The interface: `dialect`, `query(ast)` (an Arrow table), `records(ast)` (small
results as plain Python rows, without loading Arrow), `close()`. Each runs in a `Sandbox`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from sqlglot import exp

from accord.engine.sandbox import Sandbox

if TYPE_CHECKING:
    import pyarrow as pa


__all__ = ["Engine", "Sandbox", "open_engine"]


class Engine(Protocol):
    dialect: str

    def query(self, ast: exp.Expression) -> pa.Table: ...

    def records(self, ast: exp.Expression) -> list[dict[str, Any]]: ...

    def close(self) -> None: ...


def open_engine(kind: str, database: str | None, timezone: str = "UTC", sandbox: Sandbox | None = None) -> Engine:
    """An engine of `kind`, opened read-only on `database` (None: in memory), in `sandbox` (default: no file
    readable at all)."""
    if kind == "duckdb":
        from accord.engine.duckdb import DuckDBEngine
        return DuckDBEngine(database, timezone, sandbox or Sandbox())
    from accord.errors import UserError
    raise UserError(f"accord.yml: engine type '{kind}' is not supported yet. use duckdb")

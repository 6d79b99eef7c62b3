"""DuckDB, the embedded default: user data is opened read-only."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb
from sqlglot import exp

from accord.errors import UserError

if TYPE_CHECKING:
    import pyarrow as pa


class EngineQueryError(Exception):
    """The engine refused a query (a missing column, a bad cast...): callers map it to the YAML."""


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, database: str | None = None, timezone: str = "UTC"):
        try:
            self._con = duckdb.connect(database or ":memory:", read_only=bool(database))
        except duckdb.Error as e:
            raise UserError(f"accord.yml: cannot open DuckDB database '{database}': {e}. check engine.path")
        self._con.execute(f"SET TimeZone = '{timezone}'")
        self._con.execute("SET enable_progress_bar = false")

    def query(self, ast: exp.Expression | str) -> pa.Table:
        return self._run(ast, lambda rel: rel.to_arrow_table())

    def records(self, ast: exp.Expression | str) -> list[dict[str, Any]]:
        """The result as one dict per row. For small results: no Arrow is loaded (a command that needs only
        these starts faster)."""
        def rows(rel) -> list[dict[str, Any]]:
            names = [c[0] for c in rel.description]
            return [dict(zip(names, row)) for row in rel.fetchall()]
        return self._run(ast, rows)

    def _run(self, ast: exp.Expression | str, fetch):
        """`fetch` applied to the query's relation; the engine's refusal as EngineQueryError (one line)."""
        sql = ast if isinstance(ast, str) else ast.sql(dialect=self.dialect)
        try:
            return fetch(self._con.sql(sql))
        except duckdb.Error as e:
            raise EngineQueryError(str(e).split("\n")[0]) from e

    def close(self) -> None:
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

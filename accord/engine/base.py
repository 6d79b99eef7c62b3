"""What every engine module shares: its errors, the plain settings that open it, and the AST read back."""
from __future__ import annotations

from sqlglot import exp


class EngineQueryError(Exception):
    """The engine refused a query (a missing column, a bad cast, no permission, a time-out): one line, which
    callers map to the YAML that caused it."""


class EngineError(Exception):
    """The engine could not be opened (no server, bad credentials, a missing extra): one line, which callers
    map to the engine's line in accord.yml."""


class EngineSpec:
    """What opens an engine, resolved from accord.yml: plain values, no project (engines know none)."""

    def __init__(self, kind: str = "duckdb", database: str | None = None, dsn: str | None = None,
                 connect: dict | None = None, master: str | None = None, remote: str | None = None,
                 timezone: str = "UTC", timeout: float | None = None, sandbox=None):
        self.kind, self.database, self.dsn, self.connect = kind, database, dsn, dict(connect or {})
        self.master, self.remote, self.timezone, self.timeout = master, remote, timezone, timeout
        self.sandbox = sandbox      # DuckDB's: the data folders and limits (accord.engine.sandbox.Sandbox)


def reparse(ast: exp.Expression) -> exp.Expression:
    """The AST read back from its DuckDB SQL: functions built by name (`date_trunc`, `regexp_matches`) become
    sqlglot's typed expressions, which every dialect knows how to write."""
    import sqlglot
    return sqlglot.parse_one(ast.sql(dialect="duckdb"), read="duckdb")


def first_line(error: BaseException) -> str:
    """A driver's message, its first line only: never a traceback, never the data it echoes below."""
    text = str(error).strip()
    return text.split("\n")[0] if text else type(error).__name__


def rewrite(tree: exp.Expression, fn) -> exp.Expression:
    """`fn` applied to every node, children before their parent, so a rewritten node keeps its rewritten
    children (sqlglot's `transform` does not descend into a node it replaced)."""
    nodes = list(tree.dfs())
    for node in reversed(nodes):
        new = fn(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def ieee_division(div: exp.Div) -> exp.Expression:
    """`a / b` in DOUBLE with DuckDB's results where b is 0: +Infinity, -Infinity or NaN (PostgreSQL raises
    an error there, Spark gives NULL). Readers turn NaN into no value."""
    double = exp.DataType.build("DOUBLE")
    a = exp.Cast(this=div.this, to=double)
    b = div.expression

    def special(text: str) -> exp.Expression:
        return exp.Cast(this=exp.Literal.string(text), to=double.copy())
    zero = exp.Literal.number(0)
    by_zero = (exp.case()
               .when(exp.GT(this=a.copy(), expression=zero.copy()), special("Infinity"))
               .when(exp.LT(this=a.copy(), expression=zero.copy()), special("-Infinity"))
               .when(exp.EQ(this=a.copy(), expression=zero.copy()), special("NaN")))
    return exp.case().when(exp.EQ(this=b.copy(), expression=zero.copy()), by_zero) \
        .else_(exp.Div(this=a, expression=b))

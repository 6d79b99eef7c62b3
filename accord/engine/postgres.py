"""PostgreSQL through psycopg 3 (binary protocol), in read-only sessions.

Every session is `default_transaction_read_only = on`, with `statement_timeout` from `engine.timeout`,
`application_name = accord` and `TimeZone` from `settings.timezone`; every query runs in one READ ONLY,
REPEATABLE READ transaction, so all the queries of a command read the same snapshot. A definition that tries
to write is refused before it is sent (the SQL floor) and would be refused by the server too.

Plans arrive in DuckDB's vocabulary; `prepare` rewrites what PostgreSQL lacks:
`approx_count_distinct` (an exact count here), `try_cast` of text to a time (a guarded cast), `min(x, n)`
(the first n of a sorted array), `epoch_us`, and a JSON list of values to unnest.
"""
from __future__ import annotations

import decimal
import re
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from accord.engine.base import (EngineError, EngineQueryError, EngineSpec, first_line, ieee_division, reparse,
                                rewrite)

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["PostgresEngine", "prepare"]

# ISO dates and times PostgreSQL's cast reads; anything else is NULL, as DuckDB's TRY_CAST gives
_ISO_TIME = (r"^\s*\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?"
             r"\s*([zZ]|[+-]\d{2}(:?\d{2})?|[A-Za-z][A-Za-z0-9_/+-]*)?\s*$")
_TIME_TYPES = {exp.DataType.Type.DATE, exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ,
               exp.DataType.Type.TIMESTAMPTZ}

# PostgreSQL type names as DuckDB spells them (callers read one vocabulary)
_TYPES = {"text": "VARCHAR", "varchar": "VARCHAR", "bpchar": "VARCHAR", "name": "VARCHAR",
          "int2": "SMALLINT", "int4": "INTEGER", "int8": "BIGINT", "float4": "FLOAT", "float8": "DOUBLE",
          "numeric": "DECIMAL", "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP",
          "timestamptz": "TIMESTAMP WITH TIME ZONE", "time": "TIME", "interval": "INTERVAL",
          "uuid": "UUID", "json": "JSON", "jsonb": "JSON", "bytea": "BLOB"}


def prepare(ast: exp.Expression) -> exp.Expression:
    """The plan rewritten with the constructs PostgreSQL has."""
    tree = rewrite(reparse(ast), _rewrite)
    for n, select in enumerate(list(tree.find_all(exp.Select))):
        _decorrelate(select, n)
    return tree


def _decorrelate(select: exp.Select, n: int) -> None:
    """`EXISTS (SELECT 1 FROM (P) AS p WHERE p.k = o.k AND rest)` in a select list, the form of "is this
    touch inside one of its customer's periods": PostgreSQL runs it as a subplan scanning P once per outer
    row. Here P is read once, grouped by k into arrays, hash-joined on k, and each row looks only through
    its own key's values (`unnest`)."""
    outer = _from(select)
    if outer is None or not outer.this.alias:
        return
    mine = outer.this.alias
    for i, found in enumerate([e for p in select.expressions for e in p.find_all(exp.Exists)]):
        inner = found.this
        source = _from(inner).this if isinstance(inner, exp.Select) and _from(inner) else None
        where = inner.args.get("where") if isinstance(inner, exp.Select) else None
        if not isinstance(source, exp.Subquery) or not source.alias or where is None or inner.args.get("joins"):
            continue
        theirs = source.alias
        conds = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
        key = next((c for c in conds if isinstance(c, exp.EQ) and {c.this.table, c.expression.table} == {mine, theirs}
                    and all(isinstance(x, exp.Column) for x in (c.this, c.expression))), None)
        if key is None:
            continue
        their_key, my_key = (key.this, key.expression) if key.this.table == theirs else (key.expression, key.this)
        rest = [c for c in conds if c is not key]
        used = sorted({c.name for r in rest for c in r.find_all(exp.Column) if c.table == theirs})
        name = f"__in{n}_{i}"
        grouped = exp.select(exp.alias_(their_key.copy(), "__key"),
                             *[exp.alias_(exp.ArrayAgg(this=exp.column(c, theirs)), f"__v{j}") for j, c in enumerate(used)]
                             ).from_(source.copy()).group_by(their_key.copy())
        select.join(exp.Subquery(this=grouped, alias=exp.TableAlias(this=exp.to_identifier(name))),
                    on=exp.EQ(this=exp.column("__key", name), expression=my_key.copy()), join_type="left", copy=False)
        values = exp.Unnest(expressions=[exp.column(f"__v{j}", name) for j in range(len(used))],
                            alias=exp.TableAlias(this=exp.to_identifier(theirs),
                                                 columns=[exp.to_identifier(c) for c in used]))
        if not used:
            found.replace(exp.Not(this=exp.Is(this=exp.column("__key", name), expression=exp.null())))
            continue
        probe = exp.select(exp.Literal.number(1)).from_(values)
        if rest:
            probe = probe.where(exp.and_(*[r.copy() for r in rest]))
        found.set("this", probe)


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Div):
        return ieee_division(node)
    if isinstance(node, exp.ApproxDistinct):
        return exp.Count(this=exp.Distinct(expressions=[node.this]))
    if isinstance(node, exp.TryCast) and node.to.this in _TIME_TYPES:
        text = exp.Cast(this=node.this.copy(), to=exp.DataType.build("TEXT"))
        valid = exp.RegexpLike(this=text, expression=exp.Literal.string(_ISO_TIME))
        return exp.case().when(valid, exp.Cast(this=node.this, to=node.to)).else_(exp.null())
    if isinstance(node, exp.Min) and node.args.get("count"):
        return _first(node.this, [exp.Ordered(this=node.this.copy())], node.args["count"],
                      exp.Not(this=exp.Is(this=node.this.copy(), expression=exp.null())))
    if isinstance(node, (exp.ArgMin, exp.ArgMax)):
        key = node.expression
        keys = [f.expression if isinstance(f, exp.PropertyEQ) else f for f in key.expressions] \
            if isinstance(key, exp.Struct) else [key]
        desc = isinstance(node, exp.ArgMax)
        return _first(node.this, [exp.Ordered(this=k.copy(), desc=desc) for k in keys], None,
                      exp.and_(*[exp.Not(this=exp.Is(this=k.copy(), expression=exp.null())) for k in keys]))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":
        seconds = exp.Extract(this=exp.var("EPOCH"), expression=node.expressions[0])
        return exp.Cast(this=exp.Mul(this=seconds, expression=exp.Literal.number(1_000_000)),
                        to=exp.DataType.build("BIGINT"))
    if isinstance(node, exp.Explode) and isinstance(node.this, exp.FromJson):
        return exp.Anonymous(this="json_array_elements_text",
                             expressions=[exp.Cast(this=node.this.this, to=exp.DataType.build("JSON"))])
    return node


def _from(select: exp.Select) -> exp.From | None:
    return select.args.get("from_") or select.args.get("from")


def _first(value: exp.Expression, order: list[exp.Ordered], count: exp.Expression | None,
           where: exp.Expression | None = None) -> exp.Expression:
    """The first value (or the first `count` values) in `order`: `(array_agg(v ORDER BY ...))[1]`."""
    agg: exp.Expression = exp.ArrayAgg(this=exp.Order(this=value, expressions=order))
    if where is not None:
        agg = exp.Filter(this=agg, expression=exp.Where(this=where))
    # sqlglot counts from 0 and writes PostgreSQL's 1-based subscript: 0 is the first element
    index = exp.Slice(this=exp.Literal.number(1), expression=count) if count is not None else exp.Literal.number(0)
    return exp.Bracket(this=exp.Paren(this=agg), expressions=[index])


class PostgresEngine:
    dialect = "postgres"

    def __init__(self, spec: EngineSpec):
        try:
            import psycopg
        except ImportError:
            raise EngineError("PostgreSQL needs psycopg. run `pip install 'accord[postgres]'`") from None
        self._psycopg = psycopg
        options = {"application_name": "accord"}
        try:
            self._con = psycopg.connect(spec.dsn or "", autocommit=True, **options, **spec.connect)
        except psycopg.Error as e:
            raise EngineError(f"cannot connect to PostgreSQL: {_clean(e)}. check the DSN, the server and "
                              "the password in PGPASSWORD or ~/.pgpass") from None
        timeout_ms = int((spec.timeout or 600) * 1000)
        try:
            for name, value in (("default_transaction_read_only", "on"), ("statement_timeout", str(timeout_ms)),
                                ("application_name", "accord"), ("TimeZone", spec.timezone),
                                ("IntervalStyle", "postgres"), ("DateStyle", "ISO")):
                self._con.execute("SELECT set_config(%s, %s, false)", (name, value))
        except psycopg.Error as e:
            self._con.close()
            raise EngineError(f"PostgreSQL refused the session settings: {_clean(e)}") from None
        self._con.autocommit = False
        self._con.read_only = True
        self._con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.timeout = spec.timeout or 600

    def sql(self, ast: exp.Expression) -> str:
        return prepare(ast).sql(dialect=self.dialect)

    def query(self, ast: exp.Expression) -> pa.Table:
        import pyarrow as pa
        names, rows = self._run(ast)
        columns = list(zip(*rows)) if rows else [() for _ in names]
        return pa.table({n: pa.array([_plain(v) for v in col]) for n, col in zip(names, columns)})

    def records(self, ast: exp.Expression) -> list[dict[str, Any]]:
        names, rows = self._run(ast)
        return [dict(zip(names, row)) for row in rows]

    def describe(self, relation: exp.Expression) -> dict[str, str]:
        """Column name -> type (as DuckDB spells it), from the result's description: no row is read."""
        q = exp.select("*").from_(relation).limit(0)
        sql = self.sql(q)
        with self._guard():
            cur = self._con.execute(sql, binary=True)
            return {d.name: _TYPES.get(_type_name(self._con, d.type_code), "OTHER") for d in cur.description}

    def sample(self, relation: exp.Expression, rows: int) -> exp.Expression:
        head = exp.select("*").from_(relation).limit(rows)
        return exp.Subquery(this=head, alias=exp.TableAlias(this=exp.to_identifier("__sample")))

    def _run(self, ast: exp.Expression) -> tuple[list[str], list[tuple]]:
        sql = ast if isinstance(ast, str) else self.sql(ast)
        with self._guard():
            cur = self._con.execute(sql, binary=True)
            names = [d.name for d in cur.description]
            return names, cur.fetchall()

    def _guard(self):
        return _Guard(self)

    def close(self) -> None:
        try:
            self._con.rollback()
        finally:
            self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Guard:
    """A driver error as EngineQueryError (one line); the failed transaction rolled back so the next query
    runs; a lost connection as EngineError."""

    def __init__(self, engine: PostgresEngine):
        self.engine = engine

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        psycopg = self.engine._psycopg
        if error is None or not isinstance(error, psycopg.Error):
            return False
        con = self.engine._con
        if con.closed or isinstance(error, psycopg.OperationalError) and con.broken:
            raise EngineError(f"lost the connection to PostgreSQL: {_clean(error)}") from None
        con.rollback()
        if isinstance(error, psycopg.errors.QueryCanceled):
            raise EngineQueryError(f"the query ran longer than engine.timeout ({self.engine.timeout:g} s). "
                                   "raise engine.timeout or narrow the source") from None
        raise EngineQueryError(_clean(error)) from None


_TYPE_NAMES: dict[int, str] = {}


def _type_name(con, oid: int) -> str:
    known = con.adapters.types.get(oid)
    if known is not None:
        return known.name
    if oid not in _TYPE_NAMES:
        row = con.execute("SELECT typname FROM pg_catalog.pg_type WHERE oid = %s", (oid,)).fetchone()
        _TYPE_NAMES[oid] = row[0] if row else ""
    return _TYPE_NAMES[oid]


def _clean(error: BaseException) -> str:
    """The server's message without its trailing dot (our sentence goes on), first line only."""
    return re.sub(r"\.$", "", first_line(error))


def _plain(v):
    """Decimals as floats for Arrow columns of mixed scale; everything else as it came."""
    return float(v) if isinstance(v, decimal.Decimal) else v

"""Apache Spark through pyspark: a local session (`master`) or Spark Connect to a cluster (`remote`).

The session's time zone is `settings.timezone`; only SELECT plans are submitted, nothing is cached or
written; a query running past `engine.timeout` is cancelled. File sources are read by Spark's own readers
(registered as temporary views, which live only in this session).

Plans arrive in DuckDB's vocabulary; `prepare` rewrites what Spark lacks or spells differently:
`timezone(zone, t)` (the session zone is that zone: a cast to TIMESTAMP_NTZ), `date_diff` counting unit
boundaries, `min(x, n)`, `epoch_us` of a wall-clock time, `row_number()` in a source's own order, a JSON list of values to explode, division
(in DOUBLE, by zero as DuckDB divides), and files read by DuckDB's table functions.
"""
from __future__ import annotations

import hashlib
import re
import threading
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from accord.engine.base import EngineError, EngineQueryError, EngineSpec, first_line, ieee_division, reparse
from accord.engine.base import rewrite as rewrite_nodes

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["SparkEngine", "prepare"]

_READERS = {"read_parquet": "parquet", "read_csv": "csv", "read_csv_auto": "csv", "read_json_auto": "json",
            "read_json": "json"}
_UNIT_MICROS = {"MICROSECOND": 1, "MILLISECOND": 1_000, "SECOND": 1_000_000, "MINUTE": 60_000_000,
                "HOUR": 3_600_000_000, "DAY": 86_400_000_000}
_EPOCH_NTZ = exp.Cast(this=exp.Literal.string("1970-01-01 00:00:00"), to=exp.DataType.build("TIMESTAMP_NTZ",
                                                                                              dialect="spark"))
_TYPES = {"StringType": "VARCHAR", "VarcharType": "VARCHAR", "CharType": "VARCHAR", "ByteType": "TINYINT",
          "ShortType": "SMALLINT", "IntegerType": "INTEGER", "LongType": "BIGINT", "FloatType": "FLOAT",
          "DoubleType": "DOUBLE", "DecimalType": "DECIMAL", "BooleanType": "BOOLEAN", "DateType": "DATE",
          "TimestampNTZType": "TIMESTAMP", "TimestampType": "TIMESTAMP WITH TIME ZONE", "BinaryType": "BLOB"}
_SELECTS = (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)


def prepare(ast: exp.Expression, files: dict[str, str] | None = None) -> exp.Expression:
    """The plan rewritten with the constructs Spark has; DuckDB file readers become the views `files` names
    (path -> view; without it, Spark's `format`.`path` tables)."""
    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and isinstance(node.this, (exp.Anonymous, exp.ReadCSV, exp.ReadParquet)):
            found = _file(node.this)
            if found:
                fmt, path = found
                name = files.get(path) if files is not None else None
                table = exp.to_table(name) if name else exp.Table(this=exp.to_identifier(path, quoted=True),
                                                                db=exp.to_identifier(fmt))
                if node.alias:
                    table.set("alias", node.args["alias"])
                return table
        if isinstance(node, exp.Anonymous) and node.name.lower() == "timezone" or \
                isinstance(node, exp.ConvertTimezone):
            value = node.expressions[-1] if isinstance(node, exp.Anonymous) else node.args["timestamp"]
            return exp.Cast(this=value, to=exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
        if isinstance(node, exp.Anonymous) and node.name.lower() == "epoch_us":
            return _micros_since_epoch(node.expressions[0])
        if isinstance(node, exp.DateDiff) and node.unit and node.unit.name.upper() in _UNIT_MICROS:
            unit = node.unit.name.upper()
            trunc = [exp.TimestampTrunc(this=exp.Cast(this=e, to=exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")),
                                        unit=exp.Literal.string(unit)) for e in (node.expression, node.this)]
            diff = exp.Sub(this=_micros_since_epoch(trunc[1]), expression=_micros_since_epoch(trunc[0]))
            return exp.Cast(this=exp.Div(this=exp.Paren(this=diff), expression=exp.Literal.number(_UNIT_MICROS[unit])),
                            to=exp.DataType.build("BIGINT"))
        if isinstance(node, exp.Min) and node.args.get("count"):
            ordered = exp.Anonymous(this="array_sort", expressions=[
                exp.Anonymous(this="collect_list", expressions=[node.this])])
            return exp.Anonymous(this="slice", expressions=[ordered, exp.Literal.number(1), node.args["count"]])
        if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber) and not node.args.get("order"):
            # a row's order in its source: Spark numbers rows only in a given order, and its ids grow in
            # the order a file is read
            ordered = node.copy()
            ordered.set("order", exp.Order(expressions=[exp.Ordered(
                this=exp.Anonymous(this="monotonically_increasing_id", expressions=[]))]))
            return ordered
        if isinstance(node, exp.FromJson):
            return exp.Anonymous(this="from_json", expressions=[node.this, exp.Literal.string("array<string>")])
        if isinstance(node, exp.Div):
            return ieee_division(node)
        return node
    return rewrite_nodes(reparse(ast), rewrite)


def _file(reader: exp.Expression) -> tuple[str, str] | None:
    name = reader.name.lower() if isinstance(reader, exp.Anonymous) else \
        {exp.ReadCSV: "read_csv", exp.ReadParquet: "read_parquet"}[type(reader)]
    args = reader.expressions if isinstance(reader, exp.Anonymous) else [reader.this, *reader.expressions]
    if name in _READERS and args and isinstance(args[0], exp.Literal) and args[0].is_string:
        return _READERS[name], args[0].name
    return None


def _micros_since_epoch(value: exp.Expression) -> exp.Expression:
    """Microseconds from 1970-01-01 to a wall-clock time, read as wall clock (no zone, no daylight saving)."""
    ntz = exp.Cast(this=value, to=exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
    return exp.Anonymous(this="timestampdiff", expressions=[exp.var("MICROSECOND"), _EPOCH_NTZ.copy(), ntz])


class SparkEngine:
    dialect = "spark"

    def __init__(self, spec: EngineSpec):
        import warnings
        # pyspark warns on every start that it prefers an older pandas; accord hands it no pandas objects
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark(\.|$)")
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise EngineError("Spark needs pyspark. run `pip install 'accord[spark]'`") from None
        self.timeout = spec.timeout or 600
        self.timezone = spec.timezone
        self._files: dict[str, str] = {}
        try:
            builder = SparkSession.builder.appName("accord")
            if spec.remote:
                builder = builder.remote(spec.remote)
            else:
                builder = (builder.master(spec.master or "local[2]")
                           .config("spark.ui.enabled", "false")
                           .config("spark.ui.showConsoleProgress", "false")
                           .config("spark.sql.shuffle.partitions", "4")
                           .config("spark.sql.session.timeZone", spec.timezone))
            self._spark = builder.getOrCreate()
            self._spark.conf.set("spark.sql.session.timeZone", spec.timezone)
            self._spark.conf.set("spark.sql.ansi.enabled", "false")
            # Spark 4.x's PushProjectionThroughUnion loses a column of a union whose branches number their
            # rows when an EXISTS above it reads the union (NoSuchElementException: key not found): the
            # touch log's plan. Without the rule the plan is the same work, only not pushed down.
            self._spark.conf.set("spark.sql.optimizer.excludedRules",
                                 "org.apache.spark.sql.catalyst.optimizer.PushProjectionThroughUnion")
            # pyspark logs every refused query as a JSON line on stderr; accord reports it as one line itself
            import logging
            logging.getLogger("SQLQueryContextLogger").disabled = True
        except Exception as e:  # noqa: BLE001 - py4j, grpc and the JVM raise many kinds: one line for all
            where = spec.remote or spec.master or "local[2]"
            raise EngineError(f"cannot start a Spark session on '{where}': {first_line(e)}. check "
                              "engine.master or engine.remote, and that Java 17 is installed") from None
        self._remote = bool(spec.remote)

    def sql(self, ast: exp.Expression) -> str:
        return prepare(ast, self._files).sql(dialect=self.dialect)

    def query(self, ast: exp.Expression) -> pa.Table:
        return self._run(ast, lambda df: df.toArrow())

    def records(self, ast: exp.Expression) -> list[dict[str, Any]]:
        return self._run(ast, lambda df: [r.asDict() for r in df.collect()])

    def describe(self, relation: exp.Expression) -> dict[str, str]:
        """Column name -> type (as DuckDB spells it), from the analysed plan: no job runs."""
        def names(df) -> dict[str, str]:
            return {f.name: _TYPES.get(type(f.dataType).__name__, "OTHER") for f in df.schema.fields}
        return self._run(exp.select("*").from_(relation), names)

    def sample(self, relation: exp.Expression, rows: int) -> exp.Expression:
        head = exp.select("*").from_(relation).limit(rows)
        return exp.Subquery(this=head, alias=exp.TableAlias(this=exp.to_identifier("__sample")))

    def _run(self, ast: exp.Expression, fetch):
        if not isinstance(ast, _SELECTS):
            raise EngineQueryError("only SELECT statements are sent to Spark")
        self._register_files(ast)
        sql = self.sql(ast)
        timer = threading.Timer(self.timeout, self._cancel)
        timer.daemon = True
        self._timed_out = False
        timer.start()
        try:
            self._tag()
            return fetch(self._spark.sql(sql))
        except Exception as e:  # noqa: BLE001 - every Spark refusal becomes one line
            if self._timed_out:
                raise EngineQueryError(f"the query ran longer than engine.timeout ({self.timeout:g} s). "
                                       "raise engine.timeout or narrow the source") from None
            raise EngineQueryError(_clean(e)) from None
        finally:
            timer.cancel()

    def _tag(self) -> None:
        if self._remote:
            self._spark.addTag("accord")
        else:
            self._spark.sparkContext.setJobGroup("accord", "accord", interruptOnCancel=True)

    def _cancel(self) -> None:
        self._timed_out = True
        if self._remote:
            self._spark.interruptTag("accord")
        else:
            self._spark.sparkContext.cancelJobGroup("accord")

    def _register_files(self, ast: exp.Expression) -> None:
        """Each file a plan reads as a temporary view, read once by Spark's reader for its format."""
        for table in ast.find_all(exp.Table):
            found = _file(table.this) if isinstance(table.this, (exp.Anonymous, exp.ReadCSV, exp.ReadParquet)) \
                else None
            if not found or found[1] in self._files:
                continue
            fmt, path = found
            reader = self._spark.read
            if fmt == "csv":
                reader = reader.option("header", "true").option("inferSchema", "true")
            name = "__file_" + hashlib.sha256(path.encode()).hexdigest()[:16]
            try:
                getattr(reader, fmt)(path).createOrReplaceTempView(name)
            except Exception as e:  # noqa: BLE001
                raise EngineQueryError(f"Spark cannot read '{path}': {_clean(e)}") from None
            self._files[path] = name

    def close(self) -> None:
        for name in self._files.values():
            try:
                self._spark.catalog.dropTempView(name)
            except Exception:  # noqa: BLE001 - the session may be gone already
                pass
        self._files.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _clean(error: BaseException) -> str:
    """Spark's message without its error class prefix, SQLSTATE and query context."""
    text = first_line(error)
    text = re.sub(r"^\[[A-Z_.]+\]\s*", "", text)
    text = re.sub(r"\s*SQLSTATE: \w+\.?", "", text)
    return text.rstrip(". ")

"""Each source as a relation AST the engine can scan, and its time columns read in the project's zone."""
from __future__ import annotations

import csv
import functools
import stat
from dataclasses import dataclass

from sqlglot import exp

from accord.errors import Problem, UserError
from accord.project.model import Project, Source
from accord.project.references import file_format, parse_fragment_statement

_READERS = {"csv": "read_csv", "parquet": "read_parquet", "json": "read_json_auto"}
TEXT_TYPES = ("VARCHAR", "STRING", "TEXT")
NULL_TYPES = ('"NULL"', "NULL")   # a column of a source with a header and no rows
DATE_TYPES = ("DATE",)
TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME", "TIMESTAMP_US")
TIMESTAMPTZ_TYPES = ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
# A time of day followed by a zone: Z, an offset (+02, +0200, +02:00) or a name (UTC, Europe/Berlin).
# A cast to TIMESTAMP would drop it silently; a cast to TIMESTAMPTZ reads text without one in the session zone.
_ZONE_SUFFIX = r"\d:\d\d(:\d\d(\.\d*)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$"


# Up to this many bytes of a file are read to tell an empty CSV, a CSV with a header and no rows, or a file
# named .parquet that is not Parquet, before the engine reads it.
_PEEK = 65_536


@functools.lru_cache(maxsize=256)
def _peek(path: str, mtime_ns: int, size: int, fmt: str) -> tuple[str, tuple[str, ...]]:
    """("empty" | "header" | "not parquet" | "", the header's column names)."""
    try:
        with open(path, "rb") as f:
            head = f.read(_PEEK)
            if fmt == "parquet" and size >= 8:
                f.seek(size - 4)
                tail = f.read(4)
    except OSError:
        return "", ()           # the engine says why it cannot read it
    if fmt == "parquet":
        return ("not parquet" if size < 8 or head[:4] != b"PAR1" or tail != b"PAR1" else ""), ()
    if fmt != "csv":
        return "", ()
    if not head.strip():
        return ("empty" if size <= _PEEK else ""), ()
    lines = [line for line in head.splitlines() if line.strip()]
    if size > _PEEK or len(lines) != 1:
        return "", ()
    try:
        text = lines[0].decode("utf-8-sig")
    except UnicodeDecodeError:
        return "", ()
    delimiters = "\t" if path.lower().endswith(".tsv") else ",;\t|"
    try:
        dialect = csv.Sniffer().sniff(text, delimiters=delimiters)
        names = next(csv.reader([text], dialect))
    except (csv.Error, StopIteration):
        names = next(csv.reader([text]))
    return "header", tuple(n.strip() for n in names)


def file_state(project: Project, source: Source) -> tuple[str, tuple[str, ...]]:
    """What a first look at a file source shows: "empty", "header" (column names and no rows, with the
    names), "not parquet", or "" for a file the engine is left to read (or not a single file, such as a glob)."""
    if not source.path:
        return "", ()
    path = project.root / source.path
    fmt = file_format(source.path)
    try:
        st = path.stat()
    except (OSError, ValueError):
        return "", ()
    if not stat.S_ISREG(st.st_mode) or fmt not in ("csv", "parquet"):
        return "", ()
    return _peek(str(path), st.st_mtime_ns, st.st_size, fmt)


def relation(project: Project, source: Source) -> exp.Expression:
    """A FROM-able expression for the source: a file reader, an engine table, or its own SELECT.

    A CSV file with a header and no rows is a valid, empty source: its columns are NULLs of no type (the
    engine would read them as text, which no sum() takes) and it has no rows."""
    if source.path:
        state, names = file_state(project, source)
        if state == "header" and names:
            empty = exp.select(*(exp.alias_(exp.null(), exp.to_identifier(n, quoted=True)) for n in names)) \
                .where(exp.false())
            return exp.Subquery(this=empty)
        path = str((project.root / source.path).resolve())
        reader = exp.Anonymous(this=_READERS[file_format(source.path)], expressions=[exp.Literal.string(path)])
        return exp.Table(this=reader)
    if source.table:
        return exp.to_table(source.table, dialect="duckdb")
    tree = parse_fragment_statement(source.sql)
    names = {s.name: s for s in project.sources}
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.args.get("db") and node.name in names \
                and node.name not in ctes and node.name != source.name:
            alias = node.alias or node.name
            return exp.Subquery(this=select_all(project, names[node.name]), alias=exp.TableAlias(
                this=exp.to_identifier(alias)))
        return node

    return exp.Subquery(this=tree.transform(swap))


def select_all(project: Project, source: Source) -> exp.Select:
    return exp.select("*").from_(_as_from(relation(project, source)))


def _as_from(rel: exp.Expression) -> exp.Expression:
    if isinstance(rel, exp.Subquery) and not rel.alias:
        return exp.Subquery(this=rel.this, alias=exp.TableAlias(this=exp.to_identifier("__src")))
    return rel


def from_source(project: Project, source: Source) -> exp.Expression:
    return _as_from(relation(project, source))


@dataclass(frozen=True)
class Schema:
    """Column names (as the engine spells them) and their engine types."""

    columns: dict[str, str]

    def find(self, name: str) -> str | None:
        """The column matching `name` case-insensitively, as the engine spells it."""
        lower = name.lower()
        for c in self.columns:
            if c.lower() == lower:
                return c
        return None

    def type_of(self, name: str) -> str:
        return self.columns[self.find(name)].upper()


def local_time(schema: Schema, column: str, timezone: str, where: Problem) -> exp.Expression:
    """The time column as a naive local timestamp or date in `timezone`.

    DATE and TIMESTAMP are wall-clock values already; TIMESTAMPTZ is converted; ISO text with a zone or
    offset is converted, ISO text without one is wall clock in `timezone` (never in the engine session's zone).
    """
    col = exp.column(schema.find(column), quoted=True)
    kind = schema.type_of(column)
    if kind in DATE_TYPES or kind in TIMESTAMP_TYPES:
        return col
    if kind in NULL_TYPES:
        return exp.Cast(this=col, to=exp.DataType.build("TIMESTAMP"))
    if kind in TIMESTAMPTZ_TYPES:
        return exp.Anonymous(this="timezone", expressions=[exp.Literal.string(timezone), col])
    if kind in TEXT_TYPES:
        aware = exp.Anonymous(this="timezone", expressions=[
            exp.Literal.string(timezone), exp.TryCast(this=col.copy(), to=exp.DataType.build("TIMESTAMPTZ"))])
        wall_clock = exp.TryCast(this=col.copy(), to=exp.DataType.build("TIMESTAMP"))
        zoned = exp.Anonymous(this="regexp_matches", expressions=[col.copy(), exp.Literal.string(_ZONE_SUFFIX)])
        return exp.case().when(zoned, aware).else_(wall_clock)
    raise UserError([Problem(where.file, where.line, where.col,
                             f"{where.message} is {kind}, not a date. use a DATE, TIMESTAMP or ISO text column")])

"""Each source as a relation AST the engine can scan, and its time columns read in the project's zone."""
from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from accord.errors import Problem, UserError
from accord.project.model import Project, Source
from accord.project.references import file_format, parse_fragment_statement

_READERS = {"csv": "read_csv", "parquet": "read_parquet", "json": "read_json_auto"}
TEXT_TYPES = ("VARCHAR", "STRING", "TEXT")
DATE_TYPES = ("DATE",)
TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "DATETIME", "TIMESTAMP_US")
TIMESTAMPTZ_TYPES = ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ")
# A time of day followed by a zone: Z, an offset (+02, +0200, +02:00) or a name (UTC, Europe/Berlin).
# A cast to TIMESTAMP would drop it silently; a cast to TIMESTAMPTZ reads text without one in the session zone.
_ZONE_SUFFIX = r"\d:\d\d(:\d\d(\.\d*)?)?\s*([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z][A-Za-z0-9_/+-]*)\s*$"


def relation(project: Project, source: Source) -> exp.Expression:
    """A FROM-able expression for the source: a file reader, an engine table, or its own SELECT."""
    if source.path:
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

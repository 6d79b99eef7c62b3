"""The metric bridge: from A's value to B's, record by record, every difference named.

One DuckDB query over both sources: each record gets a bitmask of the clauses it fails on each side
(the period is a clause too), records are matched on their keys, and the result is grouped by
(present in A, present in B, A's mask, B's mask, value differs). Steps are assembled from that small
result; they sum to the gap by construction.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction

from sqlglot import exp

from accord.compute.periods import Calendar, parse_period
from accord.compute.relations import from_source, local_time
from accord.compute.run import check_columns, source_schema
from accord.errors import Problem, UserError
from accord.project.model import Metric, Project
from accord.project.references import fragment
from accord.sql.expressions import additivity, fails

EXAMPLES = 5
MAX_CLAUSES = 62


@dataclass(frozen=True)
class Side:
    metric: Metric
    source: str
    system: str | None
    key: str | None
    clauses: tuple[tuple[str, exp.Expression], ...]   # (name, condition that must hold), 'period' first
    value: exp.Expression


@dataclass
class Step:
    kind: str
    side: str | None
    clause: str | None
    delta: Fraction = Fraction(0)
    records: int = 0
    examples: list[str] = field(default_factory=list)
    combinations: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        d = {"kind": self.kind, "side": self.side, "clause": self.clause, "delta": float(self.delta),
             "records": self.records, "examples": self.examples}
        if self.combinations:
            d["evidence"] = {"combinations": [{"clauses": k.split(" + "), "records": n}
                                              for k, n in sorted(self.combinations.items(),
                                                                 key=lambda kv: (-kv[1], kv[0]))]}
        return d


@dataclass
class Bridge:
    a: dict
    b: dict
    period: str
    steps: list[Step]

    @property
    def gap(self) -> float:
        return self.b["value"] - self.a["value"]

    def as_dict(self) -> dict:
        return {"a": self.a, "b": self.b, "period": self.period, "gap": self.gap,
                "steps": [s.as_dict() for s in self.steps]}


def _refuse(message: str) -> UserError:
    return UserError([Problem("", 0, 0, message)])


def _side(project: Project, m: Metric, calendar: Calendar, start: dt.date, engine) -> Side:
    if m.kind != "simple":
        parts = (f" bridge its numerator and denominator: accord reconcile {m.ratio.numerator} … and "
                 f"{m.ratio.denominator} …") if m.kind == "ratio" else " bridge the metrics it is made of"
        raise _refuse(f"metric '{m.name}' is a {m.kind}, which has no records to bridge.{parts}")
    add = additivity(fragment(m.measure))
    src = project.source(m.source)
    if add.kind is None or (add.kind == "count_distinct" and not (
            isinstance(add.argument, exp.Column) and src.key and add.argument.name.lower() == src.key.lower())):
        raise _refuse(f"metric '{m.name}' measures {m.measure}, which is not additive record by record. "
                      "a bridge needs sum(x), count(*) or count(distinct <key>)")
    schema = source_schema(engine, project, src)
    problems = check_columns(project, src, [m], schema)
    if src.key and schema.find(src.key) is None:
        problems.append(Problem(src.location.file, src.location.line, 0,
                                f"key column '{src.key}' is not in source '{src.name}'. fix key:"))
    if problems:
        raise UserError(problems)
    t = local_time(schema, m.time or src.time, project.settings.timezone,
                   Problem(src.location.file, src.location.line, 0, f"time column of source '{src.name}'"))
    period = exp.and_(exp.GTE(this=t.copy(), expression=_date(start)),
                      exp.LT(this=t.copy(), expression=_date(calendar.next(start))))
    clauses: list[tuple[str, exp.Expression]] = [("period", period)]
    clauses += [(c.name, fragment(c.sql)) for c in m.include or ()]
    clauses += [(c.name, fails(fragment(c.sql))) for c in m.exclude or ()]
    if len(clauses) > MAX_CLAUSES:
        raise _refuse(f"metric '{m.name}' has more than {MAX_CLAUSES - 1} clauses; a bridge tracks at most that many")
    if add.kind == "sum":
        value = exp.Coalesce(this=exp.Cast(this=add.argument.copy(), to=exp.DataType.build("DOUBLE")),
                             expressions=[exp.Literal.number(0)])
    elif add.argument is not None:  # count(x), count(distinct key): a record counts when its value is not NULL
        value = exp.Case(ifs=[exp.If(this=exp.Is(this=add.argument.copy(), expression=exp.null()),
                                     true=exp.Literal.number(0))], default=exp.Literal.number(1))
    else:
        value = exp.Literal.number(1)
    return Side(m, src.name, src.system, schema.find(src.key) if src.key else None, tuple(clauses), value)


def _date(d: dt.date) -> exp.Expression:
    return exp.Cast(this=exp.Literal.string(d.isoformat()), to=exp.DataType.build("DATE"))


def _mask(side: Side) -> exp.Expression:
    """Bit i set when clause i fails (a clause holds only when TRUE)."""
    out: exp.Expression = exp.Literal.number(0)
    for i, (_, cond) in enumerate(side.clauses):
        bit = exp.Case(ifs=[exp.If(this=fails(cond), true=exp.Literal.number(1 << i))], default=exp.Literal.number(0))
        out = exp.Add(this=out, expression=bit)
    return out


def _key(side: Side) -> exp.Expression:
    if side.key is None:
        return exp.Cast(this=exp.null(), to=exp.DataType.build("VARCHAR"))
    return exp.Cast(this=exp.column(side.key, quoted=True), to=exp.DataType.build("VARCHAR"))


def _records(project: Project, side: Side) -> exp.Select:
    return (exp.select(exp.alias_(_key(side), "k"), exp.alias_(exp.true(), "present"),
                       exp.alias_(side.value.copy(), "v"), exp.alias_(_mask(side), "f"))
            .from_(from_source(project, project.source(side.source))))


def bridge_query(project: Project, a: Side, b: Side) -> exp.Select:
    """Grouped (in A, in B, no key, A's mask, B's mask, value differs) with counts, sums and example keys."""
    if a.source == b.source:
        # one source: every row is matched with itself, key or not
        pairs = exp.select(exp.alias_(_key(a), "k"), exp.alias_(exp.true(), "in_a"), exp.alias_(exp.true(), "in_b"),
                           exp.alias_(exp.false(), "no_key"),
                           exp.alias_(a.value.copy(), "av"), exp.alias_(b.value.copy(), "bv"),
                           exp.alias_(_mask(a), "af"), exp.alias_(_mask(b), "bf")
                           ).from_(from_source(project, project.source(a.source)))
    else:
        ra = exp.Subquery(this=_records(project, a), alias=exp.TableAlias(this=exp.to_identifier("a")))
        rb = exp.Subquery(this=_records(project, b), alias=exp.TableAlias(this=exp.to_identifier("b")))
        k = exp.Coalesce(this=exp.column("k", "a"), expressions=[exp.column("k", "b")])
        pairs = (exp.select(exp.alias_(k, "k"),
                            exp.alias_(exp.column("present", "a").is_(exp.null()).not_(), "in_a"),
                            exp.alias_(exp.column("present", "b").is_(exp.null()).not_(), "in_b"),
                            exp.alias_(k.copy().is_(exp.null()), "no_key"),
                            exp.alias_(exp.column("v", "a"), "av"), exp.alias_(exp.column("v", "b"), "bv"),
                            exp.alias_(exp.column("f", "a"), "af"), exp.alias_(exp.column("f", "b"), "bf"))
                 .from_(ra).join(rb, on=exp.EQ(this=exp.column("k", "a"), expression=exp.column("k", "b")),
                                 join_type="full outer"))
    differs = exp.NEQ(this=exp.Coalesce(this=exp.column("av"), expressions=[exp.Literal.number(0)]),
                      expression=exp.Coalesce(this=exp.column("bv"), expressions=[exp.Literal.number(0)]))
    group = [exp.column("in_a"), exp.column("in_b"), exp.column("no_key"), exp.column("af"), exp.column("bf")]
    q = exp.select(*group, exp.alias_(differs, "differs"),
                   exp.alias_(exp.Count(this=exp.Star()), "n"),
                   exp.alias_(exp.Sum(this=exp.column("av")), "sa"),
                   exp.alias_(exp.Sum(this=exp.column("bv")), "sb"),
                   exp.alias_(exp.Anonymous(this="min", expressions=[exp.column("k"), exp.Literal.number(EXAMPLES)]),
                              "examples"))
    q = q.from_(exp.Subquery(this=pairs, alias=exp.TableAlias(this=exp.to_identifier("__pairs"))))
    return q.group_by(*[g.copy() for g in group], differs.copy())


def _refuse_without_data(project: Project, engine, sides: tuple[Side, Side], calendar: Calendar,
                         start: dt.date) -> None:
    """A period wholly before the first record of both sides, or after the last, has nothing to bridge."""
    spans = []
    for side in {s.source: s for s in sides}.values():
        src = project.source(side.source)
        schema = source_schema(engine, project, src)
        t = local_time(schema, side.metric.time or src.time, project.settings.timezone, Problem("", 0, 0, ""))
        row = engine.records(exp.select(exp.alias_(exp.Min(this=t.copy()), "first"),
                                        exp.alias_(exp.Max(this=t.copy()), "last"))
                             .from_(from_source(project, src)))[0]
        spans.append((side.source, _day(row["first"]), _day(row["last"])))
    label, end = calendar.label(start), calendar.next(start)
    if all(first is None for _, first, _ in spans):
        raise _refuse(f"there is no data to bridge: {' and '.join(repr(n) for n, _, _ in spans)} have no "
                      "records with a time. load data first")
    if all(first is None or first >= end for _, first, _ in spans):
        first = min(f for _, f, _ in spans if f is not None)
        raise _refuse(f"there is no data in {label}: the first record is of {first.isoformat()}. choose a later "
                      "--period")
    if all(last is None or last < start for _, _, last in spans):
        last = max(x for _, _, x in spans if x is not None)
        raise _refuse(f"there is no data in {label}: the last record is of {last.isoformat()}. choose an earlier "
                      "--period")


def _day(value) -> dt.date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, dt.datetime) else value


def _refuse_duplicate_keys(project: Project, engine, side: Side) -> None:
    """Records are matched on their keys: a key on two rows would multiply matches silently."""
    key = exp.Cast(this=exp.column(side.key, quoted=True), to=exp.DataType.build("VARCHAR"))
    q = (exp.select(exp.alias_(key, "k"), exp.alias_(exp.Count(this=exp.Star()), "n"))
         .from_(from_source(project, project.source(side.source)))
         .where(exp.column(side.key, quoted=True).is_(exp.null()).not_())
         .group_by(key.copy()).having(exp.GT(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(1)))
         .order_by(exp.column("k")).limit(1))
    found = engine.records(q)
    if found:
        src = project.source(side.source)
        raise UserError([Problem(src.location.file, src.location.line, 0,
                                 f"source '{src.name}': key '{src.key}' is not unique: '{found[0]['k']}' appears on "
                                 f"{found[0]['n']} rows, so records cannot be matched one to one. fix the data, "
                                 "or choose a key that is unique per row")])


def _failing(side: Side, mask: int) -> list[str]:
    return [name for i, (name, _) in enumerate(side.clauses) if mask >> i & 1]


def reconcile(project: Project, engine, a_name: str, b_name: str, period: str) -> Bridge:
    for n in (a_name, b_name):
        if not project.has_metric(n):
            from accord.errors import did_you_mean
            raise _refuse(f"metric '{n}' is not defined.{did_you_mean(n, [m.name for m in project.metrics])}")
    a_m, b_m = project.metric(a_name), project.metric(b_name)
    try:
        calendar, start = parse_period(period, project.settings.fiscal_year_start)
    except ValueError as e:
        raise _refuse(f"--period {e}")
    a, b = _side(project, a_m, calendar, start, engine), _side(project, b_m, calendar, start, engine)
    for side in (a, b):
        if a.source != b.source and side.key is None:
            raise _refuse(f"source '{side.source}' has no key, so its records cannot be matched with another "
                          "source's. add key: <a column unique per row> to the source")
    ea, eb = project.source(a.source).entity, project.source(b.source).entity
    if a.source != b.source and (not ea or not eb or ea != eb):
        raise _refuse(f"'{a_name}' counts {ea or 'unstated entities'} ({a.source}) and '{b_name}' counts "
                      f"{eb or 'unstated entities'} ({b.source}): records of different entities cannot be matched. "
                      "set the same entity: on both sources if one row means the same thing")
    _refuse_without_data(project, engine, (a, b), calendar, start)
    if a.source != b.source:
        for side in (a, b):
            _refuse_duplicate_keys(project, engine, side)
    from accord.engine import EngineQueryError
    try:
        table = engine.query(bridge_query(project, a, b))
    except EngineQueryError as e:
        raise _refuse(f"the engine refused the bridge of '{a_name}' and '{b_name}': {e}. check both metrics "
                      f"with `accord compute {a_name} {b_name}`")
    steps: dict[tuple, Step] = {}
    total_a = total_b = Fraction(0)

    def add(kind, side, clause, delta, n, examples, combo=None):
        s = steps.setdefault((kind, side, clause), Step(kind, side, clause))
        s.delta += delta
        s.records += n
        s.examples = sorted(set(s.examples) | set(examples))[:EXAMPLES]
        if combo:
            s.combinations[combo] = s.combinations.get(combo, 0) + n

    for r in table.to_pylist():
        n, sa, sb = r["n"], Fraction(r["sa"] or 0), Fraction(r["sb"] or 0)
        counts_a = r["in_a"] and r["af"] == 0
        counts_b = r["in_b"] and r["bf"] == 0
        total_a += sa if counts_a else 0
        total_b += sb if counts_b else 0
        ex = r["examples"] or []
        if r["no_key"]:  # cannot be matched: each side's keyless records are their own step
            if counts_a:
                add("no-key", "a", None, -sa, n, ex)
            if counts_b:
                add("no-key", "b", None, sb, n, ex)
        elif counts_a and not r["in_b"]:
            add("only-in-a", "a", None, -sa, n, ex)
        elif counts_b and not r["in_a"]:
            add("only-in-b", "b", None, sb, n, ex)
        elif counts_a and counts_b:
            if r["differs"]:
                add("value-differs", None, None, sb - sa, n, ex)
        elif counts_a:
            _clause_step(add, "b", _failing(b, r["bf"]), -sa, n, ex)
        elif counts_b:
            _clause_step(add, "a", _failing(a, r["af"]), sb, n, ex)
    ordered = sorted((s for s in steps.values() if s.delta != 0),
                     key=lambda s: (-abs(s.delta), s.kind, s.side or "", s.clause or ""))
    return Bridge({"metric": a_name, "value": float(total_a), "source": a.source, "system": a.system},
                  {"metric": b_name, "value": float(total_b), "source": b.source, "system": b.system},
                  calendar.label(start), ordered)


def _clause_step(add, side: str, failing: list[str], delta: Fraction, n: int, examples: list[str]) -> None:
    if len(failing) == 1:
        add("clause", side, failing[0], delta, n, examples)
    else:
        add("several-clauses", side, None, delta, n, examples, " + ".join(failing))

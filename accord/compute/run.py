"""Compute metrics per period: one scan per source, then ratios and formulas from those values."""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal

from sqlglot import exp

from accord.compute.periods import Calendar
from accord.compute.plan import (SAMPLE_ROWS, MetricScan, ScanPlan, additive_zero, choose, clause_columns, day_after,
                                 filter_plan, grouped_plan, presence_query, rows_query, sample_query, shows_rows,
                                 unqualify)
from accord.compute.relations import TEXT_TYPES, Schema, file_state, from_source, local_time
from accord.engine import Engine, EngineQueryError
from accord.errors import Problem, UserError, did_you_mean
from accord.project.model import Metric, Project, Source
from accord.project.settings import resolve_today
from accord.project.references import fragment, metric_inputs
from accord.sql.expressions import check_formula, evaluate_formula
from accord.sql.errors import FragmentError


@dataclass(frozen=True)
class Row:
    metric: str
    period: str
    start: dt.date
    value: float | None
    complete: bool
    stale: bool = False          # after the last data of a source it reads: no data, not 0

    def as_dict(self) -> dict:
        return {"metric": self.metric, "period": self.period, "value": self.value, "complete": self.complete,
                "stale": self.stale}


@dataclass(frozen=True)
class LastData:
    """A source time column's latest time at or before as-of (None: no data up to then), and who reads it."""

    source: str
    column: str
    time: dt.datetime | None
    metrics: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"source": self.source, "time_column": self.column,
                "last_data": self.time.isoformat() if self.time else None, "metrics": list(self.metrics)}


@dataclass
class ComputeResult:
    grain: str
    today: dt.date
    rows: list[Row]
    dropped: dict[str, dict[str, int]]
    plans: dict[str, ScanPlan] = field(default_factory=dict)
    last_data: list[LastData] = field(default_factory=list)
    last_day: dict[str, dt.date | None] = field(default_factory=dict)   # per metric: its inputs' earliest last
    left_out: dict[str, int] = field(default_factory=dict)   # per metric: periods past one year after its data

    def series(self, metric: str) -> list[Row]:
        return [r for r in self.rows if r.metric == metric]

    def used(self, metric: str) -> list[Row]:
        """The metric's complete periods with data: what analyses read (the last one is the period they use)."""
        return [r for r in self.rows if r.metric == metric and r.complete and not r.stale]

    def left_out_notes(self) -> list[str]:
        """How many periods were left out more than a year past the data: one line per count and last day."""
        groups: dict[tuple[int, dt.date | None], list[str]] = {}
        for name, n in self.left_out.items():
            groups.setdefault((n, self.last_day.get(name)), []).append(name)
        return [f"{', '.join(names)}: {n:,} later {self.grain}{'s' if n != 1 else ''} with no data left out "
                f"(more than a year after the last data, {day.isoformat() if day else 'none'})"
                for (n, day), names in groups.items()]

    def as_dict(self) -> dict:
        out = {"grain": self.grain, "as_of": self.today.isoformat(),
               "rows": [r.as_dict() for r in self.rows], "dropped": self.dropped,
               "last_data": [s.as_dict() for s in self.last_data]}
        if self.left_out:
            out["left_out"] = self.left_out
        return out


def resolve_metrics(project: Project, names: list[str] | None) -> list[Metric]:
    """The requested metrics in definition order; unknown names are a user error."""
    if not names:
        return list(project.metrics)
    known = {m.name for m in project.metrics}
    bad = [n for n in names if n not in known]
    if bad:
        raise UserError([Problem("", 0, 0, f"metric '{n}' is not defined.{did_you_mean(n, known)} "
                                           "run `accord validate --verbose` to list metrics") for n in bad])
    wanted = set(names)
    return [m for m in project.metrics if m.name in wanted]


def _closure(project: Project, metrics: list[Metric]) -> list[Metric]:
    out: dict[str, Metric] = {}
    stack = list(metrics)
    while stack:
        m = stack.pop()
        if m.name in out:
            continue
        out[m.name] = m
        stack += [project.metric(r) for r in metric_inputs(m)]
    return [m for m in project.metrics if m.name in out]


def source_schema(engine: Engine, project: Project, source: Source) -> Schema:
    state, _ = file_state(project, source)
    if state in ("empty", "not parquet"):
        what = {"empty": "is empty: it has not even a header line. write the column names on its first line",
                "not parquet": "is not a Parquet file (it lacks Parquet's PAR1 markers). write it as Parquet, "
                               "or give it the ending of its format (.csv, .json)"}[state]
        raise UserError([Problem(source.location.file, source.location.line, 0,
                                 f"source '{source.name}': {source.path} {what}")])
    try:
        return Schema(engine.describe(from_source(project, source)))
    except EngineQueryError as e:
        if str(e).startswith("the file is not UTF-8"):
            raise UserError([Problem(source.location.file, source.location.line, 0,
                                     f"source '{source.name}': {source.path or 'the file'} is "
                                     f"{str(e)[len('the file is '):]}")]) from None
        raise UserError([Problem(source.location.file, source.location.line, 0,
                                 f"source '{source.name}' cannot be read: {e}. check the {source.origin}, "
                                 "and that the engine's user may SELECT from it")])


def check_columns(project: Project, source: Source, metrics: list[Metric], schema: Schema) -> list[Problem]:
    """Every column a metric reads exists in its source; one line per missing column. A fragment that does
    not parse is a load problem of its own and is passed over here."""
    out = []
    for m in metrics:
        reads = [("measure", "measure", m.measure)]
        reads += [(f"include.{i}.sql", f"include clause '{c.name}'", c.sql) for i, c in enumerate(m.include or ())]
        reads += [(f"exclude.{i}.sql", f"exclude clause '{c.name}'", c.sql) for i, c in enumerate(m.exclude or ())]
        for key, what, text in reads:
            try:
                tree = fragment(text)
            except FragmentError:
                continue
            for col in sorted({c.name for c in tree.find_all(exp.Column)}):
                if schema.find(col) is None:
                    loc = m.at(key)
                    out.append(Problem(loc.file, loc.line, 0, f"metric '{m.name}': {what} reads column '{col}', "
                                       f"which source '{source.name}' does not have.{did_you_mean(col, schema.columns)}"
                                       " fix the column name"))
        time = m.time or source.time
        if schema.find(time) is None:
            loc = m.at("time") if m.time else source.at("time")
            out.append(Problem(loc.file, loc.line, 0, f"time column '{time}' is not in source '{source.name}'."
                                                      f"{did_you_mean(time, schema.columns)} fix time:"))
    return out


def plan_source(engine: Engine, project: Project, source: Source, metrics: list[Metric], schema: Schema,
                calendar: Calendar, today: dt.date) -> ScanPlan:
    tz = project.settings.timezone
    times: list[str] = []
    scans = []
    for m in metrics:
        time = schema.find(m.time or source.time)
        if time not in times:
            times.append(time)
        scans.append(MetricScan(m.name, unqualify(fragment(m.measure)),
                                tuple(unqualify(fragment(c.sql)) for c in m.include or ()),
                                tuple(unqualify(fragment(c.sql)) for c in m.exclude or ()),
                                times.index(time)))
    locals_ = [local_time(schema, t, tz, Problem(source.location.file, source.location.line, 0,
                                                 f"time column '{t}' of source '{source.name}'")) for t in times]
    def period_of(i: int, t: exp.Expression) -> exp.Expression:
        start = calendar.start_sql(t.copy())
        return _past_current(start, t, calendar, today) if len(locals_) > 1 else start

    rows = rows_query(from_source(project, source), locals_, period_of, today)
    columns = clause_columns(scans)
    distinct: dict[str, int] = {}
    if columns:
        head = engine.sample(from_source(project, source), SAMPLE_ROWS)
        sample = _records(engine, source, sample_query(head, [schema.find(c) for c in columns]))[0]
        distinct = {schema.find(c): sample[f"__d{i}"] for i, c in enumerate(columns)}
    strategy, grouped = choose(scans, distinct)
    plan = grouped_plan(rows, scans, len(times), grouped) if strategy == "grouped" \
        else filter_plan(rows, scans, len(times))
    plan.notes = {"times": times, "distinct": distinct}
    return plan


def _past_current(period: exp.Expression, local: exp.Expression, calendar: Calendar,
                  today: dt.date) -> exp.Expression:
    """The period under one of several time columns, moved past the current period when that time is after today.

    With several time columns a row stays in the scan while any of its times is up to today; under a time
    after today it must count nowhere (not even in the current period) and not as a dropped NULL time.
    """
    after = day_after(today)
    if after is None:           # no time is after the last date there is
        return period
    cutoff = exp.Cast(this=exp.Literal.string(after.isoformat()), to=exp.DataType.build("DATE"))
    beyond = exp.Cast(this=exp.Literal.string(calendar.after(calendar.start(today)).isoformat()),
                      to=exp.DataType.build("DATE"))
    return exp.case().when(exp.GTE(this=local.copy(), expression=cutoff), beyond).else_(period)


def _number(v) -> float | None:
    if v is None:
        return None
    if isinstance(v, Decimal):
        v = float(v)
    if isinstance(v, bool):
        return float(v)
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _run_plan(engine: Engine, project: Project, source: Source, plan: ScanPlan, metrics: list[Metric],
              schema: Schema, today: dt.date) -> tuple[dict[str, dict[dt.date, tuple[float | None, int]]], dict[str, int], ScanPlan]:
    """Per metric, period start -> (value, rows) where rows > 0 when the period has any row; rows with no
    time; and the plan that gave them (`_scan`), its notes holding each time column's latest time up to
    today (`latest`, from the same scan).

    A metric whose plan count is only a bound (`plan.bounds`) gets its first period and its rows without
    time settled by `_settle`; its other counts say only whether its value proves rows.
    """
    records, plan = _scan(engine, source, plan)
    plan.notes["latest"] = [max((r[f"__l{t}"] for r in records if r[f"__l{t}"] is not None
                                 and r[f"__l{t}"].date() <= today and (plan.times == 1 or r[f"__g{t}"] == 0)),
                                default=None) for t in range(plan.times)]
    values: dict[str, dict[dt.date, tuple[float | None, int]]] = {m.name: {} for m in metrics}
    nulls: dict[str, int] = {}
    unsure: dict[int, dt.date] = {}      # metric -> its earliest period whose value proves no row
    unsure_nulls: set[int] = set()
    for i, scan in enumerate(plan.metrics):
        t = scan.time_index
        bound = i in plan.bounds
        for r in records:
            if plan.times > 1 and r[f"__g{t}"] != 0:
                continue
            start = r[f"__p{t}"]
            n = int(r[f"__n{i}"] or 0)
            if start is None:
                if n and bound:
                    unsure_nulls.add(i)
                elif n:
                    nulls[scan.name] = nulls.get(scan.name, 0) + n
                continue
            value = r[f"__m{i}"]
            if n and bound and not shows_rows(scan.measure, value):
                unsure[i] = min(start, unsure.get(i, start))
                n = 0
            values[scan.name][start] = (_number(value), n)
    if unsure or unsure_nulls:
        _settle(engine, source, plan, values, nulls, unsure, unsure_nulls)
    return values, nulls, plan


def _scan(engine: Engine, source: Source, plan: ScanPlan) -> tuple[list[dict], ScanPlan]:
    """The plan's records, or its exact twin's when a guarded total is not finite or the engine refused
    the multiplied sums (`grouped_plan`); a query the twin fails too is reported as the user's."""
    if not plan.guards:
        return _records(engine, source, plan.query), plan
    try:
        records = engine.records(plan.query)
    except EngineQueryError:
        records = None
    if records is not None and all(_finite(r[g]) for r in records for g in plan.guards):
        return records, plan
    exact = grouped_plan(plan.rows, plan.metrics, plan.times, plan.grouped_columns, multiply=False)
    exact.notes = plan.notes
    return _records(engine, source, exact.query), exact


def _finite(v) -> bool:
    return not isinstance(v, float) or math.isfinite(v)


def _settle(engine: Engine, source: Source, plan: ScanPlan, values: dict, nulls: dict[str, int],
            unsure: dict[int, dt.date], unsure_nulls: set[int]) -> None:
    """Bounded counts made exact where they matter: a metric's first period and its rows without time.

    A period whose value proves no row may still hold rows (a sum of zeros); it matters only before the
    first period whose value proves rows, so one small query looks only there.
    """
    before: dict[int, dt.date | None] = {}
    for i, earliest in unsure.items():
        name = plan.metrics[i].name
        proven = [d for d, (_, n) in values[name].items() if n]
        first = min(proven) if proven else None
        if first is None or earliest < first:
            before[i] = first
    if not before and not unsure_nulls:
        return
    found = _records(engine, source, presence_query(plan.rows, plan.metrics, before, unsure_nulls))[0]
    for i in before:
        name = plan.metrics[i].name
        start = found[f"__f{i}"]
        if start is not None:
            values[name][start] = (values[name].get(start, (None, 0))[0], 1)
    for i in unsure_nulls:
        if found[f"__z{i}"]:
            nulls[plan.metrics[i].name] = int(found[f"__z{i}"])


def _records(engine: Engine, source: Source, query: exp.Expression) -> list[dict]:
    try:
        return engine.records(query)
    except EngineQueryError as e:
        raise UserError([Problem(source.location.file, source.location.line, 0,
                                 f"source '{source.name}': the engine refused a metric over it: {e}. "
                                 "check the measures and clauses of its metrics")])


def _unparsed_time(engine: Engine, project: Project, source: Source, schema: Schema, column: str) -> str | None:
    """A text value of the time column that is not NULL and yet reads as no time, the way compute reads it,
    with the row's key when the source has one."""
    col = exp.column(schema.find(column), quoted=True)
    read = local_time(schema, column, project.settings.timezone, Problem("", 0, 0, ""))
    bad = exp.and_(exp.Not(this=exp.Is(this=col.copy(), expression=exp.null())),
                   exp.Is(this=read, expression=exp.null()))
    key = schema.find(source.key) if source.key else None
    picks = [exp.alias_(col, "example")] + ([exp.alias_(exp.column(key, quoted=True), "key")] if key else [])
    found = engine.records(exp.select(*picks).from_(from_source(project, source)).where(bad).limit(1))
    if not found:
        return None
    row = found[0]
    return f"'{row['example']}'" + (f" (on the row with {source.key} '{row['key']}')" if key else "")


def time_problems(engine: Engine, project: Project, source: Source, schema: Schema,
                  columns: list[str]) -> list[Problem]:
    """A text time column holding a value that reads as no time: one line with an example row."""
    for t in columns:
        if schema.find(t) is None or schema.type_of(t) not in TEXT_TYPES:
            continue
        example = _unparsed_time(engine, project, source, schema, t)
        if example is not None:
            loc = source.at("time")
            return [Problem(loc.file, loc.line, 0, f"source '{source.name}': time column '{t}' holds {example}, "
                                                   "which is not a date or timestamp. fix the data or choose "
                                                   "another time column")]
    return []


# aggregates that take text as it is: a text column inside one of them is no problem
_TEXT_AGGREGATES = (exp.Count, exp.Min, exp.Max, exp.AnyValue, exp.First, exp.Last, exp.ApproxDistinct,
                    exp.GroupConcat, exp.ArrayAgg)


# what a value passes through on its way into an aggregate as a number
_NUMERIC_PATH = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.Paren, exp.Cast, exp.TryCast,
                 exp.Coalesce, exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Greatest, exp.Least, exp.Case)


def _used_as_number(column: exp.Column) -> bool:
    """The column's value reaches its aggregate as a number (`sum(amount)`, `sum(case when … then amount end)`),
    not as text compared or passed to a function (`sum(case when status = 'won' then 1 end)`)."""
    child, node = column, column.parent
    while node is not None and not isinstance(node, exp.AggFunc):
        if isinstance(node, exp.If):
            if child is node.this:          # the condition of a WHEN
                return False
        elif not isinstance(node, _NUMERIC_PATH):
            return False
        child, node = node, node.parent
    return node is not None


def measure_problems(engine: Engine, project: Project, source: Source, metrics: list[Metric],
                     schema: Schema) -> list[Problem]:
    """A measure the engine cannot apply to a text column (sum(amount) where amount holds 'abc'): one line at
    the measure, with an example value. Only measures that read a text column are asked about."""
    out = []
    for m in metrics:
        try:
            tree = fragment(m.measure)
        except FragmentError:  # reported as a load problem
            continue
        texts = sorted({schema.find(c.name) for c in tree.find_all(exp.Column)
                        if schema.find(c.name) is not None and schema.type_of(c.name) in TEXT_TYPES
                        and not isinstance(c.find_ancestor(exp.AggFunc), _TEXT_AGGREGATES)
                        and _used_as_number(c)})
        if not texts:
            continue
        col = exp.column(texts[0], quoted=True)
        not_number = exp.and_(exp.Not(this=exp.Is(this=col.copy(), expression=exp.null())),
                              exp.Is(this=exp.TryCast(this=col.copy(), to=exp.DataType.build("DOUBLE")),
                                     expression=exp.null()))
        found = engine.records(exp.select(exp.alias_(col, "example")).from_(from_source(project, source))
                               .where(not_number).limit(1))
        if not found:
            continue   # text that reads as numbers: the engine casts it
        such = f", such as '{found[0]['example']}'"
        loc = m.at("measure")
        out.append(Problem(loc.file, loc.line, 0, f"metric '{m.name}': measure '{m.measure}' reads column "
                                                  f"'{texts[0]}', which holds text in source '{source.name}'{such}. "
                                                  "fix the data, or measure a numeric column"))
    return out


def compute(project: Project, engine: Engine, names: list[str] | None = None, grain: str = "month",
            today: dt.date | None = None, since: dt.date | None = None, until: dt.date | None = None,
            progress=None) -> ComputeResult:
    """Every requested metric for every period from its first with data to the current one.

    Today is `today`, else `settings.as_of`, else the clock in `settings.timezone`.
    """
    today = resolve_today(today, project.settings)
    calendar = Calendar(grain, project.settings.fiscal_year_start)
    wanted = resolve_metrics(project, names)
    needed = _closure(project, wanted)
    by_source: dict[str, list[Metric]] = {}
    for m in needed:
        if m.kind == "simple":
            by_source.setdefault(m.source, []).append(m)

    schemas = {name: source_schema(engine, project, project.source(name)) for name in by_source}
    problems = [p for name, ms in by_source.items()
                for p in check_columns(project, project.source(name), ms, schemas[name])]
    if problems:
        raise UserError(problems)

    raw: dict[str, dict[dt.date, tuple[float | None, int]]] = {}
    dropped: dict[str, dict[str, int]] = {}
    plans: dict[str, ScanPlan] = {}
    last_data: list[LastData] = []
    last_day: dict[str, dt.date | None] = {}
    for name, ms in by_source.items():
        source = project.source(name)
        if progress:
            progress(f"scanning {name} for {len(ms)} metric{'s' if len(ms) != 1 else ''}")
        try:
            plan = plan_source(engine, project, source, ms, schemas[name], calendar, today)
            values, nulls, plan = _run_plan(engine, project, source, plan, ms, schemas[name], today)
        except UserError:
            # the engine refused: a measure over a text column is said at the measure, with an example value
            worded = measure_problems(engine, project, source, ms, schemas[name])
            if worded:
                raise UserError(worded) from None
            raise
        plans[name] = plan
        for t in plan.notes["times"]:
            if any(nulls.get(m.name) for m in ms):
                problems = time_problems(engine, project, source, schemas[name], [t])
                if problems:
                    raise UserError(problems)
        raw.update(values)
        for m in ms:
            if nulls.get(m.name):
                dropped[m.name] = {"null_time": nulls[m.name]}
        for t, (column, latest) in enumerate(zip(plan.notes["times"], plan.notes["latest"])):
            readers = tuple(s.name for s in plan.metrics if s.time_index == t)
            last_data.append(LastData(name, column, latest, readers))
            for reader in readers:
                last_day[reader] = _as_date(latest)

    current = calendar.start(today)
    firsts: dict[str, dt.date | None] = {}
    zeros: dict[str, float | None] = {}
    for m in needed:
        if m.kind == "simple":
            present = [d for d, (_, n) in raw[m.name].items() if n and d <= current]
            firsts[m.name] = min(present) if present else None
            zeros[m.name] = 0.0 if additive_zero(fragment(m.measure)) else None
    value = _Values(project, raw, zeros)
    rows = []
    left_out: dict[str, int] = {}
    for m in wanted:
        first = _first(project, m, firsts)
        if first is None:
            continue
        last = _last_day(project, m, last_day)
        end, after = current, None
        if last is not None and _year_after(last) < current:
            end = calendar.start(_year_after(last))
            after = calendar.next(end)
        stale_from = calendar.after(calendar.start(last)) if last is not None else first
        for d in calendar.span(first, end):
            if (since and d < since) or (until and d > until):
                continue
            stale = d >= stale_from
            rows.append(Row(m.name, calendar.label(d), d, None if stale else value.at(m.name, d),
                            calendar.complete(d, today), stale))
        if after is not None:
            if since and since > after:
                after = since if calendar.start(since) == since else calendar.after(calendar.start(since))
            more = calendar.count(after, min(current, calendar.start(until)) if until else current)
            if more:
                left_out[m.name] = more
    return ComputeResult(grain, today, rows, dropped, plans, last_data,
                         {m.name: _last_day(project, m, last_day) for m in wanted}, left_out)


def _as_date(t: dt.datetime | dt.date | None) -> dt.date | None:
    return t.date() if isinstance(t, dt.datetime) else t


def _year_after(day: dt.date) -> dt.date:
    """The same day a year later (28 February after a 29th); the last date there is at the end of time."""
    try:
        return day.replace(year=day.year + 1)
    except ValueError:
        return dt.date.max if day.year == dt.MAXYEAR else day.replace(year=day.year + 1, day=28)


def _last_day(project: Project, m: Metric, last_day: dict[str, dt.date | None]) -> dt.date | None:
    """The day of a metric's last data: its time column's latest time; a ratio's or formula's is the
    earliest of its inputs' (stale when any input is). None when no input has data up to as-of."""
    if m.name not in last_day:
        days = [d for r in metric_inputs(m) if (d := _last_day(project, project.metric(r), last_day))]
        last_day[m.name] = min(days) if days else None
    return last_day[m.name]


def _value(found: tuple[float | None, int] | None, zero: float | None) -> float | None:
    """A period's value: what SQL gave, or 0 for a count or sum with nothing to add up."""
    if found is None or found[1] == 0 or found[0] is None:
        return zero
    return found[0]


def _first(project: Project, m: Metric, firsts: dict[str, dt.date | None]) -> dt.date | None:
    """A simple metric's first period with data; a ratio's or formula's is the earliest of its inputs'."""
    if m.name not in firsts:
        starts = [s for r in metric_inputs(m) if (s := _first(project, project.metric(r), firsts))]
        firsts[m.name] = min(starts) if starts else None
    return firsts[m.name]


class _Values:
    """Any metric's value in any period up to the current one.

    An input is read in every period of the metric that reads it, also before its own first period:
    a count or sum with no rows yet is 0 there (net_new_arr = new_arr - churned_arr before any churn).
    """

    def __init__(self, project: Project, raw: dict, zeros: dict[str, float | None]):
        self._project, self._raw, self._zeros = project, raw, zeros
        self._memo: dict[tuple[str, dt.date], float | None] = {}
        self._formulas: dict[str, exp.Expression] = {}

    def at(self, name: str, d: dt.date) -> float | None:
        key = (name, d)
        if key not in self._memo:
            self._memo[key] = self._compute(self._project.metric(name), d)
        return self._memo[key]

    def _compute(self, m: Metric, d: dt.date) -> float | None:
        if m.kind == "simple":
            return _value(self._raw[m.name].get(d), self._zeros[m.name])
        if m.kind == "ratio":
            num, den = self.at(m.ratio.numerator, d), self.at(m.ratio.denominator, d)
            return None if num is None or not den else num / den
        if m.name not in self._formulas:
            tree = fragment(m.formula)
            check_formula(tree)
            self._formulas[m.name] = tree
        return evaluate_formula(self._formulas[m.name], {r: self.at(r, d) for r in metric_inputs(m)})

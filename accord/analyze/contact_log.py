"""The contact log: every team's touches of each customer as one relation, and the periods customers are in.

Each touch source of the contact policy becomes one SELECT of (customer as text, its index in the policy,
its local time as epoch microseconds); the log is their UNION ALL. Times are read in `settings.timezone`
as naive wall-clock values, so the time of day is the microseconds modulo one day. Touches after today
and rows without a customer or a time are left out. Periods (cases and other states) and outcomes are
read the same way.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlglot import exp

from accord.compute.relations import DATE_TYPES, TEXT_TYPES, Schema, from_source, local_time
from accord.compute.run import source_schema
from accord.errors import Problem, UserError, did_you_mean
from accord.findings import Location
from accord.project.model import ContactPolicy, Project

MICROS_PER_DAY = 86_400_000_000
OPEN = 2**63 - 1                  # the resolved time of a period still open
OPEN_CASE = "open_case"
_EPOCH = dt.datetime(1970, 1, 1)
_DATE_ONLY = r"^\s*\d{4}-\d{1,2}-\d{1,2}\s*$"


@dataclass(frozen=True)
class Label:
    """Where a touch's channel or subject is read: a column of its source, or a column of another source
    found by that source's key (a campaign's name from the campaign id on the email send)."""

    column: str
    lookup: str | None = None      # the other source
    via: str | None = None         # the touch source's column holding the other source's key
    lookup_key: str | None = None


@dataclass(frozen=True)
class Channel:
    """One touch source of the policy: the team that reaches customers through it, and its columns."""

    index: int
    source: str
    team: str
    customer: str
    time: str
    key: str | None
    channel: Label | None = None
    subject: Label | None = None


@dataclass(frozen=True)
class PeriodSource:
    """One source of periods a customer is in (a state): opened ≤ t < resolved, no resolved = still open."""

    state: str
    source: str
    customer: str
    opened: str
    resolved: str | None


@dataclass(frozen=True)
class OutcomeSource:
    source: str
    customer: str
    time: str
    by_day: bool            # a DATE column: outcomes are compared by day


def micros(t: dt.datetime) -> int:
    """A naive local datetime as the log's epoch microseconds."""
    return (t - _EPOCH) // dt.timedelta(microseconds=1)


def from_micros(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=int(us))


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _text(e: exp.Expression) -> exp.Expression:
    return exp.Cast(this=e, to=exp.DataType.build("VARCHAR"))


def _timestamp(value: dt.date) -> exp.Expression:
    return exp.Cast(this=exp.Literal.string(value.isoformat()), to=exp.DataType.build("TIMESTAMP"))


def _epoch_us(e: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="epoch_us", expressions=[e])


def _not_null(e: exp.Expression) -> exp.Expression:
    return exp.Not(this=exp.Is(this=e, expression=exp.null()))


def one_of(customers: list[str]) -> exp.Expression:
    """A subquery of the given customer ids, passed as one JSON literal (any text, any number of them)."""
    ids = exp.Anonymous(this="from_json", expressions=[exp.Literal.string(json.dumps(list(customers))),
                                                        exp.Literal.string('["VARCHAR"]')])
    return exp.select(exp.Anonymous(this="unnest", expressions=[ids]))


def _and(parts: list[exp.Expression]) -> exp.Expression:
    return exp.and_(*parts)


def _union(selects: list[exp.Select]) -> exp.Expression:
    out: exp.Expression = selects[0]
    for s in selects[1:]:
        out = exp.Union(this=out, expression=s, distinct=False)
    return out


class ContactLog:
    """The relations of one contact policy, checked against the sources' columns, as of one day."""

    def __init__(self, project: Project, engine, today: dt.date):
        policy = project.contact_policy
        if policy is None:
            raise UserError("the project has no contact_policy. add one to a definitions file: the customer "
                            "column, the touch sources (source, team, time) and the rules")
        self.project, self.policy, self.engine, self.today = project, policy, engine, today
        # the end of today; on the last date there is, the last instant there is
        self.cutoff = dt.datetime.combine(today + dt.timedelta(days=1), dt.time()) if today < dt.date.max \
            else dt.datetime.max
        self._schemas: dict[str, Schema] = {}
        problems: list[Problem] = []
        self.channels = tuple(self._channels(problems))
        self.periods = tuple(self._periods(problems))
        self.outcome = self._outcome(problems)
        if problems:
            raise UserError(problems)
        self._check_text_times()

    # ------------------------------------------------------------ reading the policy

    def _schema(self, source: str, where: Location, problems: list[Problem]) -> Schema | None:
        names = [s.name for s in self.project.sources]
        if source not in names:
            problems.append(Problem(where.file, where.line, 0, f"contact_policy names source '{source}', which is "
                                    f"not defined.{did_you_mean(source, names)} define it under sources:"))
            return None
        if source not in self._schemas:
            self._schemas[source] = source_schema(self.engine, self.project, self.project.source(source))
        return self._schemas[source]

    def _column(self, schema: Schema, source: str, column: str, where: Location, what: str,
                problems: list[Problem]) -> str | None:
        found = schema.find(column)
        if found is None:
            problems.append(Problem(where.file, where.line, 0, f"contact_policy: {what} column '{column}' is not in "
                                    f"source '{source}'.{did_you_mean(column, schema.columns)} fix the column name"))
        return found

    def _time(self, schema: Schema, source: str, column: str, where: Location, what: str,
              problems: list[Problem]) -> str | None:
        found = self._column(schema, source, column, where, what, problems)
        if found is not None:
            try:
                self._local(source, found)
            except UserError as e:
                problems += [Problem(where.file, where.line, 0, p.message) for p in e.problems]
                return None
        return found

    def _channels(self, problems: list[Problem]):
        p = self.policy
        for i, touch in enumerate(p.touches):
            schema = self._schema(touch.source, p.at(f"touches.{i}.source"), problems)
            if schema is None:
                continue
            customer = self._column(schema, touch.source, touch.customer or p.customer,
                                    p.at(f"touches.{i}.customer" if touch.customer else "customer"),
                                    "customer", problems)
            time = self._time(schema, touch.source, touch.time, p.at(f"touches.{i}.time"), "time", problems)
            key = self.project.source(touch.source).key
            labels = [self._label(schema, touch.source, getattr(touch, what), p.at(f"touches.{i}.{what}"), what,
                                  problems) for what in ("channel", "subject")]
            if customer and time:
                yield Channel(i, touch.source, touch.team, customer, time, schema.find(key) if key else None,
                              *labels)

    def _label(self, schema: Schema, source: str, given: str | None, where: Location, what: str,
               problems: list[Problem]) -> Label | None:
        """A touch's channel or subject: the column named, `source.column` through that source's key, or
        else the source's own column called `channel` / `subject` when it has one."""
        if given is None:
            found = schema.find(what)
            return Label(found) if found else None
        names = {s.name for s in self.project.sources}
        other, _, column = given.partition(".")
        if column and other in names and schema.find(given) is None:
            lookup = self.project.source(other)
            if not lookup.key:
                problems.append(Problem(where.file, where.line, 0, f"contact_policy: {what} '{given}' looks up "
                                        f"source '{other}', which has no key. give it key: (the column the "
                                        "touches refer to it by)"))
                return None
            via = schema.find(lookup.key)
            if via is None:
                problems.append(Problem(where.file, where.line, 0, f"contact_policy: {what} '{given}' looks up "
                                        f"source '{other}' by its key '{lookup.key}', which source '{source}' "
                                        f"does not have. add the key column to '{source}', or name a column of it"))
                return None
            theirs = self._schema(other, where, problems)
            found = self._column(theirs, other, column, where, what, problems) if theirs else None
            return Label(found, other, via, theirs.find(lookup.key)) if found else None
        found = self._column(schema, source, given, where, what, problems)
        return Label(found) if found else None

    def _periods(self, problems: list[Problem]):
        p = self.policy
        listed = ([(OPEN_CASE, p.cases, "cases")] if p.cases else []) + \
            [(s.name, s, f"states.{i}") for i, s in enumerate(p.states)]
        for state, period, at in listed:
            schema = self._schema(period.source, p.at(f"{at}.source"), problems)
            if schema is None:
                continue
            customer = self._column(schema, period.source, period.customer or p.customer,
                                    p.at(f"{at}.customer" if period.customer else "customer"), "customer", problems)
            opened = self._time(schema, period.source, period.opened, p.at(f"{at}.opened"), "opened", problems)
            resolved = self._time(schema, period.source, period.resolved, p.at(f"{at}.resolved"), "resolved",
                                  problems) if period.resolved else None
            if customer and opened and (resolved or not period.resolved):
                yield PeriodSource(state, period.source, customer, opened, resolved)

    def _outcome(self, problems: list[Problem]) -> OutcomeSource | None:
        o = self.policy.outcome
        if o is None:
            return None
        schema = self._schema(o.source, self.policy.at("outcome.source"), problems)
        if schema is None:
            return None
        customer = self._column(schema, o.source, o.customer or self.policy.customer,
                                self.policy.at("outcome.customer" if o.customer else "customer"), "customer", problems)
        time = self._time(schema, o.source, o.time, self.policy.at("outcome.time"), "time", problems)
        if customer and time:
            return OutcomeSource(o.source, customer, time, schema.type_of(time) in DATE_TYPES)
        return None

    def _local(self, source: str, column: str) -> exp.Expression:
        schema = self._schemas[source]
        where = Problem("", 0, 0, f"time column '{column}' of source '{source}'")
        return exp.Cast(this=local_time(schema, column, self.project.settings.timezone, where),
                        to=exp.DataType.build("TIMESTAMP"))

    def _check_text_times(self) -> None:
        """A text time that is neither empty nor a date or timestamp is an error naming source, column and value."""
        used = [(c.source, c.time) for c in self.channels] + \
            [(p.source, col) for p in self.periods for col in (p.opened, p.resolved) if col]
        if self.outcome:
            used.append((self.outcome.source, self.outcome.time))
        for source, column in dict.fromkeys(used):
            if self._schemas[source].type_of(column) not in TEXT_TYPES:
                continue
            raw = _col(column)
            given = _not_null(exp.Nullif(this=exp.Trim(this=raw.copy()), expression=exp.Literal.string("")))
            bad = exp.and_(given, exp.Is(this=self._local(source, column), expression=exp.null()))
            found = self.engine.query(exp.select(raw.copy()).from_(self._from(source)).where(bad).limit(1))
            if found.num_rows:
                loc = self.project.source(source).location
                raise UserError([Problem(loc.file, loc.line, 0, f"source '{source}': time column '{column}' holds "
                                         f"'{found.column(0)[0].as_py()}', which is not a date or timestamp. "
                                         "fix the data or choose another time column")])

    def _from(self, source: str) -> exp.Expression:
        return from_source(self.project, self.project.source(source))

    # ------------------------------------------------------------ relations

    @property
    def teams(self) -> list[str]:
        """Every team that touches customers, in policy order."""
        return list(dict.fromkeys(c.team for c in self.channels))

    def channels_of(self, teams: tuple[str, ...] | None) -> list[int]:
        """The indexes of the channels of these teams (all channels when None)."""
        return [c.index for c in self.channels if teams is None or c.team in teams]

    @property
    def team_of(self) -> dict[int, str]:
        """The team of each touch source index."""
        return {c.index: c.team for c in self.channels}

    def _customer_filter(self, column: str, customers: list[str] | None) -> list[exp.Expression]:
        if customers is None:
            return []
        return [exp.In(this=_text(_col(column)), query=exp.Subquery(this=one_of(customers)))]

    def touches(self, customers: list[str] | None = None, detail: bool = False,
                key: bool = False) -> exp.Expression:
        """(customer, s, us, timed[, r][, k]) for every touch up to today.

        `s` is the touch source's index in the policy, `timed` is false where the time has no time of day
        (a DATE, or ISO text holding only a date), `r` the row's order in its source, `k` its key as text.
        """
        selects = []
        for c in self.channels:
            kind = self._schemas[c.source].type_of(c.time)
            local = self._local(c.source, c.time)
            timed: exp.Expression = exp.false() if kind in DATE_TYPES else exp.true()
            if kind in TEXT_TYPES:
                timed = exp.Not(this=exp.Anonymous(this="regexp_matches",
                                                   expressions=[_col(c.time), exp.Literal.string(_DATE_ONLY)]))
            cols = [exp.alias_(_text(_col(c.customer)), "customer"), exp.alias_(exp.Literal.number(c.index), "s"),
                    exp.alias_(_epoch_us(local.copy()), "us"), exp.alias_(timed, "timed")]
            if detail:
                cols.append(exp.alias_(exp.Window(this=exp.RowNumber(), over="OVER"), "r"))
            if key:
                cols.append(exp.alias_(_text(_col(c.key)) if c.key else exp.cast(exp.null(), "VARCHAR"), "k"))
            where = [_not_null(_col(c.customer)), _not_null(local.copy()),
                     exp.LT(this=local.copy(), expression=_timestamp(self.cutoff.date()))]
            where += self._customer_filter(c.customer, customers)
            selects.append(exp.select(*cols).from_(self._from(c.source)).where(_and(where)))
        return _union(selects)

    def periods_of(self, states: list[str] | None = None, customers: list[str] | None = None) -> exp.Expression | None:
        """(state, customer, opened, resolved) of every period opened by today, as epoch microseconds.

        Only periods with opened ≤ resolved count; a period not resolved (empty, or no resolved column)
        has resolved = OPEN, after any time.
        """
        selects = []
        for p in self.periods:
            if states is not None and p.state not in states:
                continue
            opened = self._local(p.source, p.opened)
            resolved = self._local(p.source, p.resolved) if p.resolved else exp.cast(exp.null(), "TIMESTAMP")
            where = [_not_null(_col(p.customer)), _not_null(opened.copy()),
                     exp.LT(this=opened.copy(), expression=_timestamp(self.cutoff.date())),
                     exp.or_(exp.Is(this=resolved.copy(), expression=exp.null()),
                             exp.GT(this=resolved.copy(), expression=opened.copy())),
                     *self._customer_filter(p.customer, customers)]
            until = exp.Coalesce(this=_epoch_us(resolved), expressions=[exp.Literal.number(OPEN)])
            selects.append(exp.select(exp.alias_(exp.Literal.string(p.state), "state"),
                                      exp.alias_(_text(_col(p.customer)), "customer"),
                                      exp.alias_(_epoch_us(opened), "opened"), exp.alias_(until, "resolved"))
                           .from_(self._from(p.source)).where(_and(where)))
        return _union(selects) if selects else None

    def labels(self, customers: list[str]) -> exp.Expression | None:
        """(s, k, channel, subject) of these customers' touches in the sources that have a key and a
        channel or subject, as text; None when no source has either."""
        selects = []
        for c in self.channels:
            if not c.key or not (c.channel or c.subject):
                continue
            t = exp.Subquery(this=exp.select("*").from_(self._from(c.source)), alias=exp.TableAlias(this=exp.to_identifier("t")))
            query = exp.select(exp.alias_(exp.Literal.number(c.index), "s"),
                               exp.alias_(_text(exp.column(c.key, "t", quoted=True)), "k"),
                               *[exp.alias_(self._label_value(label, name), name)
                                 for label, name in ((c.channel, "channel"), (c.subject, "subject"))]).from_(t)
            for n, label in enumerate((c.channel, c.subject)):
                if label is not None and label.lookup:
                    alias = f"l{n}"
                    inner = exp.Subquery(this=exp.select("*").from_(self._from(label.lookup)),
                                         alias=exp.TableAlias(this=exp.to_identifier(alias)))
                    on = exp.EQ(this=_text(exp.column(label.via, "t", quoted=True)),
                                expression=_text(exp.column(label.lookup_key, alias, quoted=True)))
                    query = query.join(inner, on=on, join_type="left")
            where = [_not_null(exp.column(c.key, "t", quoted=True)),
                     exp.In(this=_text(exp.column(c.customer, "t", quoted=True)), query=exp.Subquery(this=one_of(customers)))]
            selects.append(query.where(_and(where)))
        return _union(selects) if selects else None

    @staticmethod
    def _label_value(label: Label | None, name: str) -> exp.Expression:
        if label is None:
            return exp.cast(exp.null(), "VARCHAR")
        table = ("l0" if name == "channel" else "l1") if label.lookup else "t"
        return _text(exp.column(label.column, table, quoted=True))

    def outcome_rows(self, customers: list[str] | None = None) -> exp.Expression:
        """(customer, us) of every outcome event up to today."""
        o = self.outcome
        local = self._local(o.source, o.time)
        where = [_not_null(_col(o.customer)), _not_null(local.copy()),
                 exp.LT(this=local.copy(), expression=_timestamp(self.cutoff.date())),
                 *self._customer_filter(o.customer, customers)]
        return (exp.select(exp.alias_(_text(_col(o.customer)), "customer"), exp.alias_(_epoch_us(local), "us"))
                .from_(self._from(o.source)).where(_and(where)))


def policy_problems(project: Project) -> bool:
    """True when the policy names a source or state that does not exist (a finding of its own already)."""
    p: ContactPolicy | None = project.contact_policy
    if p is None:
        return True
    sources = {s.name for s in project.sources}
    named = [t.source for t in p.touches] + [s.source for s in p.states] + \
        ([p.cases.source] if p.cases else []) + ([p.outcome.source] if p.outcome else [])
    states = {s.name for s in p.states} | ({OPEN_CASE} if p.cases else set())
    return any(n not in sources for n in named) or any(r.while_ and r.while_ not in states for r in p.rules)

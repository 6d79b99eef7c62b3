"""The contact rules: what caps, blocks and quiet hours mean, for the batch analysis and the arbiter alike.

One module holds the rules' semantics. A cap counts the touches of its teams sent in the trailing window
(t − within, t]; ties are taken in order (time, policy source order, row order) and a touch it refuses is
never sent, so it never counts. A block holds a touch of its teams while the customer is in its state
(opened ≤ t < resolved; no resolved: still open). Quiet hours hold a timed touch of their teams whose
local time of day is in [from, to), across midnight when from > to (from = to: never). `judge` applies the
whole policy at once to one touch, given what the customer was sent and the periods it is in: the batch
analysis walks the log through it (`joint_walk`), the arbiter calls it for each claim. The SQL and numpy
below are the same definitions evaluated over the whole log at once (tests hold them equal).

Caps take one window query over the touches, partitioned by customer and ordered by time: per customer,
the most touches of each cap inside one trailing window. A RANGE frame takes every touch at the same
time at once, so its count is that of the last of tied touches: the largest count per customer is the
same as when ties are ordered one by one, and says exactly which customers are ever over the cap. Only
their touches are then read in order (time, policy source order, row order) and walked in Python
(`cap_marks`): the position of each touch in its trailing window, and the real-time cap simulated touch
by touch, where a refused touch is never sent.

Blocks and quiet hours need no order: a block is a semi-join of the blocked teams' touches with the
customer's periods in its state (opened ≤ t < resolved), quiet hours a filter on the local time of day.
Their hits are counted per customer and per week in one more query. Only the columns a window needs
pass through it: that sort is what a run costs.
"""
from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from sqlglot import exp

from accord.analyze.contact_log import MICROS_PER_DAY, OPEN, OPEN_CASE, ContactLog
from accord.errors import Problem, UserError
from accord.findings import Location
from accord.project.durations import parse_duration
from accord.project.model import ContactPolicy, Rule
from accord.sql.expressions import holds

_MICRO = dt.timedelta(microseconds=1)
_WEEK_SHIFT = 3 * MICROS_PER_DAY        # 1970-01-01 was a Thursday; weeks start on Monday
WEEK_MICROS = 7 * MICROS_PER_DAY


@dataclass(frozen=True)
class RuleSpec:
    """One rule with what evaluating it needs: its channels, window and state index."""

    index: int
    rule: Rule
    location: Location
    channels: tuple[int, ...]          # the touch channels the rule counts (cap, quiet) or blocks (block)
    teams: frozenset[str] | None       # the teams it counts or blocks; None: every team
    within_us: int = 0                 # cap
    state: int | None = None           # block: index into RulePlan.states
    quiet: tuple[int, int] = (0, 0)    # quiet: [from, to) in microseconds after midnight

    @property
    def kind(self) -> str:
        return self.rule.kind

    @property
    def name(self) -> str:
        return self.rule.name

    def applies(self, team: str) -> bool:
        return self.teams is None or team in self.teams


@dataclass(frozen=True)
class RulePlan:
    rules: tuple[RuleSpec, ...]
    states: tuple[str, ...]            # the states that blocks refer to, in first-use order

    def of_kind(self, kind: str) -> list[RuleSpec]:
        return [r for r in self.rules if r.kind == kind]


def _clock(text: str, where: Location, what: str) -> int:
    hours, minutes = (int(x) for x in text.split(":"))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise UserError([Problem(where.file, where.line, 0, f"quiet hours: '{text}' is not a time of day. "
                                 f"write {what} as HH:MM, such as 20:00")])
    return (hours * 60 + minutes) * 60_000_000


def plan_rules(log: ContactLog) -> RulePlan:
    """Each rule of the policy resolved against the log; a block on an unknown state is a user error."""
    return plan_policy(log.policy, [(c.index, c.team) for c in log.channels], {p.state for p in log.periods})


def policy_states(policy: ContactPolicy) -> list[str]:
    """The states the policy defines: open_case when it names cases, then its states."""
    return ([OPEN_CASE] if policy.cases else []) + [s.name for s in policy.states]


def plan_policy(policy: ContactPolicy, channels: Sequence[tuple[int, str]], known: set[str]) -> RulePlan:
    """Each rule resolved against the touch channels (index, team) and the known states."""
    states: list[str] = []
    specs, problems = [], []

    def of(teams: tuple[str, ...] | None) -> tuple[tuple[int, ...], frozenset[str] | None]:
        return (tuple(i for i, team in channels if teams is None or team in teams),
                None if teams is None else frozenset(teams))

    for i, rule in enumerate(policy.rules):
        where = policy.at(f"rules.{i}")
        if rule.kind == "cap":
            within = parse_duration(rule.within) // _MICRO
            if within <= 0:
                loc = policy.at(f"rules.{i}.within")
                problems.append(Problem(loc.file, loc.line, 0, f"rule '{rule.name}' caps touches within "
                                        f"{rule.within}, an empty window. write a longer one, such as 48h"))
                continue
            specs.append(RuleSpec(i, rule, where, *of(rule.teams), within_us=within))
        elif rule.kind == "block":
            if rule.while_ not in known:
                loc = policy.at(f"rules.{i}.while")
                problems.append(Problem(loc.file, loc.line, 0, f"rule '{rule.name}' blocks while '{rule.while_}', "
                                        "which is no state of the policy. add it under states: or fix while:"))
                continue
            if rule.while_ not in states:
                states.append(rule.while_)
            specs.append(RuleSpec(i, rule, where, *of(rule.block_teams), state=states.index(rule.while_)))
        else:
            start = _clock(rule.quiet.from_, policy.at(f"rules.{i}.quiet.from"), "from")
            end = _clock(rule.quiet.to, policy.at(f"rules.{i}.quiet.to"), "to")
            specs.append(RuleSpec(i, rule, where, *of(rule.teams),
                                  quiet=(start % MICROS_PER_DAY, end % MICROS_PER_DAY)))
    if problems:
        raise UserError(problems)
    return RulePlan(tuple(specs), tuple(states))


# ---------------------------------------------------------------- the rules, one touch at a time

def in_window(spec: RuleSpec, us: int, other: int) -> bool:
    """A cap counts a touch at `other` against one at `us` when it lies within the window around it.

    In time order (the batch walk) that is the trailing window (us − within, us]; a claim made out of order
    also counts the touches already sent up to `within` after it, so that no window is ever over the cap.
    """
    return us - spec.within_us < other < us + spec.within_us


def quiet_at(spec: RuleSpec, us: int) -> bool:
    """A local time (epoch microseconds) falls in the rule's quiet hours: [from, to), across midnight."""
    start, end = spec.quiet
    tod = us % MICROS_PER_DAY
    if start == end:
        return False
    return start <= tod < end if start < end else (tod >= start or tod < end)


def inside(opened: int, resolved: int, us: int) -> bool:
    """A time falls in a period: opened ≤ t < resolved (OPEN: never resolved)."""
    return opened <= us < resolved


def judge(plan: RulePlan, team: str, us: int, timed: bool, sent: Sequence[tuple[int, str]],
          periods: Sequence[tuple[str, int, int]], only: int | None = None) -> list[RuleSpec]:
    """The rules holding one touch, in policy order: the whole policy at once (or rule `only` alone).

    `sent` are the customer's touches sent so far (local time, team), `periods` the states it is in or was
    in (state, opened, resolved). A touch held is never sent: the caller does not add it to `sent`.
    """
    out = []
    for spec in plan.rules:
        if (only is not None and spec.index != only) or not spec.applies(team):
            continue
        if spec.kind == "cap":
            n = sum(1 for other, by in sent if spec.applies(by) and in_window(spec, us, other))
            if n >= spec.rule.max_touches:
                out.append(spec)
        elif spec.kind == "block":
            state = plan.states[spec.state]
            if any(s == state and inside(o, r, us) for s, o, r in periods):
                out.append(spec)
        elif timed and quiet_at(spec, us):
            out.append(spec)
    return out


def until(plan: RulePlan, spec: RuleSpec, us: int, sent: Sequence[tuple[int, str]],
          periods: Sequence[tuple[str, int, int]]) -> int | None:
    """The local time from which this rule no longer holds a touch like this one; None while a state stays open."""
    if spec.kind == "cap":
        mine = sorted(other for other, by in sent if spec.applies(by) and in_window(spec, us, other) and other <= us)
        n = spec.rule.max_touches
        return (mine[len(mine) - n] + spec.within_us) if len(mine) >= n else us
    if spec.kind == "block":
        state = plan.states[spec.state]
        ends = [r for s, o, r in periods if s == state and inside(o, r, us)]
        return None if not ends or max(ends) == OPEN else max(ends)
    day = us - us % MICROS_PER_DAY
    end = day + spec.quiet[1]
    return end if end > us else end + MICROS_PER_DAY


def joint_walk(plan: RulePlan, team_of: dict[int, str], touches: Sequence[tuple[int, int, bool]],
               periods: Sequence[tuple[str, int, int]]) -> list[RuleSpec | None]:
    """One customer's touches (source, time, timed) in order through the whole policy: for each, the first
    rule holding it (policy order), or None when it is sent."""
    longest = max((s.within_us for s in plan.of_kind("cap")), default=0)
    sent: deque[tuple[int, str]] = deque()
    out: list[RuleSpec | None] = []
    for s, us, timed in touches:
        while sent and sent[0][0] <= us - longest:
            sent.popleft()
        held = judge(plan, team_of[s], us, timed, sent, periods)
        out.append(held[0] if held else None)
        if not held:
            sent.append((us, team_of[s]))
    return out


# ---------------------------------------------------------------- SQL pieces

def _c(name: str) -> exp.Column:
    return exp.column(name)


def _n(value: int) -> exp.Literal:
    return exp.Literal.number(value)


def _in_channels(channels: Sequence[int]) -> exp.Expression:
    if not channels:
        return exp.false()
    return exp.In(this=_c("s"), expressions=[_n(i) for i in channels])


def _filtered(agg: exp.Expression, cond: exp.Expression) -> exp.Expression:
    return exp.Filter(this=agg, expression=exp.Where(this=cond))


def _window(agg: exp.Expression, start: exp.Expression | str) -> exp.Window:
    """agg OVER (PARTITION BY customer ORDER BY us RANGE BETWEEN start PRECEDING AND CURRENT ROW)."""
    return exp.Window(this=agg, partition_by=[_c("customer")],
                      order=exp.Order(expressions=[exp.Ordered(this=_c("us"), nulls_first=False)]),
                      spec=exp.WindowSpec(kind="RANGE", start=start, start_side="PRECEDING", end="CURRENT ROW"),
                      over="OVER")


def time_of_day() -> exp.Expression:
    """Microseconds after local midnight, also before 1970."""
    day = _n(MICROS_PER_DAY)
    return exp.Mod(this=exp.Paren(this=exp.Add(this=exp.Mod(this=_c("us"), expression=day), expression=day.copy())),
                   expression=day.copy())


def in_quiet_hours(spec: RuleSpec) -> exp.Expression:
    """A timed touch of the rule's channels in [from, to), across midnight when from > to; from = to is never."""
    start, end = spec.quiet
    tod = time_of_day()
    if start == end:
        return exp.false()
    after, before = exp.GTE(this=tod, expression=_n(start)), exp.LT(this=tod.copy(), expression=_n(end))
    inside = exp.and_(after, before) if start < end else exp.or_(after, before)
    return exp.and_(_in_channels(spec.channels), _c("timed"), exp.Paren(this=inside))


def _sub(query: exp.Expression, alias: str) -> exp.Subquery:
    return exp.Subquery(this=query, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def _week(us: exp.Expression) -> exp.Expression:
    """The Monday-start week of a time, as a week number since 1970."""
    shifted = exp.Paren(this=exp.Add(this=us, expression=_n(_WEEK_SHIFT)))
    return exp.Cast(this=exp.Floor(this=exp.Div(this=shifted, expression=_n(WEEK_MICROS))),
                    to=exp.DataType.build("BIGINT"))


def _inside() -> exp.Expression:
    """Touch t falls in period p of its customer: opened ≤ t < resolved."""
    return exp.and_(exp.EQ(this=exp.column("customer", "p"), expression=exp.column("customer", "t")),
                    exp.LTE(this=exp.column("opened", "p"), expression=exp.column("us", "t")),
                    exp.LT(this=exp.column("us", "t"), expression=exp.column("resolved", "p")))


def _every_channel(log: ContactLog, spec: RuleSpec) -> bool:
    return set(spec.channels) == {c.index for c in log.channels}


def stats_query(log: ContactLog, plan: RulePlan, with_outcome: bool) -> exp.Select:
    """One row per customer with any touch; per cap, m{k}: the most touches in one trailing window.

    With an outcome, per cap also f{k}, the time of the first touch over the cap, and p{k}, of the
    earliest touch with the most touches in its window (the moment a customer never over the cap came
    closest to it). Only the columns a window needs pass through it: that sort is the query's cost.
    """
    caps = plan.of_kind("cap")
    windows, cols = [], [_c("customer")]
    for cap in caps:
        every = _every_channel(log, cap)
        count = exp.Count(this=exp.Star()) if every else _filtered(exp.Count(this=exp.Star()), _in_channels(cap.channels))
        windows.append(exp.alias_(_window(count, _n(cap.within_us - 1)), f"c{cap.index}"))
        ck = _c(f"c{cap.index}")
        mine = None if every else _in_channels(cap.channels)
        cols.append(exp.alias_(exp.Max(this=ck) if every else _filtered(exp.Max(this=ck), mine), f"m{cap.index}"))
        if with_outcome:
            over = exp.GT(this=ck.copy(), expression=_n(cap.rule.max_touches))
            cols.append(exp.alias_(_filtered(exp.Min(this=_c("us")), over if every else exp.and_(mine, over)),
                                   f"f{cap.index}"))
            closest = exp.ArgMin(this=_c("us"), expression=exp.Struct(expressions=[
                exp.PropertyEQ(this=exp.to_identifier("a"), expression=exp.Neg(this=ck.copy())),
                exp.PropertyEQ(this=exp.to_identifier("b"), expression=_c("us"))]))
            cols.append(exp.alias_(closest if every else _filtered(closest, mine.copy()), f"p{cap.index}"))
    inner = exp.select(_c("customer"), _c("s"), _c("us"), *windows).from_(_sub(log.touches(), "t"))
    return exp.select(*cols).from_(_sub(inner, "w")).group_by(_c("customer"))


def weekly_query(log: ContactLog) -> exp.Select:
    """Touches per week and touch source."""
    rows = exp.select(_c("s"), exp.alias_(_week(_c("us")), "w")).from_(_sub(log.touches(), "t"))
    return exp.select(_c("s"), _c("w"), exp.alias_(exp.Count(this=exp.Star()), "n")) \
        .from_(_sub(rows, "x")).group_by(_c("s"), _c("w"))


def _hit_rows(log: ContactLog, plan: RulePlan, spec: RuleSpec) -> exp.Select:
    """(k, customer, s) of every touch breaking a block or quiet rule."""
    cols = [exp.alias_(_n(spec.index), "k"), *(exp.column(c, "t") for c in ("customer", "s"))]
    q = exp.select(*cols).from_(_sub(log.touches(), "t"))
    if spec.kind == "block":
        periods = log.periods_of([plan.states[spec.state]])
        q = q.join(_sub(periods, "p"), on=_inside(), join_type="semi")
        return q.where(_in_channels(spec.channels).transform(_qualified))
    return q.where(in_quiet_hours(spec).transform(_qualified))


def _qualified(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Column) and not node.table:
        return exp.column(node.name, "t")
    return node


def hits_query(log: ContactLog, plan: RulePlan) -> exp.Select | None:
    """Touches breaking each block and quiet rule k, per customer and touch source."""
    specs = [r for r in plan.rules if r.kind != "cap" and r.channels]
    if not specs:
        return None
    union: exp.Expression = _hit_rows(log, plan, specs[0])
    for spec in specs[1:]:
        union = exp.Union(this=union, expression=_hit_rows(log, plan, spec), distinct=False)
    return exp.select(_c("k"), _c("customer"), _c("s"), exp.alias_(exp.Count(this=exp.Star()), "n")) \
        .from_(_sub(union, "h")).group_by(_c("k"), _c("customer"), _c("s"))


def detail_query(log: ContactLog, plan: RulePlan, customers: list[str], key: bool = False) -> exp.Select:
    """These customers' touches in order (customer, time, policy order, row order), with hit{k}: whether
    the touch breaks block or quiet rule k; with `key`, also each touch's source key."""
    cols: list[exp.Expression] = [exp.column(c, "t") for c in ("customer", "s", "us", "r")]
    if key:
        cols.append(exp.column("k", "t"))
    for spec in plan.rules:
        if spec.kind == "cap":
            continue
        if spec.kind == "quiet":
            hit = in_quiet_hours(spec).transform(_qualified)
        else:
            periods = log.periods_of([plan.states[spec.state]], customers)
            inside = exp.Exists(this=exp.select(_n(1)).from_(_sub(periods, "p")).where(_inside()))
            hit = exp.and_(_in_channels(spec.channels).transform(_qualified), inside)
        cols.append(exp.alias_(holds(hit), f"hit{spec.index}"))
    order = [exp.Ordered(this=exp.column(c, "t"), nulls_first=False) for c in ("customer", "us", "s", "r")]
    return exp.select(*cols).from_(_sub(log.touches(customers, detail=True, key=key), "t")).order_by(*order)


def walk_query(log: ContactLog, customers: list[str]) -> exp.Select:
    """These customers' touches (customer, s, us, timed) in the order the rules take them: customer, time,
    policy source order, row order."""
    cols = [exp.column(c, "t") for c in ("customer", "s", "us", "timed")]
    order = [exp.Ordered(this=exp.column(c, "t"), nulls_first=False) for c in ("customer", "us", "s", "r")]
    return exp.select(*cols).from_(_sub(log.touches(customers, detail=True), "t")).order_by(*order)


# ---------------------------------------------------------------- caps, touch by touch

def cap_walk(groups: np.ndarray, times: np.ndarray, within_us: int, max_touches: int) -> tuple[np.ndarray, np.ndarray]:
    """For touches in order, grouped by customer: is each over the cap, and would a real-time cap refuse it.

    Over the cap: the (max_touches+1)-th or later touch of its customer in the trailing window
    (t − within, t]. Refused: the touches sent (not refused) in that window already number max_touches;
    a refused touch is never sent, so it does not count against later ones. The positions are found for
    all customers at once; the simulation runs touch by touch only through stretches of touches less
    than `within` apart that hold a touch over the cap: elsewhere nothing is refused.
    """
    n = len(times)
    over = np.zeros(n, dtype=bool)
    refused = np.zeros(n, dtype=bool)
    if n == 0:
        return over, refused
    times = times.astype(np.int64)
    start = np.ones(n, dtype=bool)
    start[1:] = groups[1:] != groups[:-1]
    lo = _window_starts(groups, times, start, within_us)
    over = np.arange(n) - lo + 1 > max_touches
    if not over.any():
        return over, refused
    stretch = np.cumsum(start | np.concatenate(([True], np.diff(times) >= within_us)))   # numbered in order
    for s in np.unique(stretch[over]).tolist():
        sent: deque[int] = deque()
        for i in range(np.searchsorted(stretch, s, "left"), np.searchsorted(stretch, s, "right")):
            t = int(times[i])
            while sent and sent[0] <= t - within_us:
                sent.popleft()
            if len(sent) >= max_touches:
                refused[i] = True
            else:
                sent.append(t)
    return over, refused


def _window_starts(groups: np.ndarray, times: np.ndarray, start: np.ndarray, within_us: int) -> np.ndarray:
    """For each touch, the first touch of its customer later than `within` before it."""
    low, high = int(times.min()), int(times.max())
    span = high - low + within_us + 1
    customers = int(start.sum())
    if customers * span < 2**62:
        # one sorted key for every customer: its number times a span longer than all its times
        key = (np.cumsum(start) - 1) * span + (times - low)
        return np.searchsorted(key, key - within_us, side="right")
    out = np.empty(len(times), dtype=np.int64)
    bounds = np.flatnonzero(start).tolist() + [len(times)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        out[a:b] = a + np.searchsorted(times[a:b], times[a:b] - within_us, side="right")
    return out


def cap_marks(times: Sequence[int], within_us: int, max_touches: int) -> tuple[list[bool], list[bool]]:
    """`cap_walk` for one customer's touches in order."""
    over, refused = cap_walk(np.zeros(len(times), dtype=np.int64), np.array(times, dtype=np.int64),
                             within_us, max_touches)
    return over.tolist(), refused.tolist()

"""Touchpoints: one log of every team's contact with each customer, checked against the contact policy.

`touchpoints()` answers, for the whole log: how many customers and touches, by team; for each rule, how
many customers and touches break it and how many a real-time rule would have suppressed, by team, with
the worst customers as examples; when the policy names an outcome, what over-contact costs; and with a
customer, that customer's merged timeline with every rule hit marked. `touchpoint_findings()` turns the
same result into findings for `accord check`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.analyze.contact_log import MICROS_PER_DAY, ContactLog, from_micros, micros, policy_problems
from accord.analyze.contact_rules import (WEEK_MICROS, RulePlan, RuleSpec, cap_walk, detail_query, hits_query,
                                          joint_walk, plan_rules, stats_query, walk_query, weekly_query)
from accord.analyze.crowding import DEFAULT_WINDOW_US, Period, rank, stale_notes
from accord.analyze.outcomes import DAYS, OutcomeComparison, outcome_group
from accord.analyze.timeline import Timeline, build_timelines, customer_rows, worst_stretch
from accord.errors import UserError
from accord.findings import Finding, Location
from accord.project.durations import parse_duration
from accord.project.model import Project
from accord.words import plural

EXAMPLES = 5          # customers listed per rule
WORST = 3             # customers whose timelines a finding carries

_CODES = {"cap": ("touchpoint-overload", "error"), "block": ("contact-during-open-case", "error"),
          "quiet": ("contact-in-quiet-hours", "warning")}


# ---------------------------------------------------------------- the result

@dataclass
class RuleResult:
    name: str
    kind: str
    location: Location
    teams: tuple[str, ...] | None          # the teams a cap or quiet rule counts, the teams a block blocks
    customers: int = 0
    touches: int = 0
    suppressed: int = 0
    by_team: dict[str, int] = field(default_factory=dict)
    suppressed_by_team: dict[str, int] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)
    worst: list[dict] = field(default_factory=list)    # the worst customers' timelines where the rule breaks
    state: str | None = None
    max_touches: int | None = None
    within: str | None = None
    quiet: tuple[str, str] | None = None
    hits: pa.Table | None = None           # block and quiet rules: hits per customer and touch source

    @property
    def description(self) -> str:
        who = ", ".join(self.teams) if self.teams else "all teams"
        if self.kind == "cap":
            return f"at most {self.max_touches} touches within {self.within} ({who})"
        if self.kind == "block":
            return f"no touches from {who} while {self.state}"
        return f"no touches from {self.quiet[0]} to {self.quiet[1]} ({who})"

    def as_dict(self) -> dict:
        d = {"name": self.name, "kind": self.kind, "customers": self.customers, "touches": self.touches,
             "suppressed": self.suppressed, "suppressed_by_team": self.suppressed_by_team,
             "by_team": self.by_team, "examples": self.examples}
        if self.state:
            d["state"] = self.state
        return d


@dataclass
class TouchpointsResult:
    as_of: dt.date
    timezone: str
    customers: int
    touches: int
    by_team: dict[str, int]
    teams: list[str]                                   # every touching team, in policy order
    rules: list[RuleResult]
    weekly: dict[dt.date, dict[str, int]]              # touches by week and team
    timelines: dict[str, Timeline]                     # the examples' and the requested customer's
    customer: str | None = None
    outcomes: list[OutcomeComparison] | None = None
    stale_states: list[dict] = field(default_factory=list)   # open far too long: probably never closed
    stale_after: str = "90d"
    joint: dict = field(default_factory=dict)          # the whole policy at once: held, held_by_rule, held_by_team

    @property
    def timeline(self) -> Timeline | None:
        return self.timelines.get(self.customer) if self.customer is not None else None

    def as_dict(self) -> dict:
        d = {"as_of": self.as_of.isoformat(), "timezone": self.timezone, "customers": self.customers,
             "touches": self.touches, "by_team": self.by_team, "rules": [r.as_dict() for r in self.rules],
             "stale_states": [{**n, "oldest": from_micros(n["oldest"]).isoformat()} for n in self.stale_states],
             "stale_state_after": self.stale_after, "joint": self.joint}
        if self.outcomes is not None:
            d["outcomes"] = [o.as_dict() for o in self.outcomes]
        if self.customer is not None:
            d["timeline"] = self.timeline.as_dict()
        return d


# ---------------------------------------------------------------- the analysis

def _count_by(teams: list[str], pairs) -> dict[str, int]:
    out: dict[str, int] = {}
    for team, n in pairs:
        if n:
            out[team] = out.get(team, 0) + int(n)
    return {t: out[t] for t in teams if t in out}


def _week(w: int) -> dt.date:
    return (from_micros(w * WEEK_MICROS - 3 * MICROS_PER_DAY)).date()


def _new_result(spec: RuleSpec, log: ContactLog, plan: RulePlan) -> RuleResult:
    r = spec.rule
    teams = r.block_teams if spec.kind == "block" else r.teams
    return RuleResult(r.name, spec.kind, spec.location, tuple(teams) if teams is not None else None,
                      state=plan.states[spec.state] if spec.state is not None else None,
                      max_touches=r.max_touches, within=r.within,
                      quiet=(r.quiet.from_, r.quiet.to) if r.quiet else None)


def _caps(log: ContactLog, plan: RulePlan, results: dict[int, RuleResult], customers: list[str],
          stats: dict[str, np.ndarray], touches: pa.Table | None, teams: list[str]) -> None:
    """Walk the touches of the customers ever over a cap: touches over it and those a real-time cap refuses.

    Tied touches of one customer from one source are alike here (same time, same team): their order
    changes no count, so this walk needs no row order; the timelines, which name each touch, do.
    """
    team_of = log.team_of
    if touches is None or touches.num_rows == 0:
        return
    names = touches.column("customer")
    s_all = touches.column("s").to_numpy()
    us_all = touches.column("us").to_numpy()
    start = np.ones(len(s_all), dtype=bool)
    start[1:] = pc.not_equal(names.slice(1), names.slice(0, len(s_all) - 1)).to_numpy(zero_copy_only=False)
    group = np.cumsum(start) - 1
    first_rows = np.flatnonzero(start)
    group_names = names.take(pa.array(first_rows)).to_pylist()
    for cap in plan.of_kind("cap"):
        res = results[cap.index]
        flagged = pc.is_in(names, value_set=pa.array(
            [customers[i] for i in np.flatnonzero(stats[f"m{cap.index}"] > cap.rule.max_touches)], pa.string()))
        rows = np.flatnonzero(flagged.to_numpy(zero_copy_only=False) & np.isin(s_all, cap.channels))
        over, refused = cap_walk(group[rows], us_all[rows], cap.within_us, cap.rule.max_touches)
        over_rows, refused_rows = rows[over], rows[refused]
        res.customers = len(np.unique(group[over_rows]))
        res.touches, res.suppressed = len(over_rows), len(refused_rows)
        res.by_team = _by_team(teams, team_of, s_all[over_rows])
        res.suppressed_by_team = _by_team(teams, team_of, s_all[refused_rows])
        per = np.bincount(group[over_rows], minlength=len(group_names))
        stopped = np.bincount(group[refused_rows], minlength=len(group_names))
        worst = sorted(np.flatnonzero(per).tolist(), key=lambda g: (-per[g], group_names[g]))[:EXAMPLES]
        res.examples = []
        for g in worst:
            mine = over_rows[group[over_rows] == g]
            res.examples.append({"customer": group_names[g], "touches": int(per[g]), "suppressed": int(stopped[g]),
                                 "by_team": _by_team(teams, team_of, s_all[mine]),
                                 "first": from_micros(int(us_all[mine[0]])).isoformat()})


def _joint(log: ContactLog, engine, plan: RulePlan, results: dict[int, RuleResult], flagged: list[str]) -> dict:
    """The whole policy acting at once: a held touch is never sent, so it never counts toward a cap; each is
    attributed to the first rule holding it in policy order.

    Only customers some rule holds a touch of on its own can have one held: a rule holding nothing alone
    holds nothing together with others, as held touches only lower the counts of caps.
    """
    held_by_rule: dict[str, int] = {}
    held_by_team: dict[str, int] = {}
    candidates = set(flagged)
    for res in results.values():
        if res.hits is not None:
            candidates.update(res.hits.column("customer").to_pylist())
    if candidates:
        team_of = log.team_of
        wanted = sorted(candidates)
        periods: dict[str, list[tuple[str, int, int]]] = {}
        query = log.periods_of(None, wanted)
        if query is not None:
            for r in engine.query(query).to_pylist():
                periods.setdefault(r["customer"], []).append((r["state"], r["opened"], r["resolved"]))
        table = engine.query(walk_query(log, wanted))
        cols = {name: table.column(name).to_pylist() for name in ("s", "us", "timed")}
        for customer, lo, hi in customer_rows(table):
            touches = list(zip(cols["s"][lo:hi], cols["us"][lo:hi], cols["timed"][lo:hi]))
            for (s, _, _), rule in zip(touches, joint_walk(plan, team_of, touches, periods.get(customer, ()))):
                if rule is not None:
                    held_by_rule[rule.name] = held_by_rule.get(rule.name, 0) + 1
                    held_by_team[team_of[s]] = held_by_team.get(team_of[s], 0) + 1
    names = [s.name for s in plan.rules]
    return {"held": sum(held_by_team.values()),
            "held_by_rule": {n: held_by_rule[n] for n in dict.fromkeys(names) if n in held_by_rule},
            "held_by_team": _count_by(log.teams, held_by_team.items())}


def _by_team(teams: list[str], team_of: dict[int, str], sources: np.ndarray) -> dict[str, int]:
    values, counts = np.unique(sources, return_counts=True)
    return _count_by(teams, ((team_of[int(v)], int(n)) for v, n in zip(values, counts)))


def _counted_rules(log: ContactLog, plan: RulePlan, results: dict[int, RuleResult], hits: pa.Table | None,
                   teams: list[str]) -> None:
    """Blocks and quiet hours: every hit is counted in SQL, per customer and touch source."""
    team_of = log.team_of
    for spec in plan.rules:
        if spec.kind == "cap" or hits is None:
            continue
        res = results[spec.index]
        mine = hits.filter(pc.equal(hits.column("k"), spec.index))
        totals = mine.group_by("customer").aggregate([("n", "sum")])
        res.customers, res.touches = totals.num_rows, int(pc.sum(totals.column("n_sum")).as_py() or 0)
        res.by_team = _summed(teams, team_of, mine)
        res.suppressed, res.suppressed_by_team = res.touches, dict(res.by_team)
        res.hits = mine
        top = totals.take(pc.sort_indices(totals, [("n_sum", "descending"), ("customer", "ascending")])[:EXAMPLES])
        res.examples = [{"customer": c, "touches": n, "suppressed": n,
                         "by_team": _summed(teams, team_of, mine.filter(pc.equal(mine.column("customer"), c)))}
                        for c, n in zip(top.column("customer").to_pylist(), top.column("n_sum").to_pylist())]


def _example(res: RuleResult, customer: str, teams: list[str], team_of: dict[int, str]) -> dict:
    mine = res.hits.filter(pc.equal(res.hits.column("customer"), customer))
    n = int(pc.sum(mine.column("n")).as_py() or 0)
    return {"customer": customer, "touches": n, "suppressed": n, "by_team": _summed(teams, team_of, mine)}


def _rank_blocks(log: ContactLog, engine, plan: RulePlan, results: dict[int, RuleResult],
                 teams: list[str]) -> list[dict]:
    """Each block rule's examples, most crowded first (accord/analyze/crowding.py); the stale-state notes."""
    table = engine.query(log.periods_of()) if log.periods else None
    periods = [Period(r["state"], r["customer"], r["opened"], r["resolved"]) for r in table.to_pylist()] \
        if table is not None else []
    cutoff = micros(log.cutoff)
    stale_us = int(parse_duration(log.project.settings.stale_state_after) / dt.timedelta(microseconds=1))
    notes = stale_notes(periods, cutoff, stale_us)
    blocks = [s for s in plan.of_kind("block") if results[s.index].hits is not None
              and results[s.index].hits.num_rows]
    if not blocks:
        return notes
    window = min((c.within_us for c in plan.of_kind("cap")), default=DEFAULT_WINDOW_US)
    candidates = sorted({c for s in blocks for c in results[s.index].hits.column("customer").to_pylist()})
    rows = engine.query(log.touches(candidates)).sort_by([("customer", "ascending"), ("us", "ascending"),
                                                          ("s", "ascending")])
    team_of = log.team_of
    touched: dict[str, list[tuple[int, int]]] = {}
    for c, s_, us in zip(rows.column("customer").to_pylist(), rows.column("s").to_pylist(),
                         rows.column("us").to_pylist()):
        touched.setdefault(c, []).append((us, s_))
    for spec in blocks:
        res, state = results[spec.index], plan.states[spec.state]
        blocked = set(spec.channels)
        mine = set(res.hits.column("customer").to_pylist())
        log_of = {c: [(us, team_of[s_], s_ in blocked) for us, s_ in touched.get(c, [])] for c in mine}
        ranked = rank(log_of, [p for p in periods if p.state == state and p.customer in mine], cutoff, stale_us,
                      window)
        res.examples = []
        for c in ranked[:EXAMPLES]:
            e = _example(res, c.customer, teams, team_of)
            e.update({"teams_within_window": c.teams, "window": _duration_words(window),
                      "touches_in_period": c.touches, "touches_per_day": round(c.per_day, 2),
                      "opened": from_micros(c.opened).isoformat(),
                      "window_from": from_micros(c.window[0]).isoformat(),
                      "window_to": from_micros(c.window[1]).isoformat()})
            res.examples.append(e)
    return notes


def _duration_words(us: int) -> str:
    hours = us // (3600 * 10**6)
    return f"{hours // 24}d" if hours % 24 == 0 and hours >= 24 else f"{hours}h"


def _summed(teams: list[str], team_of: dict[int, str], hits: pa.Table) -> dict[str, int]:
    by_source = hits.group_by("s").aggregate([("n", "sum")])
    return _count_by(teams, ((team_of[s], n) for s, n in zip(by_source.column("s").to_pylist(),
                                                              by_source.column("n_sum").to_pylist())))


def _outcomes(log: ContactLog, engine, plan: RulePlan, customers: list[str],
              stats: dict[str, np.ndarray]) -> list[OutcomeComparison]:
    alpha = log.project.settings.alpha
    table = engine.query(log.outcome_rows())
    row_of = {c: i for i, c in enumerate(customers)}
    events: dict[int, list[int]] = {}
    for c, us in zip(table.column("customer").to_pylist(), table.column("us").to_pylist()):
        if c in row_of:
            events.setdefault(row_of[c], []).append(us)
    cutoff = micros(log.cutoff)
    out = []
    for cap in plan.of_kind("cap"):
        k = cap.index
        over = stats[f"m{k}"] > cap.rule.max_touches
        first = np.where(over, stats[f"f{k}"], -1)
        closest = np.where(~over & (stats[f"m{k}"] > 0), stats[f"p{k}"], -1)
        out.append(OutcomeComparison(
            cap.name, log.outcome.source, DAYS, alpha,
            outcome_group(first, events, cutoff, log.outcome.by_day, alpha),
            outcome_group(closest, events, cutoff, log.outcome.by_day, alpha)))
    return out


def _arrays(table: pa.Table) -> dict[str, np.ndarray]:
    """Each numeric column as an int64 array: times missing as -1, counts missing as 0."""
    table = table.combine_chunks()
    return {name: pc.fill_null(table.column(name), -1 if name[0] in "fp" else 0).to_numpy(zero_copy_only=False)
            .astype(np.int64) for name in table.column_names if name != "customer"}


def _weekly(log: ContactLog, engine) -> tuple[dict[dt.date, dict[str, int]], dict[str, int]]:
    """Touches by week and team, and by team in all."""
    team_of = log.team_of
    weekly: dict[dt.date, dict[str, int]] = {}
    by_source: dict[int, int] = {}
    for r in engine.query(weekly_query(log)).to_pylist():
        week = weekly.setdefault(_week(r["w"]), {})
        week[team_of[r["s"]]] = week.get(team_of[r["s"]], 0) + r["n"]
        by_source[r["s"]] = by_source.get(r["s"], 0) + r["n"]
    return dict(sorted(weekly.items())), _count_by(log.teams, ((team_of[s], n) for s, n in by_source.items()))


def touchpoints(project: Project, engine, today: dt.date, customer: str | None = None) -> TouchpointsResult:
    """Every team's touches of each customer up to today, checked against each rule of the contact policy.

    Four scans of the touch sources: the cap window per customer, the block and quiet hits, the touches
    of the customers ever over a cap (and of the worst examples), and the touches per week.
    """
    log = ContactLog(project, engine, today)
    plan = plan_rules(log)
    teams = log.teams
    with_outcome = log.outcome is not None and bool(plan.of_kind("cap"))
    per_customer = engine.query(stats_query(log, plan, with_outcome))
    customers = per_customer.column("customer").to_pylist()
    stats = _arrays(per_customer)
    results = {spec.index: _new_result(spec, log, plan) for spec in plan.rules}
    hits = hits_query(log, plan)
    _counted_rules(log, plan, results, engine.query(hits) if hits is not None else None, teams)
    notes = _rank_blocks(log, engine, plan, results, teams)

    over = np.zeros(len(customers), dtype=bool)
    for cap in plan.of_kind("cap"):
        over |= stats[f"m{cap.index}"] > cap.rule.max_touches
    examples = [e["customer"] for r in results.values() for e in r.examples[:WORST]]
    walked = list(dict.fromkeys([customers[i] for i in np.flatnonzero(over)] + examples))
    touches = engine.query(detail_query(log, plan, walked)) if walked else None
    _caps(log, plan, results, customers, stats, touches, teams)
    joint = _joint(log, engine, plan, results, [customers[i] for i in np.flatnonzero(over)])

    states = {k: r.state for k, r in results.items()}
    shown = list(dict.fromkeys(e["customer"] for r in results.values() for e in r.examples[:WORST]))
    # the shown timelines read again with each touch's key, so that what it was (channel, subject) is known
    lines = build_timelines(log, engine, plan, states, engine.query(detail_query(log, plan, shown, key=True)),
                            shown) if shown else {}
    for res in results.values():
        res.worst = [worst_stretch(res, e, lines[e["customer"]]) for e in res.examples[:WORST]]
    if customer is not None:
        own = engine.query(detail_query(log, plan, [customer], key=True))
        lines[customer] = build_timelines(log, engine, plan, states, own, [customer])[customer]
        if not (lines[customer].touches or lines[customer].periods or lines[customer].outcomes):
            raise UserError(f"customer '{customer}' has no touches, periods or outcomes up to {today.isoformat()}. "
                            "check the id: it is compared as text with the policy's customer columns")
    weekly, by_team = _weekly(log, engine)
    outcomes = _outcomes(log, engine, plan, customers, stats) if with_outcome else None
    return TouchpointsResult(today, project.settings.timezone, len(customers), sum(by_team.values()), by_team,
                             teams, [results[s.index] for s in plan.rules], weekly, lines, customer, outcomes,
                             notes, project.settings.stale_state_after, joint)


# ---------------------------------------------------------------- findings

def _lead(project: Project, teams: dict[str, int]) -> str | None:
    """The lead of the team with the most hits (policy order on ties)."""
    for team, _ in sorted(teams.items(), key=lambda kv: -kv[1]):
        found = project.team(team)
        if found and found.lead:
            return found.lead
    return None


def _words(state: str) -> str:
    return state.replace("_", " ")


def _title(rule: RuleResult, share: float) -> str:
    people = f"{rule.customers:,} customer{'s' if rule.customers != 1 else ''} ({share:.1%} of those contacted)"
    teams = ", ".join(rule.by_team)
    if rule.kind == "cap":
        return (f"{people} got more than {plural(rule.max_touches, 'touch')} within {rule.within}: "
                f"{plural(rule.touches, 'touch')} over the cap ({teams}); a real-time cap would have stopped {rule.suppressed:,}")
    if rule.kind == "block":
        return f"{people} heard from {teams} while {_words(rule.state)}: {plural(rule.touches, 'touch')} '{rule.name}' forbids"
    return f"{people} heard from {teams} between {rule.quiet[0]} and {rule.quiet[1]}: {plural(rule.touches, 'touch')} in quiet hours"


def touchpoint_findings(project: Project, engine, today: dt.date) -> list[Finding]:
    """touchpoint-overload (caps), contact-during-open-case (blocks, whatever the state) and
    contact-in-quiet-hours, one finding per rule broken, with counts by team and the worst timelines."""
    if policy_problems(project):
        return []          # unknown sources and states are unknown-reference findings already
    return findings_of(project, touchpoints(project, engine, today))


def findings_of(project: Project, result: TouchpointsResult) -> list[Finding]:
    """The touchpoint findings of an analysis already run: one per rule broken."""
    out = []
    for rule in result.rules:
        if not rule.touches:
            continue
        code, severity = _CODES[rule.kind]
        share = rule.customers / result.customers if result.customers else 0.0
        evidence = {"rule": rule.name, "customers": rule.customers, "customer_share": round(share, 4),
                    "touches": rule.touches, "by_team": rule.by_team, "suppressed": rule.suppressed,
                    "suppressed_by_team": rule.suppressed_by_team}
        if rule.state:
            evidence["state"] = rule.state
        evidence["worst"] = rule.worst
        out.append(Finding(code, severity, _title(rule, share), (), tuple(sorted(rule.by_team)),
                           _lead(project, rule.by_team), evidence, rule.location))
    return out

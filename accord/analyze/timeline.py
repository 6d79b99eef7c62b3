"""One customer's timeline: every system's touches in time order, each marked with the rules it breaks,
and the periods the customer was in and its outcomes.

"What is this person going through today, and are we helping or interrupting?"
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from accord.analyze.contact_log import OPEN, ContactLog, from_micros
from accord.analyze.contact_rules import RulePlan, cap_marks
from accord.project.durations import parse_duration

SHOWN = 12            # touches shown per timeline in a finding's evidence


@dataclass(frozen=True)
class Hit:
    """One rule a touch breaks; for a cap, whether a real-time cap would have refused it."""

    rule: str
    kind: str
    suppressed: bool = False
    state: str | None = None

    def as_dict(self) -> dict:
        d = {"rule": self.rule, "kind": self.kind, "suppressed": self.suppressed}
        if self.state:
            d["state"] = self.state
        return d


@dataclass(frozen=True)
class TimelineTouch:
    time: dt.datetime
    team: str
    source: str
    key: str | None
    hits: tuple[Hit, ...] = ()
    channel: str | None = None     # how it reached the customer (email, call, in-app), where the source says
    subject: str | None = None     # what it was: subject, campaign name, title

    def as_dict(self) -> dict:
        return {"time": self.time.isoformat(), "team": self.team, "source": self.source, "key": self.key,
                "channel": self.channel, "subject": self.subject, "hits": [h.as_dict() for h in self.hits]}

    @property
    def what(self) -> str:
        """'Email · Pricing', 'in app · How are you finding Northwind?', or the source's name."""
        return touch_words(self.channel, self.subject) or self.source.replace("_", " ")


def touch_words(channel: str | None, subject: str | None) -> str:
    """A touch's channel and subject as words: codes (first_reminder) read as words, names as written."""
    parts = [p.replace("_", " ") if " " not in p else p for p in (channel, subject) if p]
    return " · ".join(parts)


@dataclass(frozen=True)
class TimelinePeriod:
    state: str
    opened: dt.datetime
    resolved: dt.datetime | None          # None: still open

    def open_at(self, t: dt.datetime) -> bool:
        return self.opened <= t and (self.resolved is None or t < self.resolved)

    def as_dict(self) -> dict:
        return {"state": self.state, "opened": self.opened.isoformat(),
                "resolved": self.resolved.isoformat() if self.resolved else None}


@dataclass
class Timeline:
    """One customer's touches from every system in time order, the periods it was in and its outcomes."""

    customer: str
    touches: list[TimelineTouch]
    periods: list[TimelinePeriod]
    outcomes: list[dt.datetime]
    end: dt.datetime                       # the end of today: what is still open then is open now

    shown_from: dt.datetime | None = None  # set by since(): earlier touches are left out
    earlier: int = 0                       # how many

    def since(self, start: dt.datetime) -> "Timeline":
        """The same timeline from `start` on: touches and outcomes at or after it, periods still open then."""
        kept = [t for t in self.touches if t.time >= start]
        return Timeline(self.customer, kept, [p for p in self.periods if p.resolved is None or p.resolved >= start],
                        [o for o in self.outcomes if o >= start], self.end, start,
                        self.earlier + len(self.touches) - len(kept))

    @property
    def open_now(self) -> list[TimelinePeriod]:
        return [p for p in self.periods if p.resolved is None or p.resolved > self.end]

    def as_dict(self) -> dict:
        hits = sum(1 for t in self.touches if t.hits)
        return {"customer": self.customer, "touches": len(self.touches), "touches_breaking_a_rule": hits,
                "since": self.shown_from.isoformat() if self.shown_from else None, "earlier_touches": self.earlier,
                "open_now": [p.state for p in self.open_now],
                "periods": [p.as_dict() for p in self.periods],
                "outcomes": [o.isoformat() for o in self.outcomes],
                "log": [t.as_dict() for t in self.touches]}


def customer_rows(table: pa.Table) -> list[tuple[str, int, int]]:
    """(customer, first row, end row) of each customer in a table sorted by customer."""
    col = table.column("customer")
    n = len(col)
    if n == 0:
        return []
    change = pc.not_equal(col.slice(1), col.slice(0, n - 1)).to_numpy(zero_copy_only=False)
    cuts = (np.flatnonzero(change) + 1).tolist()
    starts, ends = [0] + cuts, cuts + [n]
    return list(zip(col.take(pa.array(starts)).to_pylist(), starts, ends))


def build_timelines(log: ContactLog, engine, plan: RulePlan, states: dict[int, str | None], table: pa.Table,
                    wanted: list[str]) -> dict[str, Timeline]:
    """The merged timelines of these customers from their ordered touches, every touch marked with the
    rules it breaks, with their periods and outcomes."""
    if not wanted:
        return {}
    source_of = {c.index: (c.team, c.source) for c in log.channels}
    table = table.filter(pc.is_in(table.column("customer"), value_set=pa.array(wanted, pa.string())))
    cols = {name: table.column(name).to_pylist() for name in table.column_names}
    keys = cols.get("k")
    labels: dict[tuple[int, str], tuple[str | None, str | None]] = {}
    query = log.labels(wanted) if keys else None
    if query is not None:
        labels = {(r["s"], r["k"]): (r["channel"], r["subject"]) for r in engine.records(query)}
    out = {c: Timeline(c, [], [], [], log.cutoff) for c in wanted}
    for customer, lo, hi in customer_rows(table):
        hits: list[list[Hit]] = [[] for _ in range(lo, hi)]
        for spec in plan.rules:
            if spec.kind == "cap":
                picked = [i for i in range(lo, hi) if cols["s"][i] in spec.channels]
                over, refused = cap_marks([cols["us"][i] for i in picked], spec.within_us, spec.rule.max_touches)
                for i, o, x in zip(picked, over, refused):
                    if o:
                        hits[i - lo].append(Hit(spec.name, "cap", x))
            else:
                for i in range(lo, hi):
                    if cols[f"hit{spec.index}"][i]:
                        hits[i - lo].append(Hit(spec.name, spec.kind, True, states[spec.index]))
        out[customer].touches = [
            TimelineTouch(from_micros(cols["us"][i]), *source_of[cols["s"][i]], keys[i] if keys else None,
                          tuple(hits[i - lo]), *labels.get((cols["s"][i], keys[i] if keys else None), (None, None)))
            for i in range(lo, hi)]
    periods = log.periods_of(None, wanted)
    if periods is not None:
        for r in sorted(engine.query(periods).to_pylist(), key=lambda r: (r["customer"], r["opened"], r["state"])):
            resolved = from_micros(r["resolved"]) if r["resolved"] != OPEN else None
            out[r["customer"]].periods.append(TimelinePeriod(r["state"], from_micros(r["opened"]), resolved))
    if log.outcome:
        for r in sorted(engine.query(log.outcome_rows(wanted)).to_pylist(), key=lambda r: (r["customer"], r["us"])):
            out[r["customer"]].outcomes.append(from_micros(r["us"]))
    return out


def worst_stretch(rule, example: dict, line: Timeline) -> dict:
    """The part of a customer's timeline that shows the rule broken: for a cap the trailing window of its
    worst touch, for a block the period with the most blocked touches, for quiet hours the quiet touches."""
    touches = line.touches
    marked = [i for i, t in enumerate(touches) if any(h.rule == rule.name for h in t.hits)]
    out: dict = {"customer": example["customer"], "touches": example["touches"]}
    if rule.kind == "cap":
        within = parse_duration(rule.within)
        in_window = {i: [t for t in touches[:i + 1] if t.time > touches[i].time - within] for i in marked}
        worst = max(marked, key=lambda i: (len(in_window[i]), -i))
        shown = in_window[worst]
    elif rule.kind == "block":
        periods = [p for p in line.periods if p.state == rule.state]
        ranked = [p for p in periods if p.opened.isoformat() == example.get("opened")]   # the crowded one
        period = ranked[0] if ranked else max(periods, key=lambda p: (
            sum(1 for i in marked if p.open_at(touches[i].time)), -p.opened.timestamp()))
        out["period"] = period.as_dict()
        shown = [t for t in touches if period.open_at(t.time)]
    else:
        shown = [touches[i] for i in marked]
    entries = []
    for t in shown[-SHOWN:]:
        mine = [h for h in t.hits if h.rule == rule.name]
        entry = {"time": t.time.isoformat(), "team": t.team, "source": t.source, "channel": t.channel,
                 "subject": t.subject, "breaks": bool(mine)}
        if rule.kind == "cap":
            entry["suppressed"] = any(h.suppressed for h in mine)
        entries.append(entry)
    out["timeline"] = entries
    if shown:
        out["from"], out["to"] = shown[0].time.isoformat(), shown[-1].time.isoformat()
    return out

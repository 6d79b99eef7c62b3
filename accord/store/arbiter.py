"""The contact arbiter's log in the store: each claim decided by the contact rules and recorded in one transaction.

A claim reads the customer's touches sent around its time and the states it is in, asks the rules module
(accord/analyze/contact_rules.py, the same code as `accord touchpoints`) which rules hold it, and records the
answer before it is given: an `allow` takes the slot. Claims for one customer are serialized: SQLite runs one
write transaction at a time (BEGIN IMMEDIATE), PostgreSQL locks the customer's row (SELECT … FOR UPDATE),
so concurrent claims never exceed a cap. An idempotency key answers again what it answered first.

Times are kept as the rules read them: local wall-clock epoch microseconds in the project's time zone.
"""
from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass, field
from contextlib import nullcontext
from threading import Lock
from zoneinfo import ZoneInfo

from accord.analyze.contact_log import OPEN, from_micros, micros
from accord.analyze.contact_rules import RulePlan, judge, policy_states, until
from accord.errors import UserError
from accord.store.db import Database, now

@dataclass(frozen=True)
class Claim:
    customer: str
    team: str
    channel: str
    kind: str | None
    at: dt.datetime                  # aware
    given_at: bool                   # the caller said when (else: now)
    key: str | None = None
    token: str | None = None


@dataclass
class Answer:
    decision: str
    reasons: list[dict]
    next_allowed_at: str | None
    id: int | None = None
    mode: str = "enforce"
    would_have_held: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"id": self.id, "decision": self.decision, "reasons": self.reasons,
                "next_allowed_at": self.next_allowed_at, "mode": self.mode, "would_have_held": self.would_have_held}


class KeyReused(UserError):
    """An idempotency key sent again with another claim."""


class Arbiter:
    """The contact policy applied to claims, against the store. One per process; safe across threads and processes."""

    def __init__(self, db: Database, plan: RulePlan, policy, teams: list[str], tz: str, state_teams: dict[str, set]):
        self.db, self.plan, self.policy, self.teams = db, plan, policy, teams
        self.zone = ZoneInfo(tz)
        self.tz = tz
        self.states = policy_states(policy)
        self.state_teams = state_teams          # the teams owning each state's source
        self.shadow = policy.mode == "shadow"
        self.longest = max((s.within_us for s in plan.of_kind("cap")), default=0)
        self.counts: Counter = Counter()        # (decision, rule, team) -> claims answered by this process
        # SQLite: one writer per process at a time, so threads queue here rather than in SQLite's busy waits
        self._lock = Lock() if db.dialect == "sqlite" else nullcontext()

    # ------------------------------------------------------------ time
    def local(self, at: dt.datetime) -> int:
        return micros(at.astimezone(self.zone).replace(tzinfo=None))

    def aware(self, us: int) -> dt.datetime:
        return from_micros(us).replace(tzinfo=self.zone)

    def text(self, us: int | None) -> str | None:
        return None if us is None else self.aware(us).isoformat()

    # ------------------------------------------------------------ deciding
    def _read(self, cur, customer: str, us: int) -> tuple[list[tuple[int, str]], list[tuple[str, int, int]]]:
        lo, hi = us - self.longest, us + self.longest
        self.db.run(cur, "SELECT at_us, team FROM arbiter_touches WHERE customer = ? AND sent = 1 AND at_us > ? "
                    "AND at_us < ? ORDER BY at_us, id", (customer, lo, hi))
        sent = [(int(a), t) for a, t in cur.fetchall()]
        periods: list[tuple[str, int, int]] = []
        if self.plan.states:
            self.db.run(cur, "SELECT state, opened_us, resolved_us FROM arbiter_states WHERE customer = ? "
                        "AND opened_us <= ? AND resolved_us > ?", (customer, us, us))
            periods = [(s, int(o), int(r)) for s, o, r in cur.fetchall()]
        return sent, periods

    def _answer(self, claim: Claim, us: int, sent, periods) -> tuple[Answer, str | None]:
        held = judge(self.plan, claim.team, us, True, sent, periods)
        reasons = []
        ends: list[int | None] = []
        for spec in held:
            end = until(self.plan, spec, us, sent, periods)
            ends.append(end)
            reasons.append({"rule": spec.name, "detail": _detail(self.plan, spec), "until": self.text(end)})
        first = held[0].name if held else None
        if self.shadow:
            return Answer("allow", [], None, mode="shadow", would_have_held=reasons), first
        if not held:
            return Answer("allow", [], None), None
        nxt = None if any(e is None for e in ends) else max(ends)
        return Answer("hold", reasons, self.text(nxt)), first

    def check(self, claim: Claim) -> Answer:
        """The answer a claim would get now, recording nothing."""
        self.check_claim(claim)
        us = self.local(claim.at)
        with self.db.transaction() as cur:
            sent, periods = self._read(cur, claim.customer, us)
        return self._answer(claim, us, sent, periods)[0]

    def claim(self, claim: Claim) -> Answer:
        """Decide and record in one transaction: an `allow` takes the slot before it is answered."""
        self.check_claim(claim)
        us = self.local(claim.at)
        fingerprint = json.dumps([claim.customer, claim.team, claim.channel, claim.kind,
                                  claim.at.isoformat() if claim.given_at else None])
        for attempt in range(3):
            try:
                with self._lock, self.db.transaction() as cur:
                    if self.db.dialect == "postgresql":
                        self.db.run(cur, "INSERT INTO arbiter_customers (customer, created_at) VALUES (?, ?) "
                                    "ON CONFLICT (customer) DO NOTHING", (claim.customer, now()))
                        self.db.run(cur, "SELECT 1 FROM arbiter_customers WHERE customer = ? FOR UPDATE",
                                    (claim.customer,))
                        cur.fetchall()
                    if claim.key is not None:
                        earlier = self._earlier(cur, claim)
                        if earlier is not None:
                            return self._again(earlier, fingerprint)
                    sent, periods = self._read(cur, claim.customer, us)
                    answer, first = self._answer(claim, us, sent, periods)
                    answer.id = self._record(cur, claim, us, answer, first, fingerprint)
                self.counts[(answer.decision, first or "", claim.team)] += 1
                if self.shadow and first:
                    self.counts[("would_hold", first, claim.team)] += 1
                return answer
            except Exception as e:        # the same key from another instance at the same moment: answer its answer
                if claim.key is None or not _unique_violation(e) or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _earlier(self, cur, claim: Claim):
        self.db.run(cur, "SELECT id, answer, fingerprint FROM arbiter_touches WHERE token = ? AND "
                    "idempotency_key = ?", (claim.token or "", claim.key))
        return cur.fetchone()

    def _again(self, row, fingerprint: str) -> Answer:
        ident, answer, before = row
        if before != fingerprint:
            raise KeyReused("idempotency_key was already used for another claim. send a new key for a new claim")
        return Answer(**{**json.loads(answer), "id": int(ident)})

    def _record(self, cur, claim: Claim, us: int, answer: Answer, first: str | None, fingerprint: str) -> int:
        stamp = now()
        sql = ("INSERT INTO arbiter_touches (customer, team, channel, kind, at_us, at, sent, decision, rule, "
               "would_hold, origin, token, idempotency_key, fingerprint, answer, decided_at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'claim', ?, ?, ?, ?, ?)")
        params = (claim.customer, claim.team, claim.channel, claim.kind, us,
                  stamp if not claim.given_at else claim.at.astimezone(dt.timezone.utc).isoformat(),
                  int(answer.decision == "allow"), answer.decision, None if self.shadow else first,
                  first if self.shadow else None, claim.token or "", claim.key, fingerprint,
                  json.dumps(answer.as_dict()), stamp)
        if self.db.dialect == "postgresql":
            self.db.run(cur, sql + " RETURNING id", params)
            return int(cur.fetchone()[0])
        self.db.run(cur, sql, params)
        return int(cur.lastrowid)

    def check_claim(self, claim: Claim) -> None:
        if claim.team not in self.teams:
            raise UserError(f"team '{claim.team}' is not in the contact policy. use one of: {', '.join(self.teams)}")

    # ------------------------------------------------------------ releasing, states, the timeline
    def release(self, ident: int, teams: tuple[str, ...]) -> str:
        """A claim not sent gives its slot back: 'released', or 'unknown' / 'not yours'."""
        with self._lock, self.db.transaction() as cur:
            self.db.run(cur, "SELECT team, origin FROM arbiter_touches WHERE id = ?", (ident,))
            row = cur.fetchone()
            if row is None or row[1] != "claim":
                return "unknown"
            if row[0] not in teams:
                return "not yours"
            self.db.run(cur, "UPDATE arbiter_touches SET sent = 0, decision = CASE WHEN decision = 'allow' "
                        "THEN 'released' ELSE decision END WHERE id = ?", (ident,))
        return "released"

    def set_state(self, customer: str, state: str, opened: dt.datetime, resolved: dt.datetime | None) -> dict:
        """Open a state (or close it, naming the same opened time with resolved)."""
        if state not in self.states:
            raise UserError(f"state '{state}' is not in the contact policy. use one of: {', '.join(self.states)}")
        o = self.local(opened)
        r = OPEN if resolved is None else self.local(resolved)
        if r <= o:
            raise UserError("resolved is not after opened. send a resolved time after the opened time")
        with self._lock, self.db.transaction() as cur:
            self.db.run(cur, "UPDATE arbiter_states SET resolved_us = ?, updated_at = ? WHERE customer = ? "
                        "AND state = ? AND opened_us = ?", (r, now(), customer, state, o))
            if cur.rowcount == 0:
                self.db.run(cur, "INSERT INTO arbiter_states (customer, state, opened_us, resolved_us, origin, "
                            "updated_at) VALUES (?, ?, ?, ?, 'api', ?)", (customer, state, o, r, now()))
        return {"customer": customer, "state": state, "opened": self.text(o),
                "resolved": None if r == OPEN else self.text(r)}

    def timeline(self, customer: str, teams: tuple[str, ...], at: dt.datetime, days: int = 7) -> dict:
        """The customer's recent touches (claims and history) and states, each own-team touch with its rule hits;
        other teams' touches as team, channel and time only."""
        us = self.local(at)
        lo = us - max(self.longest, days * 86_400_000_000)
        touches, states = [], []
        for ident, team, channel, kind, t, decision, rule, would, origin in self.db.query(
                "SELECT id, team, channel, kind, at_us, decision, rule, would_hold, origin FROM arbiter_touches "
                "WHERE customer = ? AND at_us > ? ORDER BY at_us, id", (customer, lo)):
            row = {"team": team, "channel": channel, "at": self.text(int(t))}
            if team in teams:
                row.update({"id": ident, "kind": kind, "decision": decision, "held_by": rule,
                            "would_have_been_held_by": would, "origin": origin})
            touches.append(row)
        for state, o, r in self.db.query("SELECT state, opened_us, resolved_us FROM arbiter_states WHERE customer = ? "
                                         "AND resolved_us > ? ORDER BY opened_us", (customer, lo)):
            states.append({"state": state, "opened": self.text(int(o)),
                           "resolved": None if int(r) == OPEN else self.text(int(r))})
        with self.db.transaction() as cur:
            sent, periods = self._read(cur, customer, us)
        hits = [{"rule": s.name, "until": self.text(until(self.plan, s, us, sent, periods))}
                for s in _any_team_holds(self.plan, us, sent, periods, teams)]
        return {"customer": customer, "timezone": self.tz, "touches": touches, "states": states,
                "holding_now": hits}

    # ------------------------------------------------------------ history
    def load_history(self, touches: list[tuple[str, str, int]], periods: list[tuple[str, str, int, int]]) -> None:
        """Replace the touches and states read from the project's sources: (customer, team, local time) and
        (customer, state, opened, resolved)."""
        with self._lock, self.db.transaction() as cur:
            self.db.run(cur, "DELETE FROM arbiter_touches WHERE origin = 'history'")
            self.db.run(cur, "DELETE FROM arbiter_states WHERE origin = 'history'")
            stamp = now()
            for customer, team, us in touches:
                self.db.run(cur, "INSERT INTO arbiter_touches (customer, team, channel, kind, at_us, at, sent, "
                            "decision, origin, token, answer, fingerprint, decided_at) "
                            "VALUES (?, ?, 'history', NULL, ?, ?, 1, 'allow', 'history', NULL, '', '', ?)",
                            (customer, team, us, self.aware(us).astimezone(dt.timezone.utc).isoformat(), stamp))
            for customer, state, o, r in periods:
                self.db.run(cur, "INSERT INTO arbiter_states (customer, state, opened_us, resolved_us, origin, "
                            "updated_at) VALUES (?, ?, ?, ?, 'history', ?)", (customer, state, o, r, stamp))

    # ------------------------------------------------------------ what people see
    def hold_rates(self, latest: int = 10_000) -> dict:
        """The latest claims, by team and by the rule that held them (or would have, in shadow mode)."""
        return hold_rates(self.db, [s.name for s in self.plan.rules], self.teams, self.shadow, latest)


def hold_rates(db: Database, rules: list[str], teams: list[str], shadow: bool, latest: int = 10_000) -> dict:
    """The latest claims (at most `latest`), by team and by the first rule that held them (or would have)."""
    rows = db.query("SELECT team, decision, COALESCE(rule, would_hold, ''), count(*), min(decided_at), "
                    "max(decided_at) FROM (SELECT team, decision, rule, would_hold, decided_at FROM arbiter_touches "
                    "WHERE origin = 'claim' ORDER BY id DESC LIMIT ?) AS latest "
                    "GROUP BY team, decision, COALESCE(rule, would_hold, '')", (latest,))
    out = rates([r[:4] for r in rows], rules, teams, shadow)
    out["from"] = min((r[4] for r in rows), default=None)
    out["to"] = max((r[5] for r in rows), default=None)
    return out


def rates(rows, rules: list[str], teams: list[str], shadow: bool) -> dict:
    claims: Counter = Counter()
    held: Counter = Counter()
    by_rule: Counter = Counter()
    for team, decision, rule, n in rows:
        claims[team] += n
        if rule:
            held[team] += n
            by_rule[(rule, team)] += n
    return {"claims": sum(claims.values()), "held": sum(held.values()), "shadow": shadow,
            "by_team": [{"team": t, "claims": claims[t], "held": held[t]} for t in teams if claims[t]],
            "by_rule": [{"rule": r, "held": sum(n for (rr, _), n in by_rule.items() if rr == r),
                         "by_team": {t: by_rule[(r, t)] for t in teams if by_rule[(r, t)]}} for r in rules]}


def _any_team_holds(plan: RulePlan, us: int, sent, periods, teams: tuple[str, ...]):
    seen: dict[int, object] = {}
    for team in teams:
        for spec in judge(plan, team, us, True, sent, periods):
            seen.setdefault(spec.index, spec)
    return [seen[k] for k in sorted(seen)]


def _detail(plan: RulePlan, spec) -> str:
    r = spec.rule
    who = ", ".join(sorted(spec.teams)) if spec.teams is not None else "all teams"
    if spec.kind == "cap":
        return f"at most {r.max_touches} touches within {r.within} ({who})"
    if spec.kind == "block":
        return f"no touches from {who} while {plan.states[spec.state]}"
    return f"no touches from {r.quiet.from_} to {r.quiet.to} ({who})"


def _unique_violation(e: Exception) -> bool:
    name = type(e).__name__
    return name in ("IntegrityError", "UniqueViolation") or "UNIQUE constraint" in str(e)


def forget_history(db: Database) -> None:
    """Drop what was read from the project's sources; claims and states sent to the arbiter stay."""
    with db.transaction() as cur:
        db.run(cur, "DELETE FROM arbiter_touches WHERE origin = 'history'")
        db.run(cur, "DELETE FROM arbiter_states WHERE origin = 'history'")

"""The worst timelines of a block rule: customers crowded by many teams at once while a state is open.

The seed's story is a customer with a $12 billing question who hears from five teams in two days. A
timeline is ranked by the most teams that touched the customer within the shortest cap window while one
period of the state was open (and the blocked teams touched them in it), then by touches per day over that
period. Touches are counted from every team, not only the blocked ones: the customer hears them all.

A period still open that was opened longer than `settings.stale_state_after` ago was probably never closed
in the source system; it is a data-quality note, never a worst case.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from accord.analyze.contact_log import MICROS_PER_DAY

DEFAULT_WINDOW_US = 2 * MICROS_PER_DAY        # without a cap rule, two days


@dataclass(frozen=True)
class Period:
    state: str
    customer: str
    opened: int          # epoch microseconds
    resolved: int        # epoch microseconds; OPEN (after any time) while still open


@dataclass(frozen=True)
class Crowding:
    """One customer's most crowded open period."""

    customer: str
    teams: int           # most distinct teams within the window during the period
    per_day: float       # touches per day over the period (at least one day long)
    touches: int         # touches during the period, every team
    opened: int
    until: int           # the period's end, or today's end when still open
    window: tuple[int, int]   # first and last touch of the crowded window

    @property
    def key(self) -> tuple:
        return (-self.teams, -self.per_day, self.customer)


def is_stale(p: Period, cutoff: int, stale_us: int) -> bool:
    """Still open at the end of today and opened more than stale_us before it."""
    return p.resolved >= cutoff and p.opened < cutoff - stale_us


def most_teams_within(times: list[int], teams: list[str], window_us: int) -> tuple[int, int, int]:
    """(most distinct teams among touches in any trailing window (t − window, t], first index, last index)
    over touches sorted by time."""
    seen: Counter = Counter()
    best, lo, best_lo, best_hi = 0, 0, 0, -1
    for hi, t in enumerate(times):
        seen[teams[hi]] += 1
        while times[lo] <= t - window_us:
            seen[teams[lo]] -= 1
            if not seen[teams[lo]]:
                del seen[teams[lo]]
            lo += 1
        if len(seen) > best:
            best, best_lo, best_hi = len(seen), lo, hi
    return best, best_lo, best_hi


def crowding(customer: str, touches: list[tuple[int, str, bool]], periods: list[Period], cutoff: int,
             window_us: int) -> Crowding | None:
    """The customer's most crowded period among those holding a blocked touch. `touches` are (time, team,
    blocked) in time order; `periods` are the customer's periods of the state, stale ones already left out."""
    best: Crowding | None = None
    for p in periods:
        until = min(p.resolved, cutoff)
        inside = [(t, team, blocked) for t, team, blocked in touches if p.opened <= t < until]
        if not any(blocked for _, _, blocked in inside):
            continue
        times, teams = [t for t, _, _ in inside], [team for _, team, _ in inside]
        k, lo, hi = most_teams_within(times, teams, window_us)
        days = max((until - p.opened) / MICROS_PER_DAY, 1.0)
        c = Crowding(customer, k, len(inside) / days, len(inside), p.opened, until, (times[lo], times[hi]))
        if best is None or c.key < best.key:
            best = c
    return best


def rank(touches: dict[str, list[tuple[int, str, bool]]], periods: list[Period], cutoff: int, stale_us: int,
         window_us: int) -> list[Crowding]:
    """Every customer's most crowded open period, worst first (most teams, then touches per day, then id)."""
    by_customer: dict[str, list[Period]] = {}
    for p in periods:
        if not is_stale(p, cutoff, stale_us):
            by_customer.setdefault(p.customer, []).append(p)
    found = [crowding(c, touches.get(c, []), ps, cutoff, window_us) for c, ps in by_customer.items()]
    return sorted((c for c in found if c is not None), key=lambda c: c.key)


def stale_notes(periods: list[Period], cutoff: int, stale_us: int, examples: int = 5) -> list[dict]:
    """Per state: the periods still open that were opened more than stale_us ago (probably never closed)."""
    out: dict[str, list[Period]] = {}
    for p in periods:
        if is_stale(p, cutoff, stale_us):
            out.setdefault(p.state, []).append(p)
    return [{"state": state, "periods": len(ps), "customers": len({p.customer for p in ps}),
             "oldest": min(p.opened for p in ps),
             "examples": [p.customer for p in sorted(ps, key=lambda p: (p.opened, p.customer))[:examples]]}
            for state, ps in out.items()]

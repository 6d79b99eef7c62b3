"""CRM activities: demos and meetings on deals, and the calls and emails reps log every day.

Planted: demos come from deals (and lead new ARR by five weeks); outbound calls swing week to week on
their own, unrelated to anything that closes later, though sales.yml claims they feed new ARR. Two
West Coast reps call East Coast customers after 8pm local time (quiet hours).
"""
from __future__ import annotations

import numpy as np

from accord.demo.accounts import AccountBook
from accord.demo.customers import TWELVE_DOLLARS, Customers
from accord.demo.deals import Deals
from accord.demo.tables import Table
from accord.demo.world import (AES, AS_OF, DAYS, SDRS, WEEKS, WEST_COAST_AES, ar1, at_hours, day_of, emails,
                               ids, pick, plus_hours, ts)

CALLS_PER_WEEK = 520.0
EMAILS_PER_WEEK = 650.0
MEETINGS_PER_WEEK = 60.0


def _weekly(rng: np.random.Generator, per_week: np.ndarray) -> np.ndarray:
    """Working days carrying each week's count."""
    n = rng.poisson(per_week)
    day = np.repeat(WEEKS, n) + rng.integers(0, 5, n.sum()).astype("timedelta64[D]")
    return day[(day >= DAYS[0]) & (day < AS_OF)]


def _accounts(rng: np.random.Generator, days: np.ndarray, customers: Customers, book: AccountBook,
              customer_share: float) -> np.ndarray:
    """Who each activity was with: an active customer, or a prospect that existed by then."""
    out = np.full(len(days), "", dtype="<U9")
    to_customer = rng.random(len(days)) < customer_share
    who = customers.pick_active(rng, days[to_customer])
    out[to_customer] = np.where(who >= 0, customers.id[np.maximum(who, 0)], "")
    pool, created = book.prospect_pool()
    pool = pool.astype(str)
    order = np.argsort(created, kind="stable")
    pool, created = pool[order], day_of(created[order])
    rest = np.flatnonzero(~to_customer)
    upto = np.searchsorted(created, days[rest], side="right")
    out[rest] = pool[(rng.random(len(rest)) * np.maximum(upto, 1)).astype(np.int64)]
    return out


def generate(rng: np.random.Generator, deals: Deals, opp_ids: np.ndarray, customers: Customers,
             book: AccountBook) -> Table:
    parts: list[dict[str, np.ndarray]] = []

    demo = np.flatnonzero(~np.isnat(deals.demo_at) & (deals.demo_at < AS_OF))
    parts.append(dict(account=deals.account_id[demo].astype(str), opp=opp_ids[demo].astype(str),
                      type=np.full(len(demo), "Demo"), direction=np.full(len(demo), ""), rep=deals.owner[demo],
                      at=deals.demo_at[demo], minutes=np.round(rng.normal(45, 8, len(demo))),
                      subject=np.full(len(demo), "Demo: Northwind platform")))

    meet = np.flatnonzero((deals.type != "New Business") & ~np.isnat(deals.qualified_at) & (deals.qualified_at < AS_OF))
    subject = np.where(deals.type[meet] == "Renewal", "Renewal check-in", "Expansion scoping")
    parts.append(dict(account=deals.account_id[meet].astype(str), opp=opp_ids[meet].astype(str),
                      type=np.full(len(meet), "Meeting"), direction=np.full(len(meet), ""), rep=deals.owner[meet],
                      at=plus_hours(deals.qualified_at[meet], -rng.uniform(1, 4, len(meet))),
                      minutes=np.round(rng.normal(30, 6, len(meet))), subject=subject))

    day = _weekly(rng, np.full(len(WEEKS), MEETINGS_PER_WEEK))
    n = len(day)
    parts.append(dict(account=_accounts(rng, day, customers, book, 0.7), opp=np.full(n, ""),
                      type=np.full(n, "Meeting"), direction=np.full(n, ""), rep=pick(rng, AES, n),
                      at=at_hours(rng, day), minutes=np.round(rng.normal(30, 6, n)),
                      subject=pick(rng, ["QBR", "Intro meeting", "Onsite visit", "Exec sponsor sync"], n)))

    # Calls: their own weekly swings, unrelated to demand.
    swing = ar1(rng, len(WEEKS), 0.3)
    day = _weekly(rng, CALLS_PER_WEEK * np.exp(0.25 * swing - 0.03))
    n = len(day)
    rep = np.where(rng.random(n) < 0.7, pick(rng, SDRS, n), pick(rng, AES, n))
    at = at_hours(rng, day, mean=12.5, sd=2.4, lo=8.0, hi=18.5)
    west = np.isin(rep, list(WEST_COAST_AES)) & (rng.random(n) < 0.25)
    at[west] = plus_hours(day[west].astype("datetime64[s]"), rng.uniform(20.0, 21.5, int(west.sum())))
    direction = np.where(rng.random(n) < 0.88, "Outbound", "Inbound")
    parts.append(dict(account=_accounts(rng, day, customers, book, 0.2), opp=np.full(n, ""),
                      type=np.full(n, "Call"), direction=direction, rep=rep, at=at,
                      minutes=np.round(np.exp(rng.normal(1.8, 0.7, n)) + 1),
                      subject=np.where(direction == "Outbound", pick(rng, ["Cold call", "Follow-up", "Check-in",
                                                                           "Left voicemail"], n), "Inbound call")))

    day = _weekly(rng, np.full(len(WEEKS), EMAILS_PER_WEEK))
    n = len(day)
    parts.append(dict(account=_accounts(rng, day, customers, book, 0.4), opp=np.full(n, ""),
                      type=np.full(n, "Email"), direction=np.full(n, "Outbound"),
                      rep=np.where(rng.random(n) < 0.5, pick(rng, SDRS, n), pick(rng, AES, n)),
                      at=at_hours(rng, day, mean=11.5, sd=2.6), minutes=np.full(n, np.nan),
                      subject=pick(rng, ["Following up", "Quick question", "Pricing", "Recap and next steps",
                                         "Case study you asked for"], n)))

    # Bluefin Logistics, day two of its open $12 billing case: sales chases a stale add-on demo request.
    parts.append(dict(account=np.array([TWELVE_DOLLARS]), opp=np.array([""]), type=np.array(["Call"]),
                      direction=np.array(["Outbound"]), rep=np.array(["marcus.bell"]),
                      at=np.array([ts("2026-09-15T10:20:00")]), minutes=np.array([12.0]),
                      subject=np.array(["Follow-up: demo request for Analytics Pro add-on"])))

    cols = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    keep = (cols["at"] < AS_OF) & (cols["account"] != "")
    cols = {k: v[keep] for k, v in cols.items()}
    order = np.argsort(cols["at"], kind="stable")
    cols = {k: v[order] for k, v in cols.items()}
    n = len(order)
    return Table("data/crm/activities.parquet", {
        "activity_id": ("string", ids("ACT-", n, width=7)),
        "account_id": ("string", cols["account"]),
        "opportunity_id": ("string", cols["opp"]),
        "type": ("string", cols["type"]),
        "direction": ("string", cols["direction"]),
        "subject": ("string", cols["subject"]),
        "rep": ("string", emails(cols["rep"])),
        "activity_at": ("timestamp", cols["at"]),
        "duration_minutes": ("float", cols["minutes"].astype(np.float64)),
    })


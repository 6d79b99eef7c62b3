"""Product analytics: releases shipped, onboarding events and blockers, and product's own messages.

Planted: feature velocity climbs every quarter (34 features in 2026-Q3 against 21 in Q1), and the
onboarding nudges go out on a fixed schedule, blind to customers stuck on a blocker. Kestrel Health
(ACC-01777) sat three weeks on a rejected SSO certificate while the nudges kept coming.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accord.demo.customers import TWELVE_DOLLARS, Customers
from accord.demo.tables import Table
from accord.demo.world import AS_OF, DAYS, NEVER, at_hours, ids, pick, plus_days, plus_hours, ts, weekday

# Features shipped per quarter, 2024-Q4 to 2026-Q3: the roadmap's velocity push.
FEATURES = (12, 13, 15, 16, 18, 21, 26, 34)
QUARTERS = np.arange(np.datetime64("2024-10", "M"), np.datetime64("2026-10", "M"), 3)
STEPS = ("account_created", "invited_team", "connected_data", "sso_configured", "first_dashboard", "go_live")
STEP_DAYS = {"account_created": (0, 1), "invited_team": (0, 3), "connected_data": (1, 7),
             "sso_configured": (2, 10), "first_dashboard": (3, 15), "go_live": (10, 36)}
BLOCKERS = {"connected_data": ["Warehouse permissions", "Connector auth failing", "CSV import errors"],
            "sso_configured": ["SSO metadata rejected", "SCIM provisioning errors"],
            "first_dashboard": ["Data model mismatch", "Slow queries on large tables"]}
KESTREL = "ACC-01777"
_ADJ = ["Scheduled", "Shared", "Embedded", "Custom", "Row-level", "AI-assisted", "Bulk", "Live", "Mobile",
        "Versioned", "Smart", "Multi-currency"]
_NOUN = ["dashboards", "exports", "alerts", "connectors", "permissions", "SQL editor", "annotations", "themes",
         "goal tracking", "forecasts", "data catalog", "audit log", "drill-downs"]
SQUADS = ["Dashboards", "Connectors", "Platform", "Admin & SSO", "AI assistant"]


@dataclass
class Releases:
    table: Table
    id: np.ndarray
    shipped: np.ndarray
    feature: np.ndarray


def releases(rng: np.random.Generator) -> Releases:
    """Features per FEATURES, plus improvements and fixes, shipped Tuesday to Thursday."""
    day, kind = [], []
    for q, features in zip(QUARTERS, FEATURES):
        span = DAYS[(DAYS >= q.astype("datetime64[D]")) & (DAYS < (q + 3).astype("datetime64[D]"))]
        span = span[np.isin(weekday(span), [1, 2, 3])]
        for k, n in (("feature", features), ("improvement", rng.poisson(9)), ("fix", rng.poisson(15))):
            day.append(rng.choice(span, n))
            kind.append(np.full(n, k, dtype=object))
    day, kind = np.concatenate(day), np.concatenate(kind)
    order = np.argsort(day, kind="stable")
    day, kind = day[order], kind[order]
    n = len(day)
    title = np.array([f"{_ADJ[(i * 5) % len(_ADJ)]} {_NOUN[(i * 7 + i // 13) % len(_NOUN)]}" for i in range(n)],
                     dtype=object)
    title = np.where(kind == "fix", np.char.add("Fix: ", title.astype(str)).astype(object), title)
    rid = ids("REL-", n, width=4)
    table = Table("data/product/releases.parquet", {
        "release_id": ("string", rid),
        "shipped_on": ("date", day),
        "kind": ("string", kind),
        "squad": ("string", pick(rng, SQUADS, n)),
        "title": ("string", title),
    })
    return Releases(table, rid, day, kind == "feature")


@dataclass
class Onboarding:
    events: Table
    blockers: Table
    customer: np.ndarray       # per onboarding customer: index into customers
    users: np.ndarray          # number of users
    go_live: np.ndarray        # when they went live (NaT: not yet)


def onboarding(rng: np.random.Generator, customers: Customers) -> Onboarding:
    new = np.flatnonzero(customers.deal >= 0)
    n = len(new)
    start = customers.since[new].astype("datetime64[s]") + np.timedelta64(9 * 3600, "s")
    users = 2 + rng.poisson(4, n)
    kestrel = customers.id[new] == KESTREL
    users[kestrel] = 4
    step_at = {s: plus_days(start, rng.uniform(*STEP_DAYS[s], n)) for s in STEPS}
    has_sso = np.isin(customers.segment[new], ["Mid-Market", "Enterprise", "Strategic"])
    blocked = rng.random(n) < 0.35
    where = np.where(has_sso & (rng.random(n) < 0.4), "sso_configured",
                     pick(rng, ["connected_data", "first_dashboard"], n)).astype(object)
    blocked[kestrel], where[kestrel] = True, "sso_configured"
    blocked_at = np.array([step_at[w][i] for i, w in enumerate(where)])
    stuck_days = np.exp(rng.normal(np.log(6), 0.8, n))
    unblocked = plus_days(blocked_at, stuck_days)
    blocked_at[kestrel], unblocked[kestrel] = ts("2026-08-06T11:20:00"), ts("2026-08-27T15:02:00")
    delay = np.where(blocked, unblocked - blocked_at, np.timedelta64(0, "s"))
    after = {s: STEPS.index(s) for s in STEPS}
    go_live_ok = rng.random(n) < 0.92
    go_live_ok[kestrel] = True

    cust, user, step, at = [], [], [], []
    for s in STEPS:
        t = step_at[s]
        later = blocked & (np.array([after[w] for w in where]) <= after[s])
        t = np.where(later, t + delay, t)
        here = blocked & (where == s)          # the blocked step completes soon after it is unblocked
        t = np.where(here, plus_days(unblocked, rng.uniform(0.05, 1.0, n)), t)
        happened = (s != "sso_configured") | has_sso
        if s == "go_live":
            happened = happened & go_live_ok
        t = np.where(happened, t, NEVER)
        step_at[s] = t
        who = np.flatnonzero(~np.isnat(t) & (t < AS_OF))
        cust.append(new[who])
        user.append(np.char.add(customers.id[new[who]], "-U1"))
        step.append(np.full(len(who), s, dtype=object))
        at.append(t[who])
    # every invited user logs in and looks at a dashboard
    per_user = np.repeat(np.arange(n), users)
    k = np.concatenate([np.arange(1, u + 1) for u in users])
    for s, lo, hi in (("first_login", 0.5, 12), ("viewed_dashboard", 2, 20)):
        t = plus_days(step_at["invited_team"][per_user], rng.uniform(lo, hi, len(per_user)))
        ok = t < AS_OF
        cust.append(new[per_user[ok]])
        user.append(np.char.add(np.char.add(customers.id[new[per_user[ok]]], "-U"), k[ok].astype(str)))
        step.append(np.full(int(ok.sum()), s, dtype=object))
        at.append(t[ok])
    cust, user, step, at = (np.concatenate(x) for x in (cust, user, step, at))
    order = np.argsort(at, kind="stable")
    cust, user, step, at = cust[order], user[order], step[order], at[order]
    m = len(at)
    lost = rng.random(m) < 0.005                 # the SDK sometimes drops the timestamp
    events = Table("data/product/onboarding_events.parquet", {
        "event_id": ("string", ids("EV-", m, width=7)),
        "customer_id": ("string", customers.id[cust]),
        "user_id": ("string", user),
        "step": ("string", step),
        "event_at": ("iso", np.where(lost, NEVER, at)),
    })

    b = np.flatnonzero(blocked & (blocked_at < AS_OF))
    b = b[np.argsort(blocked_at[b], kind="stable")]
    reason = np.array([BLOCKERS[w][rng.integers(len(BLOCKERS[w]))] for w in where[b]], dtype=object)
    reason[customers.id[new[b]] == KESTREL] = "SSO metadata rejected (expired certificate)"
    still = unblocked[b] >= AS_OF
    blockers = Table("data/product/onboarding_blockers.parquet", {
        "blocker_id": ("string", ids("BLK-", len(b), width=5)),
        "customer_id": ("string", customers.id[new[b]]),
        "step": ("string", where[b]),
        "reason": ("string", reason),
        "blocked_at": ("iso", blocked_at[b]),
        "unblocked_at": ("iso", np.where(still, NEVER, unblocked[b])),
    })
    return Onboarding(events, blockers, new, users, step_at["go_live"])


def messages(rng: np.random.Generator, customers: Customers, rel: Releases, onb: Onboarding) -> Table:
    """Nudges on a fixed schedule until go-live, release announcements, monthly in-app surveys."""
    cust, user, kind, channel, at, title = [], [], [], [], [], []

    def add(who: np.ndarray, users: np.ndarray, what: str, via, when: np.ndarray, text: str) -> None:
        cust.append(who)
        user.append(users)
        kind.append(np.full(len(who), what))
        channel.append(np.asarray(via) if np.ndim(via) else np.full(len(who), via))
        at.append(when)
        title.append(np.full(len(who), text))

    per_user = np.repeat(np.arange(len(onb.customer)), onb.users)
    k = np.concatenate([np.arange(1, u + 1) for u in onb.users])
    start = customers.since[onb.customer[per_user]].astype("datetime64[s]")
    uid = np.char.add(np.char.add(customers.id[onb.customer[per_user]], "-U"), k.astype(str))
    for d, text in ((1, "Welcome to Northwind: three steps to your first dashboard"),
                    (3, "Connect your data in five minutes"), (7, "Finish setting up SSO in five minutes"),
                    (14, "Your team is waiting: invite them now"), (21, "Ready to go live? Here is a checklist")):
        t = plus_hours(start + np.timedelta64(d, "D"), 10 + rng.uniform(-0.3, 0.3, len(per_user)))
        live = onb.go_live[per_user]
        ok = (np.isnat(live) | (t < live)) & (t < AS_OF)
        add(onb.customer[per_user[ok]], uid[ok], "onboarding_nudge",
            np.where(rng.random(int(ok.sum())) < 0.5, "email", "in_app"), t[ok], text)

    for rid, day, feat in zip(rel.id, rel.shipped, rel.feature):
        if not feat:
            continue
        pool = np.flatnonzero(customers.active_mask(day))
        pool = pool[rng.random(len(pool)) < 0.25]
        t = plus_hours(np.full(len(pool), day).astype("datetime64[s]"), rng.uniform(13, 15.5, len(pool)))
        add(pool, np.char.add(customers.id[pool], "-U1"), "release_note", "in_app", t,
            f"New in Northwind ({rid})")

    months = np.unique(DAYS.astype("datetime64[M]"))
    for m in months:
        days = DAYS[(DAYS.astype("datetime64[M]") == m) & (weekday(DAYS) < 5)]
        pool = np.flatnonzero(customers.active_mask(days[0]))
        pool = pool[rng.random(len(pool)) < 0.08]
        t = at_hours(rng, rng.choice(days, len(pool)))
        add(pool, np.char.add(customers.id[pool], "-U1"), "in_app_survey", "in_app", t,
            "How are you finding Northwind?")

    # Bluefin Logistics, day two of the $12 case: product asks how it likes the new dashboards.
    i = customers.index(TWELVE_DOLLARS)
    add(np.array([i]), np.array([f"{TWELVE_DOLLARS}-U1"]), "in_app_survey", "in_app",
        np.array([ts("2026-09-15T13:05:00")]), "How do you like the new dashboards?")

    cust, user, kind, channel, at, title = (np.concatenate(x) for x in (cust, user, kind, channel, at, title))
    keep = at < AS_OF
    cust, user, kind, channel, at, title = (x[keep] for x in (cust, user, kind, channel, at, title))
    order = np.argsort(at, kind="stable")
    n = len(order)
    return Table("data/product/messages.parquet", {
        "message_id": ("string", ids("MSG-", n, width=7)),
        "customer_id": ("string", customers.id[cust[order]]),
        "user_id": ("string", user[order]),
        "kind": ("string", kind[order]),
        "channel": ("string", channel[order]),
        "sent_at": ("timestamp", at[order]),
        "title": ("string", title[order]),
    })


"""Marketing automation's email sends: the newsletter and offers to customers, nurture to new leads."""
from __future__ import annotations

import numpy as np

from accord.demo.campaigns import FALL_OFFER
from accord.demo.customers import TWELVE_DOLLARS, Customers
from accord.demo.leads import Leads
from accord.demo.tables import Table
from accord.demo.world import AS_OF, DAYS, ids, plus_hours, ts, weekday

NURTURE_DAYS = (2, 6, 13, 20, 34)


def _send_days(first_weekday: int, every_weeks: int, start: str = "2024-10-01") -> np.ndarray:
    days = DAYS[(DAYS >= np.datetime64(start, "D")) & (weekday(DAYS) == first_weekday)]
    return days[::every_weeks]


def _nth_weekday(wd: int, nth: int, start: str) -> np.ndarray:
    """The nth given weekday of every month from start."""
    days = DAYS[(DAYS >= np.datetime64(start, "D")) & (weekday(DAYS) == wd)]
    month = days.astype("datetime64[M]")
    first = np.r_[True, month[1:] != month[:-1]]
    index = np.cumsum(first) - 1
    start_of = np.flatnonzero(first)
    return days[np.arange(len(days)) - start_of[index] == nth - 1]


def generate(rng: np.random.Generator, customers: Customers, leads: Leads) -> Table:
    camp, cust, lead, at = [], [], [], []

    def blast(campaign: str, day: np.datetime64, share: float, hour: float) -> None:
        pool = np.flatnonzero(customers.active_mask(day))
        if share < 1:
            pool = pool[rng.random(len(pool)) < share]
        n = len(pool)
        camp.append(np.full(n, campaign))
        cust.append(customers.id[pool])
        lead.append(np.full(n, ""))
        at.append(plus_hours(np.full(n, day).astype("datetime64[s]"), hour + rng.uniform(0, 0.7, n)))

    for day in _send_days(1, 2):                          # every other Tuesday
        blast("CMP-0601", day, 1.0, 10.0)
    for day in _nth_weekday(3, 3, "2024-10-01"):          # third Thursday
        blast("CMP-0603", day, 0.30, 11.0)
    for day in _nth_weekday(2, 1, "2025-03-01"):          # first Wednesday
        blast("CMP-0604", day, 0.25, 14.0)
    blast(FALL_OFFER, np.datetime64("2026-09-14", "D"), 0.40, 15.0)

    # Bluefin Logistics gets the fall seats offer on the day it opened its $12 billing case.
    camp.append(np.array([FALL_OFFER]))
    cust.append(np.array([TWELVE_DOLLARS]))
    lead.append(np.array([""]))
    at.append(np.array([ts("2026-09-14T15:30:00")]))

    n = len(leads.nurture_id)
    for d in NURTURE_DAYS:
        day = leads.nurture_from.astype("datetime64[D]") + np.timedelta64(d, "D")
        camp.append(np.full(n, "CMP-0602"))
        cust.append(np.full(n, ""))
        lead.append(leads.nurture_id)
        at.append(plus_hours(day.astype("datetime64[s]"), rng.uniform(9, 11, n)))

    camp, cust, lead, at = (np.concatenate(x) for x in (camp, cust, lead, at))
    keep = at < AS_OF
    camp, cust, lead, at = camp[keep], cust[keep], lead[keep], at[keep]
    bluefin = (cust == TWELVE_DOLLARS) & (camp == FALL_OFFER)
    drop = bluefin & (at != ts("2026-09-14T15:30:00"))      # keep the one planted send
    camp, cust, lead, at = camp[~drop], cust[~drop], lead[~drop], at[~drop]
    order = np.argsort(at, kind="stable")
    camp, cust, lead, at = camp[order], cust[order], lead[order], at[order]
    n = len(at)
    bounced = rng.random(n) < 0.015
    open_rate = np.select([camp == "CMP-0602", camp == "CMP-0601"], [0.18, 0.24], 0.30)
    opened = ~bounced & (rng.random(n) < open_rate)
    clicked = opened & (rng.random(n) < 0.12)
    return Table("data/marketing/email_sends.parquet", {
        "send_id": ("string", ids("ES-", n, width=7)),
        "campaign_id": ("string", camp),
        "customer_id": ("string", cust),
        "lead_id": ("string", lead),
        "sent_at": ("timestamp", at),
        "opened": ("bool", opened),
        "clicked": ("bool", clicked),
        "bounced": ("bool", bounced),
    })

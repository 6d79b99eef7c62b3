"""Leads in marketing automation, and the MQLs routed to the CRM where SDRs accept or reject them.

The planted handoff collision: from April 2026 a paid-social push (lead-gen forms, free templates)
adds about 40% more leads by 2026-Q3. The scoring model rewards form engagement, so most of them
become MQLs; SDRs, swamped, accept about a third fewer of what reaches them. Paid social is bought in
weekly flights, so the push's volume swings from week to week, and SDRs are most swamped in the weeks
it is heaviest: the weekly changes of lead volume and acceptance rate move against each other.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accord.demo import campaigns
from accord.demo.accounts import AccountBook
from accord.demo.tables import Table
from accord.demo.world import (AS_OF, DAYS, FIRST_MONDAY, NEVER, SDRS, SEED, WEEKS, emails, fraction_between, ids,
                               month_and_day, null_where, pick, plus_hours, weekday, years_since_start)

BASE_PER_DAY = 38.0
PUSH_SHARE = 0.36            # extra leads from the paid-social push, as a share of the baseline, from 2026-07
PUSH = ("2026-04-01", "2026-07-01")       # the push ramps up over 2026-Q2
PUSH_CAMPAIGNS = ("CMP-0311", "CMP-0312")
FLIGHT_SPREAD = 0.5         # log-sd of the push's weekly flight size (mean 1)
MQL_SCORE = 60
CHANNELS = ["organic", "paid_search", "webinar", "event", "paid_social", "display", "partner"]
CHANNEL_MIX = [0.30, 0.24, 0.14, 0.08, 0.10, 0.04, 0.10]


@dataclass
class Leads:
    ma: Table
    crm: Table
    accepted_id: np.ndarray          # accepted leads, in acceptance order, for the opportunities they become
    accepted_at: np.ndarray
    accepted_account: np.ndarray
    accepted_campaign: np.ndarray
    accepted_channel: np.ndarray
    nurture_id: np.ndarray           # every lead, for the nurture emails marketing sends
    nurture_from: np.ndarray


def _holiday(days: np.ndarray) -> np.ndarray:
    """Fewer leads between Christmas and New Year."""
    month, dom = month_and_day(days)
    return np.where(((month == 12) & (dom >= 23)) | ((month == 1) & (dom <= 2)), 0.45, 1.0)


def _flights() -> np.ndarray:
    """The push's spend per ISO week as a multiple of its average (mean 1), from a stream of its own."""
    own = np.random.default_rng([SEED, 1])
    return np.clip(own.lognormal(-FLIGHT_SPREAD ** 2 / 2, FLIGHT_SPREAD, len(WEEKS)), 0.0, 3.0)


def _week(days: np.ndarray) -> np.ndarray:
    return (days.astype("datetime64[D]") - FIRST_MONDAY).astype(np.int64) // 7


def generate(rng: np.random.Generator, book: AccountBook) -> Leads:
    weekend = weekday(DAYS) >= 5
    shape = np.where(weekend, 0.4, 1.24) * _holiday(DAYS)
    base_rate = BASE_PER_DAY * (1 + 0.03 * years_since_start(DAYS)) * shape
    flights = _flights()
    push_rate = BASE_PER_DAY * PUSH_SHARE * fraction_between(DAYS, *PUSH) * flights[_week(DAYS)] * shape
    base_n = rng.poisson(base_rate)
    push_n = rng.poisson(push_rate)
    day = np.concatenate([np.repeat(DAYS, base_n), np.repeat(DAYS, push_n)])
    push = np.concatenate([np.zeros(base_n.sum(), bool), np.ones(push_n.sum(), bool)])
    n = len(day)
    hours = np.where(rng.random(n) < 0.8, rng.normal(13, 3, n), rng.uniform(0, 24, n)) % 24
    created = plus_hours(day.astype("datetime64[s]"), hours)
    order = np.argsort(created, kind="stable")
    created, day, push = created[order], day[order], push[order]

    channel = np.where(push, "paid_social", pick(rng, CHANNELS, n, p=CHANNEL_MIX)).astype(object)
    campaign = np.full(n, None, dtype=object)
    campaign[~push] = campaigns.assign(rng, channel[~push], day[~push])
    campaign[push] = campaigns.assign(rng, channel[push], day[push], only={"paid_social": PUSH_CAMPAIGNS})
    channel[(channel == "event") & np.equal(campaign, None)] = "organic"     # no event running that day
    campaign[channel == "partner"] = None

    lead_type = np.where(push, pick(rng, ["business", "student", "competitor"], n, p=[0.80, 0.16, 0.04]),
                         pick(rng, ["business", "partner", "student", "competitor"], n,
                              p=[0.87, 0.04, 0.06, 0.03])).astype(object)
    junk = np.isin(lead_type, ["student", "competitor"])
    score = np.where(junk, rng.normal(48, 20, n), np.where(push, rng.normal(64, 13, n), rng.normal(57, 17, n)))
    score = np.clip(np.round(score), 0, 100).astype(np.int64)
    mql = score >= MQL_SCORE
    mql_at = np.where(mql, plus_hours(created, 0.2 + rng.exponential(18, n)), NEVER)
    mql_at[mql_at >= AS_OF] = NEVER

    # Most business leads match a CRM account; a quarter of those are a second lead at the same prospect.
    account = np.full(n, None, dtype=object)
    matched = ~junk & (rng.random(n) < 0.8)
    fresh = matched & (rng.random(n) < 0.75)
    account[fresh] = book.prospects(created[fresh])
    again = np.flatnonzero(matched & ~fresh)
    known = np.flatnonzero(fresh)
    earlier = np.searchsorted(known, again) - 1
    ok = earlier >= 0
    back = np.maximum(earlier - rng.integers(0, 40, len(again)), 0)
    account[again[ok]] = account[known[back[ok]]]

    lead_id = ids("L-", n, start=100001, width=7)
    country = pick(rng, ["US", "US", "US", "CA", "GB", "GB", "DE", "FR", "NL", "AU"], n)
    ma = Table("data/marketing/leads.parquet", {
        "lead_id": ("string", lead_id),
        "created_at": ("timestamp", created),
        "channel": ("string", channel),
        "campaign_id": ("string", campaign),
        "lead_type": ("string", lead_type),
        "country": ("string", country),
        "score": ("int", score),
        "mql_at": ("timestamp", mql_at),
        "account_id": ("string", account),
    })

    # Routing: every MQL lands in the CRM within minutes; an SDR accepts or rejects it in a day or two.
    r = np.flatnonzero(~np.isnat(mql_at))
    routed = plus_hours(mql_at[r], rng.uniform(0.03, 2.0, len(r)))
    keep = routed < AS_OF
    r, routed = r[keep], routed[keep]
    m = len(r)
    routed_day = routed.astype("datetime64[D]")
    overload = fraction_between(routed_day, *PUSH) * flights[np.minimum(_week(routed_day), len(WEEKS) - 1)]
    p_accept = np.where(junk[r], 0.01, np.where(push[r], 0.10, 0.36 * (1 - 0.24 * overload)))
    accepted = rng.random(m) < p_accept
    decided = plus_hours(routed, np.exp(rng.normal(np.log(26), 0.8, m)))
    working = decided >= AS_OF
    status = np.where(working, "Working", np.where(accepted, "Accepted", "Rejected")).astype(object)
    reason = np.where(lead_type[r] == "student", "Student or personal",
                      np.where(lead_type[r] == "competitor", "Competitor",
                               pick(rng, ["No budget", "Wrong persona", "No response", "Duplicate", "Too small"],
                                    m, p=[0.22, 0.30, 0.28, 0.08, 0.12])))
    reason = np.where(push[r] & ~junk[r], pick(rng, ["Wrong persona", "No response", "Too small"], m), reason)
    crm = Table("data/crm/leads.parquet", {
        "lead_id": ("string", lead_id[r]),
        "account_id": ("string", account[r]),
        "lead_source": ("string", channel[r]),
        "sdr": ("string", emails(pick(rng, SDRS, m))),
        "routed_at": ("timestamp", routed),
        "status": ("string", status),
        "accepted_at": ("timestamp", np.where(status == "Accepted", decided, NEVER)),
        "rejected_reason": ("string", null_where(reason, status != "Rejected")),
    })
    yes = np.flatnonzero(status == "Accepted")
    by_time = yes[np.argsort(decided[yes], kind="stable")]
    return Leads(ma, crm, lead_id[r][by_time], decided[by_time], account[r][by_time], campaign[r][by_time],
                 channel[r][by_time], lead_id, created)

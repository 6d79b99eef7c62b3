"""Opportunities as they really happened: every milestone with its time, so any system's copy at any
moment (the CRM today, the finance sheet at its last refresh) can be read off the same history.

The planted lead: a new-business deal is qualified at a demo and, when won, closes about five weeks
later, so weekly demos held lead new ARR by five weeks. Demand swings week to week, which makes the
lag visible in the weekly series.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from accord.demo.accounts import ARR_MEDIAN, SEGMENTS, AccountBook
from accord.demo.leads import Leads
from accord.demo.world import (AES, AS_OF, NEVER, START, WEEKS, ar1, at_hours, day_of, fraction_between,
                               pick, plus_days, round_to, to_workday, ts, years_since_start)

STAGES = ("Discovery", "Qualified", "Proposal", "Negotiation", "Closed Won", "Closed Lost", "Nurture")
DEMO_TO_CLOSE_DAYS = 35
WIN_RATE = {"SMB": 0.40, "Mid-Market": 0.37, "Enterprise": 0.31, "Strategic": 0.26}
NB_PER_WEEK = 42.0


@dataclass
class Deals:
    """One row per opportunity, with its full history."""

    account_id: np.ndarray
    type: np.ndarray                 # New Business, Expansion, Renewal
    segment: np.ndarray
    lead_source: np.ndarray          # Marketing, Outbound, Partner, Customer
    lead_id: np.ndarray
    crm_campaign: np.ndarray         # the CRM's primary campaign: set only for marketing-sourced deals
    ma_campaign: np.ndarray          # marketing automation's first-touch attribution: much broader
    owner: np.ndarray
    created_at: np.ndarray
    demo_at: np.ndarray
    qualified_at: np.ndarray
    proposal_at: np.ndarray
    negotiation_at: np.ndarray
    nurture_at: np.ndarray
    closed_at: np.ndarray            # when it closes (or will: beyond AS_OF it is still open)
    won: np.ndarray
    loss_reason: np.ndarray
    amount_initial: np.ndarray
    amount_revised: np.ndarray       # set at qualification; equal to amount_initial when never revised
    first_close_estimate: np.ndarray  # the rep's guess at creation (a date)
    rep_updates_close: np.ndarray     # whether the rep keeps the expected close date current

    def __len__(self) -> int:
        return len(self.account_id)

    @staticmethod
    def concat(parts: list["Deals"]) -> "Deals":
        return Deals(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Deals)})

    def take(self, index: np.ndarray) -> "Deals":
        return Deals(**{f.name: getattr(self, f.name)[index] for f in fields(Deals)})

    # ---------------------------------------------------------------- a system's view at a moment

    def closed_by(self, t: np.datetime64) -> np.ndarray:
        return ~np.isnat(self.closed_at) & (self.closed_at < t)

    def stage_at(self, t: np.datetime64) -> np.ndarray:
        def reached(x):
            return ~np.isnat(x) & (x < t)
        closed = self.closed_by(t)
        return np.select(
            [closed & self.won, closed & ~self.won, reached(self.nurture_at), reached(self.negotiation_at),
             reached(self.proposal_at), reached(self.qualified_at)],
            ["Closed Won", "Closed Lost", "Nurture", "Negotiation", "Proposal", "Qualified"],
            "Discovery").astype(object)

    def amount_at(self, t: np.datetime64) -> np.ndarray:
        revised = ~np.isnat(self.qualified_at) & (self.qualified_at < t)
        return np.where(revised, self.amount_revised, self.amount_initial)

    def expected_close_at(self, t: np.datetime64, rng: np.random.Generator) -> np.ndarray:
        """The expected close date a report run at t shows: the close date once closed, a current guess
        from reps who keep it up to date, and the stale first guess from those who do not."""
        day = np.datetime64(t, "D")
        closed = self.closed_by(t)
        guess = day_of(self.closed_at) + np.round(rng.normal(-5, 8, len(self))).astype("timedelta64[D]")
        guess = np.where(np.isnat(guess), self.first_close_estimate, np.maximum(guess, day))
        current = np.where(self.rep_updates_close, guess, self.first_close_estimate)
        return np.where(closed, day_of(self.closed_at), current).astype("datetime64[D]")


def _empty(n: int, value=None) -> np.ndarray:
    return np.full(n, value, dtype=object)


def _month_end(days: np.ndarray) -> np.ndarray:
    m = days.astype("datetime64[M]") + 1
    return m.astype("datetime64[D]") - 1


def new_business(rng: np.random.Generator, book: AccountBook, leads: Leads) -> Deals:
    """Weekly demand swings (short-memory AR(1)) drive new-business deals, their demos and wins."""
    swing = ar1(rng, len(WEEKS), 0.3)
    rate = NB_PER_WEEK * (1 + 0.04 * years_since_start(WEEKS)) * np.exp(0.45 * swing - 0.1)
    n_week = rng.poisson(rate)
    week = np.repeat(WEEKS, n_week)
    day = week + rng.integers(0, 5, len(week)).astype("timedelta64[D]")
    created = at_hours(rng, day, mean=12.5, sd=2.2)
    created = np.sort(created[(created >= START) & (created < AS_OF)])
    n = len(created)

    source = pick(rng, ["Marketing", "Outbound", "Partner"], n, p=[0.55, 0.35, 0.10])
    lead_id, account, crm_campaign = _empty(n), _empty(n), _empty(n)
    used = np.zeros(len(leads.accepted_id), bool)
    lo_all = np.searchsorted(leads.accepted_at, created - np.timedelta64(30 * 86400, "s"))
    hi_all = np.searchsorted(leads.accepted_at, created)
    for i in np.flatnonzero(source == "Marketing"):
        free = np.flatnonzero(~used[lo_all[i]:hi_all[i]]) + lo_all[i]
        if len(free) == 0:
            source[i] = "Outbound"
            continue
        j = free[rng.integers(len(free))]
        used[j] = True
        lead_id[i], account[i], crm_campaign[i] = (leads.accepted_id[j], leads.accepted_account[j],
                                                   leads.accepted_campaign[j])
    segment = pick(rng, list(SEGMENTS), n, p=[0.46, 0.34, 0.16, 0.04])
    need = np.flatnonzero(account == None)  # noqa: E711
    account[need] = book.prospects(created[need], segment[need])
    has = np.flatnonzero(account != None)  # noqa: E711
    segment[has] = book.segment_of(account[has])
    ma_campaign = np.where(source == "Marketing", crm_campaign, None).astype(object)
    influenced = (source != "Marketing") & (rng.random(n) < np.where(source == "Outbound", 0.6, 0.4))
    ma_campaign[influenced] = pick(rng, ["CMP-0601", "CMP-0602", "CMP-0603", "CMP-0406", "CMP-0407",
                                         "CMP-0408", "CMP-0103"], int(influenced.sum()))
    deals = _progress(rng, created, segment, np.full(n, "New Business", dtype=object), source)
    deals.account_id, deals.lead_id = account, lead_id
    deals.crm_campaign, deals.ma_campaign = crm_campaign, ma_campaign
    book.planted("ACC-01777", "Mid-Market", "2026-06-22T09:40:00")
    return Deals.concat([deals, _kestrel()])


def _progress(rng: np.random.Generator, created: np.ndarray, segment: np.ndarray, kind: np.ndarray,
              source: np.ndarray) -> Deals:
    """Each new deal's milestones: demo and qualification, proposal, negotiation, close or nurture."""
    n = len(created)
    median = np.array([ARR_MEDIAN[s] for s in segment])
    smaller = 1 - 0.15 * fraction_between(day_of(created), "2025-07-01", "2026-09-30")
    initial = round_to(median * np.exp(rng.normal(0, 0.45, n)) * smaller, 100)
    qualified = rng.random(n) < np.where(segment == "Strategic", 0.8, 0.72)
    demo = at_hours(rng, to_workday(day_of(created) + rng.integers(2, 8, n).astype("timedelta64[D]")), mean=13, sd=2)
    demo = np.where(qualified, demo, NEVER)
    qualified_at = np.where(qualified, plus_days(demo, rng.uniform(0.05, 0.2, n)), NEVER)
    won = qualified & (rng.random(n) < np.array([WIN_RATE[s] for s in segment]))
    won_close = plus_days(demo, DEMO_TO_CLOSE_DAYS + np.clip(np.round(rng.normal(0, 1.0, n)), -2, 2))
    lost_close = plus_days(demo, rng.uniform(14, 100, n))
    nurtured = ~qualified & (rng.random(n) < 0.3)
    early_loss = plus_days(created, rng.uniform(5, 40, n))
    close = np.where(won, won_close, np.where(qualified, lost_close, np.where(nurtured, NEVER, early_loss)))
    close_day = to_workday(day_of(close))
    close = np.where(np.isnat(close), NEVER, at_hours(rng, close_day, mean=14, sd=2.5))
    nurture_at = np.where(nurtured, plus_days(created, rng.uniform(10, 30, n)), NEVER)
    proposal = plus_days(qualified_at, rng.uniform(4, 12, n))
    proposal = np.where(qualified & (proposal < plus_days(close, -2)), proposal, NEVER)
    negotiation = plus_days(close, -rng.uniform(4, 12, n))
    negotiation = np.where((won | (qualified & (rng.random(n) < 0.4))) & ~np.isnat(proposal)
                           & (negotiation > proposal), negotiation, NEVER)
    revise = qualified & (rng.random(n) < 0.6)
    revised = np.where(revise, round_to(initial * np.exp(rng.normal(-0.10, 0.15, n)), 100), initial)
    reason = np.where(qualified, pick(rng, ["Price", "Chose competitor", "No decision", "Timing",
                                            "Missing feature"], n),
                      pick(rng, ["Not a fit", "No budget", "No response"], n))
    reason = np.where(won | nurtured, None, reason).astype(object)
    estimate = day_of(created) + rng.integers(30, 76, n).astype("timedelta64[D]")
    estimate = np.where(rng.random(n) < 0.5, _month_end(estimate), estimate)
    return Deals(
        account_id=_empty(n), type=kind, segment=segment, lead_source=source, lead_id=_empty(n),
        crm_campaign=_empty(n), ma_campaign=_empty(n),
        owner=pick(rng, AES, n), created_at=created, demo_at=demo, qualified_at=qualified_at,
        proposal_at=proposal, negotiation_at=negotiation, nurture_at=nurture_at, closed_at=close, won=won,
        loss_reason=reason, amount_initial=initial, amount_revised=revised,
        first_close_estimate=estimate.astype("datetime64[D]"), rep_updates_close=rng.random(n) < 0.55)


def _kestrel() -> Deals:
    """Kestrel Health, won in August 2026: the onboarding story's customer."""
    one = lambda v: np.array([v], dtype=object)  # noqa: E731
    t = lambda s: np.array([ts(s)])  # noqa: E731
    return Deals(
        account_id=one("ACC-01777"), type=one("New Business"), segment=one("Mid-Market"),
        lead_source=one("Marketing"), lead_id=one(None), crm_campaign=one("CMP-0407"), ma_campaign=one("CMP-0407"),
        owner=one("hana.sato"), created_at=t("2026-06-22T09:40:00"), demo_at=t("2026-06-29T14:00:00"),
        qualified_at=t("2026-06-29T16:30:00"), proposal_at=t("2026-07-08T11:00:00"),
        negotiation_at=t("2026-07-24T15:00:00"), nurture_at=np.array([NEVER]), closed_at=t("2026-08-03T11:15:00"),
        won=np.array([True]), loss_reason=one(None), amount_initial=np.array([34_000.0]),
        amount_revised=np.array([31_500.0]), first_close_estimate=np.array([np.datetime64("2026-07-31", "D")]),
        rep_updates_close=np.array([True]))


def expansions(rng: np.random.Generator, customers, per_week: float = 10.0) -> Deals:
    """Upsell deals with existing customers: qualified in a meeting, no demo."""
    n_week = rng.poisson(per_week, len(WEEKS))
    day = np.repeat(WEEKS, n_week) + rng.integers(0, 5, n_week.sum()).astype("timedelta64[D]")
    created = np.sort(at_hours(rng, day))
    created = created[(created >= START) & (created < AS_OF)]
    n = len(created)
    who = customers.pick_active(rng, day_of(created), min_tenure_days=90)
    ok = who >= 0
    created, who = created[ok], who[ok]
    n = len(created)
    segment = customers.segment[who]
    initial = round_to(np.array([ARR_MEDIAN[s] for s in segment]) * 0.3 * np.exp(rng.normal(0, 0.5, n)), 100)
    qualified = rng.random(n) < 0.8
    qualified_at = np.where(qualified, plus_days(created, rng.uniform(1, 8, n)), NEVER)
    won = qualified & (rng.random(n) < 0.55)
    close = np.where(qualified, plus_days(created, rng.uniform(20, 60, n)), plus_days(created, rng.uniform(5, 30, n)))
    close = at_hours(rng, to_workday(day_of(close)), mean=14, sd=2.5)
    proposal = np.where(qualified, plus_days(qualified_at, rng.uniform(3, 8, n)), NEVER)
    proposal = np.where(proposal < close, proposal, NEVER)
    reason = np.where(won, None, np.where(qualified, "No decision", "Not now")).astype(object)
    revised = np.where(qualified, round_to(initial * np.exp(rng.normal(-0.05, 0.1, n)), 100), initial)
    return Deals(
        account_id=customers.id[who], type=np.full(n, "Expansion", dtype=object), segment=segment,
        lead_source=np.full(n, "Customer", dtype=object), lead_id=_empty(n), crm_campaign=_empty(n),
        ma_campaign=np.where(rng.random(n) < 0.6, pick(rng, ["CMP-0603", "CMP-0604", "CMP-0601"], n), None),
        owner=pick(rng, AES, n), created_at=created, demo_at=np.full(n, NEVER), qualified_at=qualified_at,
        proposal_at=proposal, negotiation_at=np.full(n, NEVER), nurture_at=np.full(n, NEVER), closed_at=close,
        won=won, loss_reason=reason, amount_initial=initial, amount_revised=revised,
        first_close_estimate=_month_end(day_of(created) + np.timedelta64(30, "D")),
        rep_updates_close=rng.random(n) < 0.7)


def renewals(rng: np.random.Generator, customers) -> Deals:
    """One renewal per contract anniversary, opened 90 days ahead; lost when the customer churns."""
    r = customers.renewals
    due = r["on"].astype("datetime64[D]")
    created = at_hours(rng, to_workday(due - np.timedelta64(90, "D")))
    keep = (created >= START) & (created < AS_OF)       # the CRM holds deals opened since October 2024
    r = {k: v[keep] for k, v in r.items()}
    due, created = due[keep], created[keep]
    n = len(due)
    close = at_hours(rng, to_workday(due - rng.integers(0, 10, n).astype("timedelta64[D]")), mean=15, sd=2)
    won = ~r["churn"]
    amount = round_to(np.where(won, r["arr_after"], r["arr_before"]), 100)
    return Deals(
        account_id=customers.id[r["customer"]], type=np.full(n, "Renewal", dtype=object),
        segment=customers.segment[r["customer"]], lead_source=np.full(n, "Customer", dtype=object),
        lead_id=_empty(n), crm_campaign=_empty(n),
        ma_campaign=np.where(rng.random(n) < 0.7, pick(rng, ["CMP-0601", "CMP-0603"], n), None),
        owner=pick(rng, AES, n), created_at=created, demo_at=np.full(n, NEVER),
        qualified_at=plus_days(created, 5), proposal_at=plus_days(created, 45),
        negotiation_at=plus_days(created, 70), nurture_at=np.full(n, NEVER), closed_at=close, won=won,
        loss_reason=np.where(won, None, "Churned").astype(object), amount_initial=amount, amount_revised=amount,
        first_close_estimate=due, rep_updates_close=np.ones(n, bool))

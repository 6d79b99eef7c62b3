"""Paying customers over time, and what billing holds about them: subscriptions, invoices, dunning, churn.

Planted: retention is flat (about 0.95% of customers churn at renewal every month), while revenue per
account erodes. Until June 2025 renewals carried a 4% list-price uplift; since then the save desk has
renewed at about 16% off, and new deals got smaller. Lifetime value falls while every marketing
dashboard is green.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from accord.demo.accounts import ARR_MEDIAN, AccountBook
from accord.demo.deals import Deals
from accord.demo.tables import Table
from accord.demo.world import AS_OF, NEVER, START, at_hours, day_of, ids, pick, plus_hours, round_to, ts

CHURN_PER_MONTH = 0.0095        # of active customers, chosen among that month's renewals
DISCOUNTS_FROM = np.datetime64("2025-06-01", "D")
PLANS = {"SMB": "Starter", "Mid-Market": "Growth", "Enterprise": "Business", "Strategic": "Enterprise"}
TWELVE_DOLLARS = "ACC-00427"          # the customer with the disputed $12 charge
NEVER_D = np.datetime64("NaT", "D")


@dataclass
class Customers:
    id: np.ndarray
    segment: np.ndarray
    since: np.ndarray                # contract start (anniversaries count from here)
    billing_start: np.ndarray        # first day billing has (the October 2024 import for older customers)
    arr0: np.ndarray
    deal: np.ndarray                 # index of the won new-business deal that made them a customer (-1: imported)
    churn_on: np.ndarray = field(default=None)
    expansions: list = field(default_factory=list)   # (customer index, date, arr, index of the upsell deal)
    renewals: dict = field(default_factory=dict)
    _events: dict | None = field(default=None, repr=False)      # per customer, built on first use

    def __len__(self) -> int:
        return len(self.id)

    def active_mask(self, day: np.datetime64, min_tenure_days: int = 0) -> np.ndarray:
        start = self.billing_start + np.timedelta64(min_tenure_days, "D")
        return (start <= day) & (day < self._end())

    def _end(self) -> np.ndarray:
        return np.where(np.isnat(self.churn_on), np.datetime64("2100-01-01", "D"), self.churn_on)

    def pick_active(self, rng: np.random.Generator, days: np.ndarray, min_tenure_days: int = 0) -> np.ndarray:
        """A random customer active on each day (-1 when none is found), by rejection sampling."""
        days = days.astype("datetime64[D]")
        start, end = self.billing_start + np.timedelta64(min_tenure_days, "D"), self._end()
        out = np.full(len(days), -1)
        todo = np.arange(len(days))
        for _ in range(60):
            cand = rng.integers(0, len(self), len(todo))
            ok = (start[cand] <= days[todo]) & (days[todo] < end[cand])
            out[todo[ok]] = cand[ok]
            todo = todo[~ok]
            if not len(todo):
                break
        return out

    def index(self, account_id: str) -> int:
        return int(np.flatnonzero(self.id == account_id)[0])

    def arr_at(self, i: int, days: np.ndarray) -> np.ndarray:
        """A customer's ARR on each of `days` (sorted): expansions add, renewals reprice everything."""
        if self._events is None:
            self._events = {}
            for c, d, v, _ in self.expansions:
                self._events.setdefault(c, []).append((d, "add", v))
            r = self.renewals
            for c, d, churn, f in zip(r["customer"], r["on"], r["churn"], r["factor"]):
                if not churn:
                    self._events.setdefault(int(c), []).append((d, "mul", f))
            for e in self._events.values():
                e.sort(key=lambda x: (x[0], x[1]))
        events = self._events.get(i, [])
        steps = [float(self.arr0[i])]
        for _, how, v in events:
            steps.append(steps[-1] + v if how == "add" else steps[-1] * v)
        when = np.array([e[0] for e in events], dtype="datetime64[D]")
        return np.array(steps)[np.searchsorted(when, np.asarray(days, dtype="datetime64[D]"), side="right")]


def build(rng: np.random.Generator, book: AccountBook, new_business: Deals) -> Customers:
    base = len(book.base_ids)
    seg = book.base_segment
    arr0 = round_to(np.array([ARR_MEDIAN[s] for s in seg]) * np.exp(rng.normal(0, 0.5, base)), 100)
    won = np.flatnonzero(new_business.won & new_business.closed_by(np.datetime64(AS_OF, "s")))
    won = won[np.argsort(new_business.closed_at[won], kind="stable")]
    _, first = np.unique(new_business.account_id[won], return_index=True)
    won = won[np.sort(first)]
    since_new = day_of(new_business.closed_at[won])
    c = Customers(
        id=np.concatenate([book.base_ids, new_business.account_id[won]]).astype(str),
        segment=np.concatenate([seg, new_business.segment[won]]),
        since=np.concatenate([book.base_since, since_new]),
        billing_start=np.concatenate([np.full(base, START), since_new]),
        arr0=np.concatenate([arr0, new_business.amount_revised[won]]),
        deal=np.concatenate([np.full(base, -1), won]),
    )
    _churn(rng, c)
    return c


def _anniversaries(since: np.ndarray, years: int) -> np.ndarray:
    months = since.astype("datetime64[M]")
    dom = np.minimum((since - months.astype("datetime64[D]")).astype(np.int64), 27)
    return (months + 12 * years).astype("datetime64[D]") + dom.astype("timedelta64[D]")


def _churn(rng: np.random.Generator, c: Customers) -> None:
    """A fixed share of active customers churns each month at renewal, so retention stays flat."""
    horizon = AS_OF + np.timedelta64(100, "D")
    cust, on = [], []
    for k in range(1, 9):
        a = _anniversaries(c.since, k)
        ok = (a >= START) & (a < horizon)
        cust.append(np.flatnonzero(ok))
        on.append(a[ok])
    cust, on = np.concatenate(cust), np.concatenate(on)
    order = np.lexsort((cust, on))
    cust, on = cust[order], on[order]
    churn = np.zeros(len(cust), bool)
    churn_on = np.full(len(c), NEVER_D)
    c.churn_on = churn_on                     # filled in below, month by month
    protected = np.isin(c.id, [TWELVE_DOLLARS])
    for month in np.unique(on.astype("datetime64[M]")):
        rows = np.flatnonzero((on.astype("datetime64[M]") == month) & np.isnat(churn_on[cust]))
        eligible = rows[~protected[cust[rows]]]
        k = int(round(CHURN_PER_MONTH * c.active_mask(month.astype("datetime64[D]")).sum()))
        chosen = rng.choice(eligible, size=min(k, len(eligible)), replace=False)
        churn[chosen] = True
        churn_on[cust[chosen]] = on[chosen]
    keep = ~(~np.isnat(churn_on[cust]) & (on > churn_on[cust]))      # no renewals after churning
    cust, on, churn = cust[keep], on[keep], churn[keep]
    factor = np.where(on < DISCOUNTS_FROM, 1.04, np.clip(rng.normal(0.84, 0.04, len(on)), 0.72, 0.95))
    c.churn_on = churn_on
    c.renewals = {"customer": cust, "on": on, "churn": churn, "factor": factor}


def add_expansions(c: Customers, deals: Deals) -> None:
    won = np.flatnonzero(deals.won & deals.closed_by(np.datetime64(AS_OF, "s")))
    index = {a: i for i, a in enumerate(c.id)}
    for k in won:
        c.expansions.append((index[deals.account_id[k]], day_of(deals.closed_at[k]), float(deals.amount_revised[k]),
                             int(k)))
    r = c.renewals
    before, after = np.empty(len(r["on"])), np.empty(len(r["on"]))
    for i in np.unique(r["customer"]):
        rows = np.flatnonzero(r["customer"] == i)
        days = r["on"][rows]
        before[rows] = c.arr_at(int(i), days - np.timedelta64(1, "D"))
        after[rows] = c.arr_at(int(i), days)
    r["arr_before"], r["arr_after"] = before, after


# ---------------------------------------------------------------- billing's tables

def subscriptions(c: Customers, new_ids: np.ndarray, upsell_ids: np.ndarray) -> Table:
    """Subscriptions; `new_ids` and `upsell_ids` are the opportunity ids of the new-business and upsell deals."""
    n = len(c)
    exp_c = np.array([e[0] for e in c.expansions], dtype=np.int64)
    cust = np.concatenate([np.arange(n), exp_c])
    kind = np.concatenate([np.where(c.deal < 0, "imported", "new"), np.full(len(exp_c), "expansion")]).astype(object)
    started = np.concatenate([c.billing_start, np.array([e[1] for e in c.expansions], dtype="datetime64[D]")])
    arr = np.concatenate([c.arr0, np.array([e[2] for e in c.expansions])])
    opp = np.concatenate([np.where(c.deal < 0, None, new_ids[np.maximum(c.deal, 0)]),
                          upsell_ids[np.array([e[3] for e in c.expansions], dtype=np.int64)]]).astype(object)
    order = np.lexsort((cust, started))
    cust, kind, started, arr, opp = cust[order], kind[order], started[order], arr[order], opp[order]
    ended = c.churn_on[cust]
    ended = np.where(ended < AS_OF, ended, NEVER_D)
    return Table("data/billing/subscriptions.parquet", {
        "subscription_id": ("string", ids("SUB-", len(cust), width=6)),
        "customer_id": ("string", c.id[cust]),
        "kind": ("string", kind),
        "plan": ("string", np.array([PLANS[s] for s in c.segment[cust]], dtype=object)),
        "opportunity_id": ("string", opp),
        "contract_start": ("date", np.where(kind == "expansion", started, c.since[cust])),
        "started_on": ("date", started),
        "ended_on": ("date", ended),
        "arr_usd": ("float", round_to(arr, 0.01)),
    })


def invoices(rng: np.random.Generator, c: Customers) -> tuple[Table, Table]:
    """Monthly invoices for every active customer, and the dunning reminders late payers get."""
    months = np.arange(np.datetime64("2024-10", "M"), np.datetime64("2026-11", "M"))
    dom = np.minimum((c.since - c.since.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64), 27)
    base = c.deal < 0
    dom[base] = rng.integers(0, 28, int(base.sum()))
    cust, dates, amount = [], [], []
    for i in range(len(c)):
        d = months.astype("datetime64[D]") + np.timedelta64(int(dom[i]), "D")
        end = c.churn_on[i] if not np.isnat(c.churn_on[i]) else AS_OF
        d = d[(d >= c.billing_start[i]) & (d < min(end, AS_OF))]
        if not len(d):
            continue
        cust.append(np.full(len(d), i))
        dates.append(d)
        amount.append(c.arr_at(i, d) / 12)
    cust, dates, amount = np.concatenate(cust), np.concatenate(dates), round_to(np.concatenate(amount), 0.01)
    order = np.lexsort((cust, dates))
    cust, dates, amount = cust[order], dates[order], amount[order]
    n = len(cust)
    late = rng.random(n) < 0.05
    paid_at = at_hours(rng, dates + np.where(late, rng.integers(16, 56, n), rng.integers(0, 13, n))
                       .astype("timedelta64[D]"))
    void = rng.random(n) < 0.004
    paid_at = np.where(void | (paid_at >= AS_OF), NEVER, paid_at)
    status = np.where(void, "void", np.where(np.isnat(paid_at), "open", "paid")).astype(object)
    month = np.char.replace(np.datetime_as_string(dates, unit="M"), "-", "")
    invoice_id = np.char.add(np.char.add("INV-", month), np.char.add("-", ids("", n, width=5).astype(str)))
    invoice_id = invoice_id.astype(object)
    description = np.full(n, "Subscription", dtype=object)

    # The $12 proration charged a second time, disputed in a support case and voided when it closed.
    i = c.index(TWELVE_DOLLARS)
    cust = np.append(cust, i)
    dates = np.append(dates, np.datetime64("2026-09-01", "D"))
    amount = np.append(amount, 12.0)
    status = np.append(status, "void")
    paid_at = np.append(paid_at, NEVER)
    invoice_id = np.append(invoice_id, "INV-202609-PR427")
    description = np.append(description, "Proration: 1 additional seat")
    invoices = Table("data/billing/invoices.parquet", {
        "invoice_id": ("string", invoice_id),
        "customer_id": ("string", c.id[cust]),
        "invoice_date": ("date", dates),
        "description": ("string", description),
        "amount_usd": ("float", amount),
        "status": ("string", status),
        "paid_at": ("timestamp", paid_at),
    })

    notices, inv, kind = [], [], []
    for days, name in ((15, "first_reminder"), (30, "second_reminder"), (45, "final_notice")):
        day = (dates + np.timedelta64(days, "D")).astype("datetime64[s]")
        at = plus_hours(day, 8 + rng.uniform(0, 0.25, len(dates)))
        due = (status != "void") & (at < AS_OF) & (np.isnat(paid_at) | (paid_at > at))
        notices.append(at[due])
        inv.append(np.flatnonzero(due))
        kind.append(np.full(int(due.sum()), name, dtype=object))
    at, inv, kind = np.concatenate(notices), np.concatenate(inv), np.concatenate(kind)
    at = np.append(at, ts("2026-09-16T08:05:00"))     # the reminder for the disputed $12, two days into the case
    inv = np.append(inv, len(dates) - 1)
    kind = np.append(kind, "first_reminder")
    order = np.argsort(at, kind="stable")
    at, inv, kind = at[order], inv[order], kind[order]
    dunning = Table("data/billing/dunning_notices.parquet", {
        "notice_id": ("string", ids("DUN-", len(at), width=6)),
        "customer_id": ("string", c.id[cust[inv]]),
        "invoice_id": ("string", invoice_id[inv]),
        "notice": ("string", kind),
        "sent_at": ("timestamp", at),
    })
    return invoices, dunning


def churn_events(rng: np.random.Generator, c: Customers) -> Table:
    r = c.renewals
    rows = np.flatnonzero(r["churn"] & (r["on"] < AS_OF))
    n = len(rows)
    return Table("data/billing/churn_events.parquet", {
        "churn_id": ("string", ids("CH-", n, width=5)),
        "customer_id": ("string", c.id[r["customer"][rows]]),
        "churned_on": ("date", r["on"][rows]),
        "arr_lost": ("float", round_to(r["arr_before"][rows], 0.01)),
        "reason": ("string", pick(rng, ["Budget cuts", "Moved to a competitor", "Product fit", "Acquired",
                                        "Price", "Champion left"], n, p=[0.24, 0.22, 0.18, 0.08, 0.16, 0.12])),
    })


"""CRM accounts: the customers billing imported in October 2024, and prospects as leads and deals appear."""
from __future__ import annotations

import numpy as np

from accord.demo.tables import Table
from accord.demo.world import AES, emails, ids, pick

SEGMENTS = ("SMB", "Mid-Market", "Enterprise", "Strategic")
ARR_MEDIAN = {"SMB": 9_000, "Mid-Market": 26_000, "Enterprise": 70_000, "Strategic": 200_000}
INDUSTRIES = ["Software", "Retail", "Logistics", "Healthcare", "Financial services", "Manufacturing",
              "Media", "Education", "Travel", "Energy"]
COUNTRIES = ["US", "US", "US", "US", "US", "US", "CA", "GB", "GB", "DE", "FR", "NL", "AU"]
BASE_CUSTOMERS = 1250

_FIRST = ["Blue", "North", "Silver", "Red", "Granite", "Harbor", "Summit", "Cedar", "Iron", "Bright", "Clear",
          "Golden", "Pine", "Coral", "Maple", "Arrow", "Quarry", "Lumen", "Vista", "Atlas", "Orbit", "Tidal",
          "Prairie", "Copper", "Falcon", "Juniper", "Meadow", "Ridge", "Sable", "Willow", "Ember"]
_SECOND = ["stone", "field", "wave", "path", "bridge", "light", "works", "point", "gate", "line", "mark",
           "crest", "brook", "leaf", "forge", "haven", "peak", "yard", "wind", "spring", "hollow", "shore"]
_THIRD = ["Logistics", "Health", "Labs", "Retail", "Systems", "Foods", "Capital", "Media", "Analytics",
          "Freight", "Energy", "Partners", "Learning", "Travel", "Goods", "Software", "Clinics", "Outfitters"]


def company_name(i: int) -> str:
    return (f"{_FIRST[(i * 7) % len(_FIRST)]}{_SECOND[(i * 13 + i // 31) % len(_SECOND)]} "
            f"{_THIRD[(i * 5 + i // 17) % len(_THIRD)]}")


class AccountBook:
    """Every account id handed out, with its segment and the day it appeared."""

    PLANTED = {"ACC-00427": "Bluefin Logistics", "ACC-01777": "Kestrel Health"}

    def __init__(self, rng: np.random.Generator):
        self._rng = rng
        n = BASE_CUSTOMERS
        self.base_ids = ids("ACC-", n, width=5)
        self.base_segment = pick(rng, list(SEGMENTS), n, p=[0.50, 0.33, 0.14, 0.03])
        self.base_segment[426] = "Mid-Market"          # ACC-00427, Bluefin Logistics
        self.base_since = np.datetime64("2019-01-07", "D") + rng.integers(0, 2090, n).astype("timedelta64[D]")
        self._ids: list[np.ndarray] = [self.base_ids]
        self._segment: list[np.ndarray] = [self.base_segment]
        self._created: list[np.ndarray] = [(self.base_since - rng.integers(20, 120, n).astype("timedelta64[D]"))
                                           .astype("datetime64[s]") + np.timedelta64(10 * 3600, "s")]
        self._next = 2001

    def prospects(self, created_at: np.ndarray, segment: np.ndarray | None = None) -> np.ndarray:
        n = len(created_at)
        new = ids("ACC-", n, start=self._next, width=5)
        self._next += n
        if segment is None:
            segment = pick(self._rng, list(SEGMENTS), n, p=[0.55, 0.30, 0.12, 0.03])
        self._ids.append(new)
        self._segment.append(np.asarray(segment, dtype=object))
        self._created.append(np.asarray(created_at).astype("datetime64[s]"))
        return new

    def planted(self, account_id: str, segment: str, created_at: str) -> str:
        self._ids.append(np.array([account_id]))
        self._segment.append(np.array([segment], dtype=object))
        self._created.append(np.array([np.datetime64(created_at, "s")]))
        return account_id

    def prospect_pool(self) -> tuple[np.ndarray, np.ndarray]:
        """Every account that was not a customer at the October 2024 import, with when it appeared."""
        return np.concatenate(self._ids[1:]), np.concatenate(self._created[1:])

    def name(self, account_id: str) -> str:
        return self.PLANTED.get(account_id) or company_name(int(account_id[4:]))

    def segment_of(self, account_ids: np.ndarray) -> np.ndarray:
        lookup = dict(zip(np.concatenate(self._ids), np.concatenate(self._segment)))
        return np.array([lookup[a] for a in account_ids], dtype=object)

    def table(self, became_customer: dict[str, np.datetime64]) -> Table:
        rng = self._rng
        account_id = np.concatenate(self._ids)
        n = len(account_id)
        names = np.array([self.name(a) for a in account_id], dtype=object)
        since = np.array([became_customer.get(a, np.datetime64("NaT", "D")) for a in account_id],
                         dtype="datetime64[D]")
        return Table("data/crm/accounts.parquet", {
            "account_id": ("string", account_id),
            "name": ("string", names),
            "segment": ("string", np.concatenate(self._segment)),
            "industry": ("string", pick(rng, INDUSTRIES, n)),
            "country": ("string", pick(rng, COUNTRIES, n)),
            "owner": ("string", emails(pick(rng, AES, n))),
            "created_at": ("timestamp", np.concatenate(self._created)),
            "became_customer_on": ("date", since),
        })

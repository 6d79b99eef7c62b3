"""Northwind Cloud's calendar, people and the random helpers every system's generator shares.

Every date is a naive local wall-clock time in the company's zone (America/New_York): that is how
the CRM, the helpdesk and billing export them, and how accord reads naive times.
"""
from __future__ import annotations

import numpy as np

SEED = 20261005
AS_OF = np.datetime64("2026-10-05", "D")       # a Monday: 2026-Q3 and week 2026-W40 are complete
START = np.datetime64("2024-10-01", "D")       # two years of history
DAYS = np.arange(START, AS_OF)                 # every day with data
FIRST_MONDAY = np.datetime64("2024-09-30", "D")
WEEKS = np.arange(FIRST_MONDAY, AS_OF, np.timedelta64(7, "D"))
NEVER = np.datetime64("NaT", "s")

DOMAIN = "northwind.example"

# The people whose names the data carry (team leads are in teams.yml).
SDRS = ["kai.morgan", "lucia.ortiz", "ben.hart", "amara.diallo", "finn.walsh", "noor.haddad",
        "owen.price", "rosa.lindqvist"]
AES = ["ana.kowalski", "marcus.bell", "ines.duarte", "tom.reyes", "hana.sato", "leo.brandt",
       "grace.obi", "victor.klein", "mei.wong", "sofia.rossi", "jack.turner", "zara.malik"]
WEST_COAST_AES = {"tom.reyes", "mei.wong"}     # they call East Coast customers after 5pm their time
AGENTS = ["chris.nolan", "dana.fox", "eli.moreau", "fatima.rahman", "gus.petrov", "hira.aziz",
          "ivan.costa", "june.park", "karl.weiss", "lina.haddad"]


def email(handle: str) -> str:
    return f"{handle}@{DOMAIN}"


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    """A stationary AR(1) series with unit variance: week-to-week swings with short memory."""
    e = rng.standard_normal(n)
    z = np.empty(n)
    z[0] = e[0]
    scale = np.sqrt(1 - phi * phi)
    for i in range(1, n):
        z[i] = phi * z[i - 1] + scale * e[i]
    return z


def weekday(days: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday."""
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7


def month_and_day(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    return months.astype(np.int64) % 12 + 1, (d - months.astype("datetime64[D]")).astype(np.int64) + 1


def years_since_start(days: np.ndarray) -> np.ndarray:
    return (days.astype("datetime64[D]") - START).astype(np.int64) / 365.25


def fraction_between(days: np.ndarray, a: str, b: str) -> np.ndarray:
    """0 before a, 1 after b, linear in between."""
    d = days.astype("datetime64[D]").astype(np.int64)
    lo, hi = np.datetime64(a, "D").astype(np.int64), np.datetime64(b, "D").astype(np.int64)
    return np.clip((d - lo) / (hi - lo), 0.0, 1.0)


def at_hours(rng: np.random.Generator, days: np.ndarray, mean: float = 13.0, sd: float = 2.4,
             lo: float = 7.5, hi: float = 19.0) -> np.ndarray:
    """A time of day on each day, around office hours."""
    hours = np.clip(rng.normal(mean, sd, len(days)), lo, hi)
    return days.astype("datetime64[D]").astype("datetime64[s]") + (hours * 3600).astype(np.int64).astype(
        "timedelta64[s]")


def plus_hours(times: np.ndarray, hours: np.ndarray) -> np.ndarray:
    return times + (np.asarray(hours) * 3600).astype(np.int64).astype("timedelta64[s]")


def plus_days(times: np.ndarray, days: np.ndarray) -> np.ndarray:
    return plus_hours(times, np.asarray(days) * 24)


def to_workday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays to the next Monday."""
    days = days.astype("datetime64[D]")
    wd = weekday(days)
    return days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0)).astype("timedelta64[D]")


def ids(prefix: str, n: int, start: int = 1, width: int = 6) -> np.ndarray:
    """prefix + zero-padded sequence numbers, as a numpy text array (built without a Python loop)."""
    numbers = np.arange(start, start + n, dtype=np.int64)
    digits = (numbers[:, None] // 10 ** np.arange(width - 1, -1, -1)) % 10 + ord("0")
    head = np.broadcast_to(np.array([ord(c) for c in prefix], dtype=np.uint32), (n, len(prefix)))
    codes = np.ascontiguousarray(np.concatenate([head, digits.astype(np.uint32)], axis=1))
    return codes.view(f"<U{len(prefix) + width}").reshape(n)


def emails(handles: np.ndarray) -> np.ndarray:
    """handle -> handle@northwind.example, for many rows at once."""
    unique, inverse = np.unique(np.asarray(handles).astype(str), return_inverse=True)
    return np.array([email(h) for h in unique])[inverse]


def pick(rng: np.random.Generator, choices: list[str], n: int, p=None) -> np.ndarray:
    """n random choices, as a numpy text array (assigning a longer text into it would truncate)."""
    return np.array(choices)[rng.choice(len(choices), size=n, p=p)]


def round_to(x: np.ndarray, step: float) -> np.ndarray:
    return np.round(np.asarray(x) / step) * step


def null_where(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Object array with None where mask holds (for strings and numbers alike)."""
    out = np.asarray(values).astype(object)
    out[mask] = None
    return out


def day_of(times: np.ndarray) -> np.ndarray:
    return times.astype("datetime64[D]")


def ts(text: str) -> np.datetime64:
    return np.datetime64(text, "s")

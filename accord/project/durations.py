"""Durations written as `Nh`, `Nd` or `Nw`."""
from __future__ import annotations

import datetime as dt
import re

_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")


def parse_duration(text: str) -> dt.timedelta:
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"'{text}' is not a duration. write a number and h, d or w, such as 48h, 7d or 6w")
    n, unit = int(m.group(1)), m.group(2)
    return {"h": dt.timedelta(hours=n), "d": dt.timedelta(days=n), "w": dt.timedelta(weeks=n)}[unit]


GRAIN_DAYS = {"day": 1, "week": 7, "month": 30.4375, "quarter": 91.3125, "year": 365.25}


def in_periods(text: str, grain: str) -> int:
    """A duration converted to whole periods of a grain, by rounding."""
    return round(parse_duration(text) / dt.timedelta(days=GRAIN_DAYS[grain]))

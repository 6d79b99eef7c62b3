"""Durations written as `Nh`, `Nd` or `Nw`, or as dbt writes them: `{count: 2, period: day}`; time limits
as `Ns`, `Nm` or `Nh`."""
from __future__ import annotations

import datetime as dt
import re

_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_PERIODS = {"minute": dt.timedelta(minutes=1), "hour": dt.timedelta(hours=1), "day": dt.timedelta(days=1),
            "week": dt.timedelta(weeks=1)}
_MAX_DAYS = 3_650_000          # ten thousand years: longer is not a duration any date can hold


def parse_duration(text) -> dt.timedelta:
    if isinstance(text, dict):
        return _dbt_duration(text)
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"'{text}' is not a duration. write a number and h, d or w, such as 48h, 7d or 6w")
    n, unit = int(m.group(1)), m.group(2)
    return _bounded(n, {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}[unit], text)


def _dbt_duration(value: dict) -> dt.timedelta:
    """dbt's `{count: 2, period: day}` (period minute, hour, day or week)."""
    count, period = value.get("count"), value.get("period")
    if set(value) != {"count", "period"} or not isinstance(count, int) or isinstance(count, bool) or count < 0 \
            or period not in _PERIODS:
        raise ValueError(f"{value} is not a duration. write {{count: 2, period: day}} (period minute, hour, day "
                         "or week) or 2d")
    return _bounded(count, _PERIODS[period], value)


def _bounded(n: int, unit: dt.timedelta, text) -> dt.timedelta:
    """n units, refused (before multiplying) when longer than any date range."""
    if n > _MAX_DAYS * dt.timedelta(days=1) // unit:
        raise ValueError(f"'{text}' is longer than any date range. write a shorter duration, such as 30d")
    return n * unit


_MAX_TIME_LIMIT = 7 * 24 * 3600   # a query, a wait: longer than a week is a mistake (and overflows a wait)
_TIME_LIMIT = re.compile(r"^\s*(\d+)\s*([smh])\s*$")


def parse_time_limit(text: str) -> dt.timedelta:
    """A time limit such as `30s`, `10m` or `2h` (minutes exist here, never in lags, where `m` could be read
    as months)."""
    m = _TIME_LIMIT.match(str(text))
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"'{text}' is not a time limit. write a number above 0 and s, m or h, such as 30s, 10m "
                         "or 2h")
    seconds = int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]
    if seconds > _MAX_TIME_LIMIT:
        raise ValueError(f"'{text}' is longer than a week. write at most 168h")
    return dt.timedelta(seconds=seconds)


GRAIN_DAYS = {"day": 1, "week": 7, "month": 30.4375, "quarter": 91.3125, "year": 365.25}


def in_periods(text: str, grain: str) -> int:
    """A duration converted to whole periods of a grain, by rounding."""
    return round(parse_duration(text) / dt.timedelta(days=GRAIN_DAYS[grain]))

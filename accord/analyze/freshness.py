"""Stale sources: data that stopped arriving, found from each source time column's last data time.

A source's limits are its own `freshness:` over `settings.freshness` (default warn after 7 days, error
after 30). The age is counted in whole days, from the day of the last data to as-of.
"""
from __future__ import annotations

import datetime as dt

from accord.compute.run import LastData
from accord.findings import Finding
from accord.project.durations import parse_duration
from accord.project.lint import metric_owner
from accord.project.model import Project
from accord.project.references import metric_inputs
from accord.project.settings import DEFAULT_FRESHNESS

STRICT = ("decision-grade", "board-grade")


def limits(project: Project, source: str):
    """The freshness limits of a source: its own, each one not given taken from the settings'."""
    own = project.source(source).freshness
    settings = project.settings.freshness.over(DEFAULT_FRESHNESS)
    return own.over(settings) if own is not None else settings


def readers(project: Project, direct: tuple[str, ...]) -> list[str]:
    """The metrics reading these, directly or through a ratio or formula, in definition order."""
    found = set(direct)
    grew = True
    while grew:
        grew = False
        for m in project.metrics:
            if m.name not in found and any(i in found for i in metric_inputs(m)):
                found.add(m.name)
                grew = True
    return [m.name for m in project.metrics if m.name in found]


def stale_sources(project: Project, last_data: list[LastData], today: dt.date) -> list[Finding]:
    """stale-source: a warning past warn_after; an error past error_after, or past warn_after when a
    decision- or board-grade metric reads the source. No data at all up to as-of is past both."""
    out = []
    for fact in last_data:
        limit = limits(project, fact.source)
        warn, error = parse_duration(limit.warn_after), parse_duration(limit.error_after)
        day = fact.time.date() if isinstance(fact.time, dt.datetime) else fact.time
        age = (today - day).days if day is not None else None
        if age is not None and dt.timedelta(days=age) <= min(warn, error):
            continue
        names = readers(project, fact.metrics)
        strict = [n for n in names if project.metric(n).confidence in STRICT]
        past_error = age is None or dt.timedelta(days=age) > error
        severity = "error" if past_error or strict else "warning"
        source = project.source(fact.source)
        since = f"has no data up to {today.isoformat()}" if day is None else \
            f"has no data after {day.isoformat()}: {age:,} day{'s' if age != 1 else ''} old on {today.isoformat()}"
        limit_words = f"error after {_words(limit.error_after)}" if past_error else \
            f"warn after {_words(limit.warn_after)}"
        title = (f"source '{fact.source}' ({fact.column}) {since} ({limit_words}); "
                 f"{_count(names)} read{'s' if len(names) == 1 else ''} it and show no data after it, not 0")
        evidence = {"source": fact.source, "time_column": fact.column,
                    "last_data": fact.time.isoformat() if fact.time is not None else None,
                    "age_days": age, "as_of": today.isoformat(), "warn_after": _words(limit.warn_after),
                    "error_after": _words(limit.error_after), "metrics": names, "strict_metrics": strict}
        first = project.metric(names[0]) if names else None
        out.append(Finding("stale-source", severity, title, metrics=tuple(sorted(names)),
                           teams=tuple(sorted({project.metric(n).team for n in names})),
                           owner=source.owner or (metric_owner(project, first) if first else None),
                           evidence=evidence, location=source.at("time") if source.time else source.location))
    return out


def _words(duration) -> str:
    """A duration as written: `7d`, or dbt's form as `2 days`."""
    if isinstance(duration, dict):
        n, period = duration["count"], duration["period"]
        return f"{n} {period}{'s' if n != 1 else ''}"
    return str(duration)


def _count(names: list[str]) -> str:
    if len(names) <= 3:
        return ", ".join(f"'{n}'" for n in names) if names else "no metric"
    return f"{len(names)} metrics ('{names[0]}', '{names[1]}', …)"

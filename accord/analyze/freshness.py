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
        if names:
            who = f"{_count(names)} read{'s' if len(names) == 1 else ''} it and show no data after it, not 0"
        else:
            who = "the contact policy reads it: touches and states after it are missing, not absent"
        title = f"source '{fact.source}' ({fact.column}) {since} ({limit_words}); {who}"
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


def policy_last_data(project: Project, engine, today: dt.date, known: list[LastData]) -> list[LastData]:
    """The last data time of each (source, time column) the contact policy reads and no metric does: one
    small query each (no metric scan reads them). A column that cannot be read is left to the policy's
    own findings."""
    from sqlglot import exp

    from accord.compute.relations import from_source, local_time
    from accord.compute.run import source_schema
    from accord.errors import Problem, UserError
    policy = project.contact_policy
    if policy is None:
        return []
    used = [(t.source, t.time) for t in policy.touches]
    used += [(p.source, p.opened) for p in ([policy.cases] if policy.cases else []) + list(policy.states)]
    if policy.outcome:
        used.append((policy.outcome.source, policy.outcome.time))
    seen = {(f.source, f.column.lower()) for f in known}
    names = {s.name for s in project.sources}
    out = []
    for source, column in dict.fromkeys(used):
        if source not in names or (source, column.lower()) in seen:
            continue
        try:
            schema = source_schema(engine, project, project.source(source))
            if schema.find(column) is None:
                continue
            local = exp.Cast(this=local_time(schema, column, project.settings.timezone, Problem("", 0, 0, "")),
                             to=exp.DataType.build("TIMESTAMP"))
        except UserError:
            continue
        after = exp.Cast(this=exp.Literal.string((today + dt.timedelta(days=1)).isoformat()),
                         to=exp.DataType.build("TIMESTAMP")) if today < dt.date.max else None
        query = exp.select(exp.alias_(exp.Max(this=local.copy()), "last")).from_(from_source(project, project.source(source)))
        if after is not None:
            query = query.where(exp.LT(this=local, expression=after))
        last = engine.records(query)[0]["last"]
        if isinstance(last, dt.date) and not isinstance(last, dt.datetime):
            last = dt.datetime.combine(last, dt.time())
        out.append(LastData(source, schema.find(column), last, ()))
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

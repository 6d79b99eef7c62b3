"""Touchpoints in the terminal: each rule with how often it is broken, and one customer's merged timeline."""
from __future__ import annotations

import datetime as dt

from rich.console import Console
from rich.table import Table
from rich.text import Text

from accord.analyze.timeline import Timeline
from accord.analyze.touchpoints import TouchpointsResult
from accord.words import plural


def _n(value: int) -> str:
    return f"{value:,}"


def _plural(n: int, one: str, many: str | None = None) -> str:
    return plural(n, one, many)


def _teams(counts: dict[str, int], limit: int = 4) -> str:
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])
    shown = ", ".join(f"{team} {_n(n)}" for team, n in ranked[:limit])
    return shown + (f", {len(ranked) - limit} more" if len(ranked) > limit else "")


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.1%}"


def touchpoints_text(out: Console, result: TouchpointsResult, since: dt.date | None = None) -> None:
    """The rules and what they cost; with a customer, that customer's timeline alone, from `since` (default:
    the newest CUSTOMER_DAYS days)."""
    if result.timeline is not None:
        _timeline(out, result.timeline.since(customer_since(result.as_of, since)))
        return
    out.print(Text.assemble(("Touchpoints", "bold"), f" as of {result.as_of.isoformat()} ({result.timezone}): ",
                            f"{_plural(result.customers, 'customer')}, {_plural(result.touches, 'touch', 'touches')}"))
    if result.by_team:
        out.print(Text(f"  by team: {_teams(result.by_team, 10)}", style="dim"))
    if result.rules:
        _rules(out, result)
    else:
        out.print("\nThe contact policy has no rules yet: add a cap, a block or quiet hours under rules:")
    if result.outcomes:
        _outcomes(out, result)


CUSTOMER_DAYS = 60


def customer_since(as_of: dt.date, since: dt.date | None) -> dt.datetime:
    """Where one customer's timeline starts: `since`, else CUSTOMER_DAYS days before as-of."""
    return dt.datetime.combine(since or as_of - dt.timedelta(days=CUSTOMER_DAYS - 1), dt.time())


def _rules(out: Console, result: TouchpointsResult) -> None:
    table = Table(show_edge=False, header_style="bold", pad_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_column("rule", no_wrap=True)
    table.add_column("customers", justify="right", no_wrap=True)
    table.add_column("touches", justify="right", no_wrap=True)
    table.add_column("would stop", justify="right", no_wrap=True)
    for r in result.rules:
        share = f" ({r.customers / result.customers:.0%})" if result.customers and r.customers else ""
        table.add_row(Text(r.name, style="bold red" if r.touches else ""), _n(r.customers) + share, _n(r.touches),
                      _n(r.suppressed))
    out.print()
    out.print(table)
    for r in result.rules:
        if r.examples:
            worst = ", ".join(f"{e['customer']} ({_worst_words(e)})" for e in r.examples[:3])
            out.print(Text.assemble(f"  {r.name}: ", (f"{_teams(r.suppressed_by_team)}; worst {worst}", "dim")))
    for n in result.stale_states:
        out.print(Text(f"  data quality: {_plural(n['periods'], _words(n['state']))} opened more than "
                       f"{result.stale_after} ago {'is' if n['periods'] == 1 else 'are'} still open, probably never "
                       f"closed (e.g. {', '.join(n['examples'][:3])}); not counted as worst cases", style="yellow"))
    out.print(Text("one customer's timeline: accord touchpoints --customer ID", style="dim"))


def _words(state: str) -> str:
    return state.replace("_", " ")


def _worst_words(e: dict) -> str:
    """'5 teams within 2d' for a block rule's crowded period, else the touch count."""
    if "teams_within_window" in e:
        return f"{_plural(e['teams_within_window'], 'team')} within {e['window']}, {e['touches_per_day']:g} a day"
    return _n(e["touches"])


def _outcomes(out: Console, result: TouchpointsResult) -> None:
    for o in result.outcomes:
        level = f"{round((1 - o.alpha) * 100)}% interval"
        out.print(Text.assemble("\n", ("What over-contact costs", "bold"),
                                f": {o.source} within {o.days} days, rule '{o.rule}'"))
        for label, g in (("after the first touch over the cap", o.over),
                         ("after the closest touch, never over it", o.never)):
            interval = f"{_pct(g.low)}–{_pct(g.high)}" if g.low is not None else "no customers"
            out.print(f"  {label:<40} {_pct(g.rate):>6}  ({_n(g.outcomes)} of {_n(g.customers)}; {level} {interval})")
        if o.difference is not None:
            verdict = "the intervals do not overlap" if o.separated else "the intervals overlap: no clear difference yet"
            out.print(Text(f"  difference {o.difference * 100:+.1f} points; {verdict}", style="dim"))


def _when(t: dt.datetime) -> str:
    return t.strftime("%a %Y-%m-%d %H:%M")


def _timeline(out: Console, line: Timeline) -> None:
    teams = sorted({t.team for t in line.touches})
    breaking = sum(1 for t in line.touches if t.hits)
    out.print(Text.assemble("\n", (f"Customer {line.customer}", "bold"),
                            f": {_plural(len(line.touches), 'touch', 'touches')} from {_plural(len(teams), 'team')}"
                            f" ({', '.join(teams)}), {_n(breaking)} breaking a rule"))
    now = line.open_now
    today = ", ".join(f"{p.state} since {_when(p.opened)}" for p in now) if now else "nothing open"
    out.print(Text(f"  today: {today}", style="bold yellow" if now else "dim"))
    if line.shown_from is not None:
        more = (f"; {_plural(line.earlier, 'earlier touch', 'earlier touches')}: --since to see them"
                if line.earlier else "")
        out.print(Text(f"  from {line.shown_from.date().isoformat()}{more}", style="dim"))
    events: list[tuple[dt.datetime, int, Text]] = []
    for p in line.periods:
        events.append((p.opened, 0, Text(f"{p.state} opened", style="yellow")))
        if p.resolved is not None and p.resolved < line.end:
            events.append((p.resolved, 0, Text(f"{p.state} resolved", style="yellow")))
    for o in line.outcomes:
        events.append((o, 2, Text("outcome", style="bold magenta")))
    for t in line.touches:
        if t.channel or t.subject:
            text = Text.assemble(f"{t.team:<12} {t.what}", (f"  {t.source} {t.key or ''}".rstrip(), "dim"))
        else:
            text = Text(f"{t.team:<12} {t.source}" + (f"  {t.key}" if t.key else ""))
        for h in t.hits:
            why = {"cap": "over the cap" + (", would be stopped" if h.suppressed else ""),
                   "block": h.state, "quiet": "quiet hours"}[h.kind]
            text.append(f"  ✗ {h.rule} ({why})", style="red")
        events.append((t.time, 1, text))
    day = None
    for when, _, text in sorted(events, key=lambda e: (e[0], e[1])):
        if when.date() != day:
            day = when.date()
            out.print(Text(f"  {when.strftime('%a %Y-%m-%d')}", style="bold"))
        out.print(Text.assemble(f"    {when.strftime('%H:%M')}  ", text))

"""`accord touchpoints --format html`: one offline page of every team's contact with customers.

Touches per customer per week by team, what each rule would have suppressed, the worst customers'
timelines drawn, what over-contact costs, and with --customer that customer's whole timeline.
Charts are matplotlib inline SVG; the page fetches nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup

from accord.analyze.timeline import Timeline
from accord.analyze.touchpoints import RuleResult, TouchpointsResult
from accord.render.html import render_page
from accord.render.svg import COLOURS, inline_svg, new_figure
from accord.render.touch_charts import axes_style, colours_of, date_axis, weekly_chart
from accord.words import plural

HIT = COLOURS["missed"]
KIND_WORDS = {"cap": "Cap", "block": "Block", "quiet": "Quiet hours"}


def suppressed_chart(result: TouchpointsResult, colours: dict[str, str], width: float = 640) -> Markup:
    """Per rule, the touches it would have suppressed, a bar stacked by team."""
    rules = result.rules
    height = 30 * max(len(rules), 1) + 14
    fig = new_figure(width, height)
    ax = fig.add_axes((0.34, 7 / height, 0.54, 1 - 14 / height))
    ys = list(range(len(rules)))[::-1]
    hi = max([r.suppressed for r in rules] + [1])
    for y, r in zip(ys, rules):
        left = 0
        for team in result.teams:
            n = r.suppressed_by_team.get(team, 0)
            if n:
                ax.barh([y], [n], left=[left], color=colours[team], height=0.6)
                left += n
        ax.text(left + hi * 0.02, y, f"{r.suppressed:,}", va="center", ha="left", fontsize=9,
                color=COLOURS["line"], fontweight="bold")
    ax.set_yticks(ys, [r.name if len(r.name) <= 38 else r.name[:37] + "…" for r in rules])
    ax.set_xticks([])
    ax.set_xlim(0, hi * 1.02)
    ax.tick_params(axis="y", length=0, labelsize=9, labelcolor=COLOURS["line"])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    for artist in ax.get_children():
        artist.set_clip_on(False)
    words = "; ".join(f"{r.name}: {r.suppressed:,}" for r in rules)
    return inline_svg(fig, width, height, "tp-suppressed", f"Touches each rule would have suppressed: {words}",
                "chart suppressed")


def timeline_chart(line: Timeline, teams: list[str], start: dt.datetime, end: dt.datetime, salt: str,
                   width: float = 1000) -> Markup:
    """A customer's touches between start and end, a row per team: touches breaking a rule in red, a
    cross where a real-time cap would have stopped it; the periods it was in shaded, named above."""
    rows = [t for t in teams if any(x.team == t for x in line.touches)] or teams
    index = {t: i for i, t in enumerate(rows[::-1])}
    periods = [p for p in line.periods if p.opened <= end and (p.resolved is None or p.resolved >= start)]
    states = list(dict.fromkeys(p.state for p in periods))
    height = 22 * len(rows) + 16 * len(states) + 34
    fig = new_figure(width, height)
    ax = fig.add_axes((0.12, 24 / height, 0.86, 1 - 30 / height))
    from matplotlib.dates import date2num
    top = len(rows) - 0.4
    for p in periods:
        lo, hi = max(p.opened, start), min(p.resolved or end, end)
        level = top + 0.35 + 0.5 * states.index(p.state)
        ax.axvspan(date2num(lo), date2num(hi), color="#fdf0d5", linewidth=0, zorder=0)
        ax.plot([date2num(lo), date2num(hi)], [level, level], color="#b54708", linewidth=3, solid_capstyle="butt")
    for s in states:
        first = next(p for p in periods if p.state == s)
        ax.text(date2num(max(first.opened, start)), top + 0.55 + 0.5 * states.index(s), s.replace("_", " "),
                fontsize=8, color="#b54708", va="bottom")
    shown = [t for t in line.touches if start <= t.time <= end and t.team in index]
    stopped = [t for t in shown if any(h.kind == "cap" and h.suppressed for h in t.hits)]
    broken = [t for t in shown if t.hits and t not in stopped]
    fine = [t for t in shown if not t.hits]
    for pts, marker, size, colour in ((fine, "o", 22, COLOURS["line"]), (broken, "o", 30, HIT),
                                      (stopped, "x", 34, HIT)):
        if pts:
            ax.scatter([date2num(t.time) for t in pts], [index[t.team] for t in pts], s=size, marker=marker,
                       zorder=3, color=colour, linewidths=1.6 if marker == "x" else None)
    for o in line.outcomes:
        if start <= o <= end:
            ax.axvline(date2num(o), color="#7a2e8e", linewidth=1.2, dashes=(3, 2))
    ax.set_yticks(list(index.values()), list(index.keys()))
    ax.set_ylim(-0.6, top + 0.5 + 0.5 * len(states))
    ax.set_xlim(date2num(start), date2num(end))
    ax.grid(axis="y", color=COLOURS["fill"], linewidth=6)
    date_axis(ax, 7)
    axes_style(ax)
    for artist in ax.get_children():
        artist.set_clip_on(False)
    words = (f"Customer {line.customer} from {start:%Y-%m-%d} to {end:%Y-%m-%d}: {plural(len(shown), 'touch')}, "
             f"{len(broken) + len(stopped)} breaking a rule")
    return inline_svg(fig, width, height, f"tp-line-{salt}", words, "chart timeline")


def outcome_chart(result: TouchpointsResult, width: float = 640) -> Markup:
    """Per cap, the outcome rate with its interval: customers over the cap against those never over it."""
    rows = [(f"{o.rule}: over the cap", o.over, HIT) for o in result.outcomes] + \
        [(f"{o.rule}: never over it", o.never, COLOURS["line"]) for o in result.outcomes]
    rows = [r for r in rows if r[1].customers]
    height = 28 * max(len(rows), 1) + 30
    fig = new_figure(width, height)
    ax = fig.add_axes((0.4, 24 / height, 0.52, 1 - 30 / height))
    ys = list(range(len(rows)))[::-1]
    for y, (_, g, colour) in zip(ys, rows):
        ax.plot([g.low, g.high], [y, y], color=colour, linewidth=2, solid_capstyle="round")
        ax.plot([g.rate], [y], "o", color=colour, markersize=6)
        ax.text(g.high, y + 0.28, f" {g.rate:.1%}", fontsize=8.5, color=colour, va="center")
    ax.set_yticks(ys, [r[0] if len(r[0]) <= 46 else r[0][:45] + "…" for r in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.1%}")
    ax.grid(axis="x", color=COLOURS["fill"], linewidth=0.8)
    axes_style(ax)
    return inline_svg(fig, width, height, "tp-outcomes", "Outcome rates with their intervals", "chart outcomes")


@dataclass
class WorstView:
    rule: RuleResult
    customer: str
    touches: int
    chart: Markup
    entries: list[dict]
    period: dict | None
    window: str


def _window(rule: RuleResult, worst: dict, line: Timeline) -> tuple[dt.datetime, dt.datetime]:
    """The stretch of time a worst timeline shows: the rule broken, with a day either side."""
    if rule.kind == "block" and worst.get("period"):
        start = dt.datetime.fromisoformat(worst["period"]["opened"])
        end = dt.datetime.fromisoformat(worst["period"]["resolved"]) if worst["period"]["resolved"] else line.end
    elif worst.get("from"):
        start, end = dt.datetime.fromisoformat(worst["from"]), dt.datetime.fromisoformat(worst["to"])
    else:
        start, end = line.end - dt.timedelta(days=14), line.end
    pad = max((end - start) * 0.15, dt.timedelta(days=1))
    return start - pad, min(end + pad, line.end)


def _worst_views(result: TouchpointsResult) -> list[WorstView]:
    out = []
    for i, rule in enumerate(result.rules):
        for j, worst in enumerate(rule.worst):
            line = result.timelines[worst["customer"]]
            start, end = _window(rule, worst, line)
            chart = timeline_chart(line, result.teams, start, end, f"{i}-{j}")
            out.append(WorstView(rule, worst["customer"], worst["touches"], chart, worst["timeline"],
                                 worst.get("period"), f"{start:%d %b %Y} – {end:%d %b %Y}"))
    return out


RECENT_DAYS = 30


@dataclass
class Entry:
    time: dt.datetime
    text: str
    kind: str                      # touch, hit, period, outcome
    key: str | None = None
    why: tuple[str, ...] = ()


def _days(line: Timeline, start: dt.datetime) -> list[tuple[dt.date, list[Entry]]]:
    """The timeline from `start` as days of entries: touches with the rules they break, periods opening
    and closing, outcomes."""
    entries = []
    for p in line.periods:
        entries.append(Entry(p.opened, f"{p.state.replace('_', ' ')} opened", "period"))
        if p.resolved is not None and p.resolved < line.end:
            entries.append(Entry(p.resolved, f"{p.state.replace('_', ' ')} resolved", "period"))
    entries += [Entry(o, "outcome", "outcome") for o in line.outcomes]
    for t in line.touches:
        why = tuple(h.rule + (" (a real-time cap would have stopped it)" if h.kind == "cap" and h.suppressed else "")
                    for h in t.hits)
        entries.append(Entry(t.time, f"{t.team} · {t.what}", "hit" if t.hits else "touch", t.key, why))
    days: dict[dt.date, list[Entry]] = {}
    for e in sorted((e for e in entries if e.time >= start), key=lambda e: (e.time, e.kind != "period")):
        days.setdefault(e.time.date(), []).append(e)
    return list(days.items())


def _summary(result: TouchpointsResult) -> str:
    teams = len(result.teams)
    parts = [f"{plural(result.customers, 'customer')} heard from {plural(teams, 'team')} "
             f"{plural(result.touches, 'time')}."]
    for r in result.rules:
        if r.customers:
            parts.append(f"{r.customers:,} ({r.customers / max(result.customers, 1):.0%}) broke "
                         f"'{r.name}', {plural(r.touches, 'touch')}.")
    if not any(r.customers for r in result.rules):
        parts.append("No customer was contacted against the policy.")
    return " ".join(parts)


def write_touchpoints_html(result: TouchpointsResult, out_path: Path) -> Path:
    """Write the touchpoints page as one self-contained HTML file; returns the path written."""
    from accord.project.atomic import write_file
    return write_file(Path(out_path), touchpoints_page(result))


def touchpoints_page(result: TouchpointsResult) -> str:
    """The touchpoints page as one self-contained HTML page."""
    colours = colours_of(result.teams)
    customer = None
    if result.timeline is not None:
        line = result.timeline
        start = min([t.time for t in line.touches] + [p.opened for p in line.periods] + [line.end])
        recent = line.end - dt.timedelta(days=RECENT_DAYS)
        customer = {"line": line, "days": RECENT_DAYS,
                    "chart": timeline_chart(line, result.teams, start, line.end, "customer"),
                    "recent": timeline_chart(line, result.teams, recent, line.end, "customer-recent"),
                    "recent_days": _days(line, recent), "all_days": _days(line, start)}
    broken_customers = max([r.customers for r in result.rules] + [0])
    html = render_page(
        "touchpoints.html.j2", title=f"Touchpoints as of {result.as_of.isoformat()}", result=result,
        summary=_summary(result), colours=colours, weekly=weekly_chart(result, colours),
        suppressed=suppressed_chart(result, colours) if result.rules else None,
        worst=_worst_views(result), outcomes=outcome_chart(result) if result.outcomes else None,
        customer=customer, kinds=KIND_WORDS, broken_customers=broken_customers,
        stopped=sum(r.suppressed for r in result.rules))
    return html

"""HTML pages: Jinja2 templates with one shared layout and stylesheet, charts drawn by matplotlib as inline SVG.

Every page is one self-contained file: styles inline, charts inline, no scripts, fonts or images fetched.
"""
from __future__ import annotations

import datetime as dt
import math
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from accord.analyze.timeline import touch_words
from accord.words import plural, possessive
from accord.render.svg import COLOURS, _attr, inline_svg, new_figure  # noqa: F401 (shared by the pages)
from accord.render.text import format_value

TEMPLATES = Path(__file__).parent / "templates"


# ---------------------------------------------------------------- charts

def _nan(values: Iterable[float | None]) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def _limits(values: list[float], target: float | None) -> tuple[float, float] | None:
    real = [v for v in values if not math.isnan(v)]
    if not real:
        return None
    lo, hi = min(real), max(real)
    span = hi - lo or abs(hi) or 1.0
    if target is not None and lo - 1.5 * span <= target <= hi + 1.5 * span:
        lo, hi = min(lo, target), max(hi, target)
        span = hi - lo or span
    return lo - 0.12 * span, hi + 0.12 * span


def trend_chart(m, width: float = 120, height: float = 28, fill: bool = False) -> Markup:
    """The recent complete periods of a metric: a line, a dashed target, the last point in its status colour."""
    values = _nan(p.value for p in m.series)
    fig = new_figure(width, height)
    ax = fig.add_axes((0.02, 0.04, 0.94, 0.92))
    ax.set_axis_off()
    target = m.target.value if m.target else None
    limits = _limits(values, target)
    if limits is not None:
        xs = list(range(len(values)))
        ax.set_ylim(*limits)
        ax.set_xlim(-0.3, max(len(values) - 1, 1) + 0.3)
        if fill:
            ax.fill_between(xs, values, limits[0], color=COLOURS["fill"], linewidth=0)
        if target is not None and limits[0] <= target <= limits[1]:
            ax.axhline(target, color=COLOURS["soft"] if not fill else "#98a2b3", linewidth=0.9,
                       dashes=(3, 2))
        ax.plot(xs, values, color=COLOURS["line"], linewidth=1.3 if not fill else 1.6,
                solid_joinstyle="round", solid_capstyle="round")
        last = next((i for i in range(len(values) - 1, -1, -1) if not math.isnan(values[i])), None)
        if last is not None:
            ax.plot([last], [values[last]], "o", markersize=3.6 if not fill else 4.6,
                    color=COLOURS.get(m.target_status, COLOURS[None]), clip_on=False)
    for artist in ax.get_children():
        artist.set_clip_on(False)
    words = f"{m.label}: {len(m.series)} recent {m.grain}s"
    if m.series:
        words += f", from {format_value(m.series[0].value, m.unit)} to {format_value(m.series[-1].value, m.unit)}"
    return inline_svg(fig, width, height, f"trend-{m.name}-{width}", words, "chart trend")


BRIDGE_STEPS = 8


def bridge_steps(c, limit: int | None = BRIDGE_STEPS) -> list[tuple[str, float, int | None]]:
    """The steps a page shows: the largest `limit`, the rest summed into one line (None: every step)."""
    steps = [(s.what, s.delta, getattr(s, "rows", None)) for s in c.bridge]
    if limit is None or len(steps) <= limit:
        return steps
    steps.sort(key=lambda s: -abs(s[1]))
    rest = steps[limit - 1:]
    rows = [s[2] for s in rest]
    return steps[:limit - 1] + [(f"{len(rest)} smaller differences", sum(s[1] for s in rest),
                                 None if None in rows else sum(rows))]


def bridge_ends(c) -> tuple:
    """(start variant, start value, end variant, end value) of a collision's bridge."""
    start = next((v for v in c.variants if v.metric == c.bridge_from), None)
    end = next((v for v in c.variants if v.metric == c.bridge_to), None)
    first, last = getattr(c, "bridge_ends", None) or (start.value if start else None, end.value if end else None)
    return start, first, end, last


def bridge_chart(c, width: float = 640, numbered: bool = False, limit: int | None = None) -> Markup:
    """A horizontal waterfall from one number to the other: start total, each step, end total.

    `c` has variants, bridge_from, bridge_to, bridge (steps with `what` and `delta`) and optionally
    bridge_ends. With `numbered`, steps are labelled 1, 2, … for a page that tells them in words beside
    the chart (see sections/collisions.html.j2); otherwise each is labelled with its `what`.
    """
    start, first, end, last = bridge_ends(c)
    unit = (start or end).unit if (start or end) else None
    steps = bridge_steps(c, limit)
    rows: list[tuple[str, float, float, str, float]] = []   # label, left, length, colour, value shown
    running = first if first is not None else 0.0
    rows.append((_end_label(start, numbered) if start else "from", 0.0, running, COLOURS["line"], running))
    for i, (what, delta, _) in enumerate(steps, start=1):
        left = running if delta >= 0 else running + delta
        label = str(i) if numbered else what if len(what) <= 40 else what[:39] + "…"
        rows.append((label, left, abs(delta), COLOURS["accent"] if delta >= 0 else COLOURS["missed"], delta))
        running += delta
    total = last if last is not None else running
    rows.append((_end_label(end, numbered) if end else "to", 0.0, total, COLOURS["line"], total))
    height = 24 * len(rows) + 12
    fig = new_figure(width, height)
    left_margin = 0.2 if numbered else 0.36
    ax = fig.add_axes((left_margin, 6 / height, 0.76 - left_margin, 1 - 12 / height))
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [r[2] for r in rows], left=[r[1] for r in rows], color=[r[3] for r in rows], height=0.62)
    ax.set_yticks(ys, [r[0] for r in rows])
    ax.tick_params(axis="y", length=0, labelsize=9.5, labelcolor=COLOURS["line"])
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    hi = max(r[1] + r[2] for r in rows) or 1.0
    ax.set_xlim(0, hi * 1.02)
    for y, row, i in zip(ys, rows, range(len(rows))):
        text = format_value(row[4], unit)
        if 0 < i < len(rows) - 1 and row[4] >= 0:
            text = "+" + text
        ax.text(hi * 1.04, y, text, va="center", ha="left", fontsize=9.5, color=COLOURS["line"],
                fontweight="bold" if i in (0, len(rows) - 1) else "normal")
    for artist in ax.get_children():
        artist.set_clip_on(False)
    return inline_svg(fig, width, height, f"bridge-{c.label}-{c.period}",
                f"Bridge from {c.bridge_from} to {c.bridge_to}, {c.period}", "chart bridge")


def _end_label(v, numbered: bool) -> str:
    if numbered or not v.team:
        return v.team or v.label
    return f"{v.label} ({v.team})"


def variants_chart(c, width: float = 560) -> Markup:
    """The numbers behind one word, as bars on one scale, so the gap is seen before it is read."""
    known = [v for v in c.variants if v.value is not None]
    height = 24 * max(len(c.variants), 1) + 10
    fig = new_figure(width, height)
    ax = fig.add_axes((0.26, 5 / height, 0.56, 1 - 10 / height))
    ys = list(range(len(c.variants)))[::-1]
    values = [v.value or 0.0 for v in c.variants]
    colours = [COLOURS["met"] if v.role == "official" else COLOURS["line"] if v.role is None else "#98a2b3"
               for v in c.variants]
    ax.barh(ys, values, color=colours, height=0.6)
    ax.set_yticks(ys, [f"{v.team}" for v in c.variants])
    ax.tick_params(axis="y", length=0, labelsize=9.5, labelcolor=COLOURS["line"])
    ax.set_xticks([])
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(COLOURS["soft"])
    hi = max([abs(v) for v in values] + [1e-9])
    ax.set_xlim(min(0.0, min(values)), hi)
    for y, v in zip(ys, c.variants):
        ax.text((v.value or 0.0) + hi * 0.02, y, format_value(v.value, v.unit), va="center", ha="left",
                fontsize=9.5, color=COLOURS["line"], fontweight="bold")
    for artist in ax.get_children():
        artist.set_clip_on(False)
    words_ = "; ".join(f"{v.team} {format_value(v.value, v.unit)}" for v in known)
    return inline_svg(fig, width, height, f"variants-{c.label}-{c.period}", f"{c.label}, {c.period}: {words_}",
                "chart variants")


def contacts_chart(story, teams: list[str], width: float = 640) -> Markup:
    """One customer's contacts over time, a row per team; contacts that break a rule in red."""
    height = 22 * max(len(teams), 1) + 30
    fig = new_figure(width, height)
    ax = fig.add_axes((0.16, 22 / height, 0.8, 1 - 30 / height))
    rows = {t: i for i, t in enumerate(teams[::-1])}
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
    for flagged in (False, True):
        pts = [(date2num(c.at), rows[c.team]) for c in story.contacts if c.flagged == flagged and c.team in rows]
        if pts:
            ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=28, zorder=3,
                       color=COLOURS["missed"] if flagged else COLOURS["line"])
    ax.set_yticks(list(rows.values()), list(rows.keys()))
    ax.set_ylim(-0.6, len(teams) - 0.4)
    locator = AutoDateLocator(maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
    ax.grid(axis="y", color=COLOURS["fill"], linewidth=6)
    ax.tick_params(length=0, labelsize=8.5, labelcolor=COLOURS["line"])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(COLOURS["soft"])
    return inline_svg(fig, width, height, f"contacts-{story.customer}",
                f"Contacts with customer {story.customer} over time", "chart contacts")


# ---------------------------------------------------------------- words and numbers

_PLAIN_UNITS = (None, "", "count", "usd", "eur", "gbp", "percent")
_SHORT_UNITS = {"minutes": " min", "hours": " h", "seconds": " s", "ratio": "×"}


def weekly_touches_chart(view, width: float = 900) -> Markup:
    """The touchpoints page's weekly chart (touches per customer per week, stacked by team) for the report."""
    from types import SimpleNamespace

    from accord.render.touch_charts import colours_of, weekly_chart
    teams = list(view.teams)
    data = SimpleNamespace(weekly={week: dict(n) for week, n in view.weekly}, customers=view.customers, teams=teams)
    return weekly_chart(data, colours_of(teams), width)


def touches_legend(view) -> list[tuple[str, str]]:
    """(team, colour) of the weekly touches chart, in its order: the chart's legend."""
    from accord.render.touch_charts import colours_of
    return list(colours_of(list(view.teams)).items())


def value_text(value: float | None, unit: str | None = None) -> str:
    """A value as the text renderer writes it, with its unit named unless the number shows it ($, %)."""
    text = format_value(value, unit)
    if value is None or unit in _PLAIN_UNITS:
        return text
    return text + _SHORT_UNITS.get(unit, f" {unit}")


def change_text(m) -> Markup:
    """The move from the period before: "▲ 12%" (or "▲ 3.0 pts" for percentages), green when it is the
    direction the target asks for, red when against it."""
    if m.value is None or m.previous is None or len(m.series) < 2:
        return Markup("")
    diff = m.value - m.previous
    if m.unit == "percent":
        scale = 100 if abs(m.value) <= 1.5 and abs(m.previous) <= 1.5 else 1
        size = f"{abs(diff) * scale:.1f} pts"
    elif m.previous == 0:
        size = "from 0"
    else:
        pct = abs(diff) / abs(m.previous) * 100
        size = f"{pct:.0f}%" if pct >= 10 else f"{pct:.1f}%"
    if abs(diff) < 1e-12 or size in ("0.0%", "0.0 pts"):
        return Markup('<span class="change">no change</span>')
    arrow = "▲" if diff > 0 else "▼"
    tone = ""
    if m.target is not None:
        tone = " good" if (diff > 0) == (m.target.direction == "up") else " bad"
    before = m.series[-2].period
    return Markup(f'<span class="change{tone}" title="change from {_attr(before)}">{arrow} {size}</span>')


def target_text(target, unit: str | None) -> str:
    if target is None:
        return ""
    sign = "≥" if target.direction == "up" else "≤"
    return f"{sign} {format_value(target.value, unit)} a {target.period}"


STATUS_WORDS = {"met": "On target", "missed": "Off target", "no-data": "No data"}


def words(key: str) -> str:
    """An evidence key as words: team_lead -> team lead."""
    return key.replace("_", " ")


PERCENT_KEYS = ("spread", "share", "rate", "gain", "loss", "limit", "relative")


def evidence_text(value: Any, key: str = "") -> str:
    """One piece of evidence in words; fractions named like spreads, shares and rates as percentages."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and key.endswith(PERCENT_KEYS) and abs(value) <= 1.5:
            return f"{value * 100:.1f}%"
        return format_value(float(value))
    if isinstance(value, (list, tuple)):
        shown = ", ".join(evidence_text(v, key) for v in value[:8])
        return shown + (f" and {len(value) - 8} more" if len(value) > 8 else "")
    if isinstance(value, dict):
        return "; ".join(f"{words(str(k))}: {evidence_text(v, str(k))}" for k, v in value.items())
    return str(value)


def email_breaks(name: str | None) -> Markup:
    """An address that may wrap before its @ rather than mid-word."""
    return Markup("<wbr>@").join(str(name or "").split("@"))


def long_date(d: dt.date) -> str:
    return f"{d.day} {d.strftime('%B %Y')}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(value=value_text, change=change_text, target=target_text, words=words,
                       evidence=evidence_text, long_date=long_date, email=email_breaks,
                       variants=variants_chart, trend=trend_chart, bridge=bridge_chart,
                       plural=plural, possessive=possessive)
    env.globals.update(STATUS_WORDS=STATUS_WORDS, contacts_chart=contacts_chart, bridge_steps=bridge_steps,
                       bridge_ends=bridge_ends, BRIDGE_STEPS=BRIDGE_STEPS, weekly_touches_chart=weekly_touches_chart,
                       touches_legend=touches_legend, touch_words=touch_words)
    return env


def render_page(template: str, **context) -> str:
    """Any page on the shared layout: `template` extends base.html.j2."""
    from accord import __version__
    from accord.render.finish import finish
    return finish(environment().get_template(template).render(version=__version__, **context))


def render_report(report) -> str:
    return render_page("report.html.j2", report=report, title=f"{report.project} — metrics report")


def write_report(project, today, check_result, out_path: Path) -> Path:
    """Build the report and write it as one self-contained HTML page; returns the path written."""
    from accord.report import build_report
    from accord.project.atomic import write_file
    return write_file(Path(out_path), render_report(build_report(project, today, check_result)))

"""The touchpoint charts shared by the touchpoints page and the report: one colour per team, the axes'
style, and touches per customer per week stacked by team."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from markupsafe import Markup

from accord.render.svg import COLOURS, inline_svg, new_figure

if TYPE_CHECKING:
    from accord.analyze.touchpoints import TouchpointsResult

# One colour per team, in the policy's order, the same in every chart of the page.
PALETTE = ("#2554c7", "#e08a00", "#0f8b8d", "#8e44ad", "#c0362c", "#5b8c2a", "#b35c8e", "#6b7280")


def colours_of(teams: list[str]) -> dict[str, str]:
    return {t: PALETTE[i % len(PALETTE)] for i, t in enumerate(teams)}


def axes_style(ax) -> None:
    ax.tick_params(length=0, labelsize=8.5, labelcolor=COLOURS["line"])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(COLOURS["soft"])


def date_axis(ax, maxticks: int = 8) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    locator = AutoDateLocator(minticks=3, maxticks=maxticks)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))


def weekly_chart(result: TouchpointsResult, colours: dict[str, str], width: float = 1000) -> Markup:
    """Touches per customer per week, stacked by team (the current week is partial)."""
    weeks = sorted(result.weekly)
    height = 230
    fig = new_figure(width, height)
    ax = fig.add_axes((0.06, 0.13, 0.92, 0.82))
    per = max(result.customers, 1)
    if weeks:
        ys = [[result.weekly[w].get(t, 0) / per for w in weeks] for t in result.teams]
        ax.stackplot(weeks, ys, colors=[colours[t] for t in result.teams], linewidth=0, step="post")
        ax.set_xlim(weeks[0], weeks[-1] + dt.timedelta(days=7))
    ax.grid(axis="y", color=COLOURS["fill"], linewidth=0.8)
    ax.set_axisbelow(True)
    date_axis(ax)
    axes_style(ax)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.2g}")
    words = f"Touches per customer per week by team, {len(weeks)} weeks"
    return inline_svg(fig, width, height, "tp-weekly", words, "chart weekly")

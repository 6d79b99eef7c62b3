"""A horizontal waterfall (start total, each step, end total) as inline SVG, drawn by matplotlib."""
from __future__ import annotations

from markupsafe import Markup

from accord.analyze.bridge_words import compact
from accord.render.html import COLOURS, new_figure, inline_svg


def waterfall_svg(start: tuple[str, float], steps: list[tuple[str, float]], end: tuple[str, float],
                  unit: str | None, salt: str, width: float = 640, label_share: float = 0.36,
                  value_share: float = 0.14) -> Markup:
    """`label_share` and `value_share`: the parts of the width left of the bars (step labels) and right of
    them (values)."""
    rows: list[tuple[str, float, float, str, str]] = []   # label, left, length, colour, value text
    running = start[1]
    rows.append((start[0], min(0.0, running), abs(running), COLOURS["line"], compact(running, unit).lstrip("+")))
    for label, delta in steps:
        left = running if delta >= 0 else running + delta
        rows.append((label, left, abs(delta), COLOURS["accent"] if delta >= 0 else COLOURS["missed"],
                     compact(delta, unit)))
        running += delta
    rows.append((end[0], min(0.0, end[1]), abs(end[1]), COLOURS["line"], compact(end[1], unit).lstrip("+")))
    height = 26 * len(rows) + 16
    fig = new_figure(width, height)
    ax = fig.add_axes((label_share, 8 / height, 1 - value_share - label_share, 1 - 16 / height))
    ys = list(range(len(rows)))[::-1]
    ax.barh(ys, [r[2] for r in rows], left=[r[1] for r in rows], color=[r[3] for r in rows], height=0.62)
    ax.set_yticks(ys, [r[0] if len(r[0]) <= 44 else r[0][:43] + "…" for r in rows])
    ax.tick_params(axis="y", length=0, labelsize=9, labelcolor=COLOURS["line"])
    ax.set_xticks([])
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    lo = min(0.0, min(r[1] for r in rows))
    hi = max(r[1] + r[2] for r in rows) or 1.0
    ax.set_xlim(lo, hi * 1.02)
    for y, row in zip(ys, rows):
        ax.text(hi * 1.04, y, row[4], va="center", ha="left", fontsize=9, color=COLOURS["line"])
    for artist in ax.get_children():
        artist.set_clip_on(False)
    return inline_svg(fig, width, height, f"waterfall-{salt}", f"Waterfall from {start[0]} to {end[0]}", "chart bridge")

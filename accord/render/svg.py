"""Charts as inline SVG: matplotlib figures sized in pixels, drawn without an XML prologue, metadata or ids
that would clash when many charts share one page, and the status colours the stylesheet shares."""
from __future__ import annotations

import io
import re

from markupsafe import Markup

# Status colours, shared by the stylesheet (see base.css) and the charts.
COLOURS = {"met": "#1b7f3b", "missed": "#c0362c", "no-data": "#98a2b3", None: "#344054",
           "line": "#344054", "soft": "#d0d5dd", "fill": "#eef2f6", "accent": "#2554c7"}

_SVG_RC = {
    "svg.fonttype": "none",        # text stays text, in the page's font: no glyphs embedded as paths
    "font.family": "sans-serif",
    "font.sans-serif": ["Helvetica", "Arial", "DejaVu Sans"],
    "font.size": 9,
    "axes.unicode_minus": True,     # −, as in the page's text
    "path.simplify": True,
}


def new_figure(width_px: float, height_px: float):
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width_px / 96, height_px / 96), dpi=96)
    fig.patch.set_visible(False)
    return fig


def inline_svg(fig, width_px: float, height_px: float, salt: str, label: str, css: str) -> Markup:
    """The figure as an inline <svg>: no XML prologue or metadata, ids unique to this chart, sized in px."""
    import matplotlib
    buf = io.StringIO()
    with matplotlib.rc_context({**_SVG_RC, "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", transparent=True, metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->\s*", "", text, flags=re.S)
    text = re.sub(r"\s*<style type=\"text/css\">\*\{stroke-linejoin: round; stroke-linecap: butt\}</style>", "",
                  text)
    # matplotlib names every group (figure_1, axes_1, ...): drop the ids nothing points at, so that many
    # charts can share one page; the ones in use (markers) are hashed with a salt unique to this chart.
    used = set(re.findall(r'(?:href="|url\()#([^")]+)', text))
    text = re.sub(r'\s+id="([^"]+)"', lambda m: m.group(0) if m.group(1) in used else "", text)
    head = (f'<svg class="{css}" role="img" aria-label="{_attr(label)}" width="{width_px:g}" '
            f'height="{height_px:g}"')
    text = re.sub(r'^<svg[^>]*?width="[^"]*" height="[^"]*"', head, text, count=1)
    text = re.sub(r"\s*\n\s*", " ", text.strip())
    text = re.sub(r"<defs>\s*</defs>|<g/>", "", text)
    return Markup(re.sub(r">\s+<", "><", text))


def _attr(s: str) -> str:
    return str(Markup.escape(s))

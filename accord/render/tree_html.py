"""`accord tree --format html`: one offline page with the tree drawn as an SVG diagram coloured by target
status, each claimed contribution marked by its verdict, then the stalled outcomes, the handoffs, and every
edge and metric with its numbers."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from markupsafe import Markup

from accord.render.html import COLOURS, new_figure, inline_svg, render_page, trend_chart
from accord.words import plural
from accord.render.tree_text import (MOVING_WORDS, verdict_count, STATUS_WORDS, VERDICT_WORDS, change_words, lag_words,
                                     p_words, per_period, target_words, value_words)

FILL = {"green": "#e7f5ec", "red": "#fdecea", "none": "#f6f7f9"}
EDGE = {"supported": (COLOURS["met"], "-", 2.2), "reversed": (COLOURS["missed"], "-", 2.2),
        "unsupported": ("#dc6803", (0, (3, 2)), 1.6), "insufficient-data": ("#98a2b3", (0, (1, 2)), 1.4)}
CHIP = {"green": "met", "red": "missed", "none": None}

ROW, BOX_H, INDENT, BOX_W, PAD = 30, 22, 26, 300, 8


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _when(edge) -> str:
    s = edge.stats
    if s.best_lag is None:
        return ""
    return lag_words(s.best_lag, edge.grain)


def edge_numbers(edge) -> str:
    """r +0.59 5 weeks later · p < 0.001 · 100 weeks."""
    s = edge.stats
    if edge.verdict == "insufficient-data":
        return s.note or ""
    parts = []
    if s.correlation is not None:
        parts.append(f"r {s.correlation:+.2f} {_when(edge)}")
    parts.append(f"p {p_words(edge.p_adjusted)}")
    parts.append(f"{s.periods} {edge.grain}s")
    return " · ".join(parts)


def tree_diagram(tree) -> Markup:
    """The tree as an indented diagram: a box per metric filled by status, a connector per edge drawn by
    its verdict (solid green holds, solid red reversed, dashed amber not supported, dotted grey no data)."""
    from matplotlib.patches import FancyBboxPatch
    places = list(tree.walk())
    depth = max((p.depth for p in places), default=0)
    col_change = PAD + depth * INDENT + BOX_W + 14
    col_verdict = col_change + 120
    width = max(col_verdict + 330, 760)
    height = ROW * len(places) + 12
    fig = new_figure(width, height)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)
    ax.set_axis_off()
    rows: dict[str, float] = {}   # where a metric's full box sits
    stack: list[tuple[float, float]] = []   # (x, y) of the box at each depth on the current path
    for i, place in enumerate(places):
        node, m = place.node, place.node.metric
        y = 6 + ROW * i + ROW / 2
        x = PAD + place.depth * INDENT
        del stack[place.depth:]
        if place.depth and stack:
            px, py = stack[-1]
            colour, style, lw = EDGE[place.edge.verdict] if place.edge else ("#98a2b3", "-", 1)
            trunk = px + 10
            ax.plot([trunk, trunk], [py + BOX_H / 2, y], color="#d0d5dd", linewidth=1.2, solid_capstyle="butt")
            ax.plot([trunk, x], [y, y], color=colour, linestyle=style, linewidth=lw, solid_capstyle="butt")
            ax.plot([trunk], [y], "o", markersize=4.2, color=colour)
        stack.append((x, y))
        status = "none" if place.repeat else node.status
        box = FancyBboxPatch((x, y - BOX_H / 2), BOX_W, BOX_H, boxstyle="round,pad=0,rounding_size=4",
                             facecolor=FILL[status], edgecolor=COLOURS[CHIP[status]] if status != "none" else "#98a2b3",
                             linewidth=1.1, linestyle="--" if place.repeat else "-")
        ax.add_patch(box)
        label = ax.text(x + 8, y, _short(node.label or m.display_label, 30), va="center_baseline", ha="left", fontsize=9.5,
                        fontweight="bold", color=COLOURS["line"])
        label.set_url(f"#m-{m.name}")
        if place.repeat:
            ax.text(x + BOX_W - 8, y, "shown above", va="center_baseline", ha="right", fontsize=8.5, color="#667085")
        else:
            rows.setdefault(m.name, y)
            ax.text(x + BOX_W - 8, y, value_words(node.numbers.value, m.unit), va="center_baseline", ha="right",
                    fontsize=9.5, color=COLOURS["line"])
            p = node.numbers
            if p.change:
                good = None if m.target is None else (p.change > 0) == (m.target.direction == "up")
                tone = COLOURS["line"] if good is None else COLOURS["met"] if good else COLOURS["missed"]
                size = (f"{abs(p.change) * 100:.1f} pts" if m.unit == "percent" else
                        f"{abs(p.relative):.0%}" if p.relative is not None else "from 0")
                ax.text(col_change, y, f"{'▲' if p.change > 0 else '▼'} {size}", va="center_baseline", ha="left",
                        fontsize=9, color=tone)
        if place.edge is not None:
            colour = EDGE[place.edge.verdict][0]
            word = VERDICT_WORDS[place.edge.verdict][0]
            t = ax.text(col_verdict, y, f"{word}", va="center_baseline", ha="left", fontsize=9, fontweight="bold",
                        color=colour)
            ax.annotate(edge_numbers(place.edge), xycoords=t, xy=(1, 0), xytext=(5, 0), textcoords="offset points",
                        va="bottom", ha="left", fontsize=8.5, color="#667085")
    for artist in ax.get_children():
        artist.set_clip_on(False)
    counts = tree.verdict_counts()
    words = (f"The contribution tree of {tree.project}: {plural(len(tree.nodes), 'metric')}; "
             + ", ".join(verdict_count(n, v) for v, n in counts.items() if n))
    return inline_svg(fig, width, height, f"tree-{tree.project}", words, "chart tree-diagram")


def _view(node, tree) -> SimpleNamespace:
    """What trend_chart reads: the trend window's values, the target, the status."""
    m = node.metric
    series = [SimpleNamespace(value=v, period=p) for p, v in zip(node.recent.labels, node.recent.values)]
    return SimpleNamespace(name=m.name, label=node.label or m.display_label, unit=m.unit, target=None, series=series,
                           target_status=CHIP[node.status], grain=tree.test_grain)


def _metric_rows(tree) -> list[dict]:
    out = []
    for node in tree.nodes.values():
        m, p = node.metric, node.numbers
        out.append({"name": m.name, "label": node.label or m.display_label, "team": m.team, "level": m.level,
                    "owner": node.owner, "period": p.period, "value": value_words(p.value, m.unit),
                    "change": change_words(node), "status": node.status, "chip": CHIP[node.status],
                    "status_words": STATUS_WORDS[node.status][0],
                    "target": target_words(m.target, m.unit) if m.target else "",
                    "trend": (f"{MOVING_WORDS[node.trend.moving]}: {per_period(node.trend.slope, m.unit)} a "
                              f"{node.trend.grain}, p {p_words(node.trend.p_value)}") if node.trend else
                             "too few periods",
                    "chart": trend_chart(_view(node, tree)) if node.recent.values else Markup("")})
    return out


def _edge_rows(tree) -> list[dict]:
    out = []
    for e in tree.edges:
        s = e.stats
        out.append({"child": e.link.child, "parent": e.link.parent,
                    "claim": f"{e.link.effect}" + (f" after {e.link.lag}" if e.lag_periods else " (same period)"),
                    "verdict": e.verdict, "verdict_words": VERDICT_WORDS[e.verdict][0],
                    "best_lag": "—" if s.best_lag is None else _when(e),
                    "correlation": "—" if s.correlation is None else f"{s.correlation:+.2f}",
                    "p": p_words(e.p_adjusted), "periods": s.periods,
                    "span": f"{e.first_period} – {e.last_period}" if e.first_period else "",
                    "lags": (f"{s.lags_tested[0]}–{s.lags_tested[1]}" if s.lags_tested else "—"),
                    "note": s.note or ""})
    order = {"reversed": 0, "unsupported": 1, "insufficient-data": 2, "supported": 3}
    return sorted(out, key=lambda r: order[r["verdict"]])


def _stalled(tree) -> list[dict]:
    out = []
    for f in tree.findings:
        if f.code != "green-but-stalled":
            continue
        ev = f.evidence
        node = tree.nodes[ev["metric"]]
        m = node.metric
        kids = []
        for c in ev["children"]:
            child = tree.nodes[c["metric"]]
            cm = child.metric
            kids.append({"name": c["metric"], "label": child.label or cm.display_label, "team": c["team"], "chip": CHIP[c["status"]],
                         "status_words": STATUS_WORDS[c["status"]][0], "value": value_words(c["value"], cm.unit),
                         "target": target_words(cm.target, cm.unit), "period": c["period"]})
        out.append({"finding": f, "name": m.name, "label": node.label or m.display_label, "team": m.team,
                    "value": value_words(node.numbers.value, m.unit), "period": node.numbers.period,
                    "chip": CHIP[node.status], "status_words": STATUS_WORDS[node.status][0],
                    "slope": f"{per_period(ev['slope'], m.unit)} a {ev['trend_grain']}",
                    "p": p_words(ev["p_value"]), "weeks": f"{ev['trend_from']} – {ev['trend_to']}",
                    "chart": trend_chart(_view(node, tree), width=260, height=60, fill=True), "children": kids})
    return out


def _handoffs(tree) -> list[dict]:
    out = []
    for f in tree.findings:
        if not _is_collision(f):
            continue
        ev = f.evidence

        def side(d):
            unit = d["unit"]
            return {"metric": d["metric"], "team": d["team"],
                    "before": value_words(d["values"][0], unit), "after": value_words(d["values"][1], unit),
                    "change": f"{d['change']:+.1%}", "way": "up" if d["direction"] == "up" else "down"}
        out.append({"finding": f, "periods": " → ".join(ev["periods"]), "up": side(ev["upstream"]),
                    "down": side(ev["downstream"]), "what": ev.get("handoff") or "",
                    "r": "—" if ev["weekly_correlation"] is None else f"{ev['weekly_correlation']:+.2f}".replace("-", "−"),
                    "lag": lag_words(ev["lag"], ev["grain"]) if ev["lag"] else None, "p": p_words(ev["p_value_adjusted"]), "changes": ev["weekly_changes"]})
    return out


def _is_collision(f) -> bool:
    """A handoff collision with weekly evidence; the pairs that only moved apart are in "more"."""
    return f.code == "handoff-collision" and f.severity == "error"


def write_tree_html(tree, out_path: Path) -> Path:
    """Write the tree page to `out_path`; returns the path written."""
    from accord.project.atomic import write_file
    return write_file(Path(out_path), tree_page(tree))


def tree_page(tree) -> str:
    """The contribution tree as one self-contained HTML page."""
    counts = tree.verdict_counts()
    others = [f for f in tree.findings if f.code != "green-but-stalled" and not _is_collision(f)]
    html = render_page("tree.html.j2", title=f"{tree.project} — contribution tree", tree=tree, counts=counts,
                       verdict_words={k: v[0] for k, v in VERDICT_WORDS.items()}, diagram=tree_diagram(tree),
                       metrics=_metric_rows(tree), edges=_edge_rows(tree), stalled=_stalled(tree),
                       handoffs=_handoffs(tree), others=others)
    return html

"""`accord tree` in a terminal: the hierarchy indented, each metric's numbers, status and trend in words,
and under each child whether its claimed effect on the parent holds."""
from __future__ import annotations

from rich.console import Console
from rich.text import Text
from rich.tree import Tree as RichTree

from accord.render.text import format_value

STATUS_WORDS = {"green": ("on target", "green"), "red": ("off target", "red"), "none": ("no target", "dim")}
VERDICT_WORDS = {"supported": ("holds", "green"), "reversed": ("reversed", "bold red"),
                 "unsupported": ("not supported", "yellow"), "insufficient-data": ("not enough data", "dim")}


def verdict_count(n: int, verdict: str) -> str:
    """'1 holds', '11 hold', '2 reversed'."""
    word = VERDICT_WORDS[verdict][0]
    return f"{n} {'hold' if word == 'holds' and n != 1 else word}"


MOVING_WORDS = {"rising": "rising", "falling": "falling", "flat": "no clear trend"}


def p_words(p: float | None) -> str:
    if p is None:
        return "—"
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def value_words(value: float | None, unit: str | None) -> str:
    """As format_value, with cents kept on small amounts of money (a cost per click of $3.73)."""
    if value is not None and unit in ("usd", "eur", "gbp") and abs(value) < 100:
        sign = {"usd": "$", "eur": "€", "gbp": "£"}[unit]
        return f"{'-' if value < 0 else ''}{sign}{abs(value):,.2f}"
    return format_value(value, unit)


def per_period(slope: float, unit: str | None) -> str:
    """A slope with its sign: percentages in points, money and counts as numbers."""
    if unit == "percent":
        return f"{slope * 100:+.2f} pts"
    if abs(slope) >= 1000:
        return f"{slope:+,.0f}"
    return f"{slope:+.3g}"


def change_words(node) -> str:
    p = node.numbers
    if p.value is None or p.previous is None:
        return f"no value for {p.previous_period}" if p.value is not None else ""
    if p.change == 0:
        return f"unchanged from {p.previous_period}"
    arrow = "▲" if p.change > 0 else "▼"
    if node.metric.unit == "percent":
        size = f"{abs(p.change) * 100:.1f} pts"
    elif p.relative is None:
        size = f"from {value_words(p.previous, node.metric.unit)}"
        return f"{arrow} {size} in {p.previous_period}"
    else:
        size = f"{abs(p.relative):.1%}"
    return f"{arrow} {size} from {value_words(p.previous, node.metric.unit)} in {p.previous_period}"


def target_words(target, unit: str | None) -> str:
    sign = "≥" if target.direction == "up" else "≤"
    return f"{sign} {value_words(target.value, unit)} a {target.period}"


def trend_words(trend, unit: str | None) -> str:
    if trend is None:
        return "too few periods for a trend"
    return (f"{MOVING_WORDS[trend.moving]} over {trend.periods} {trend.grain}s "
            f"({per_period(trend.slope, unit)} a {trend.grain}, p {p_words(trend.p_value)})")


def lag_words(lag: int, grain: str) -> str:
    """same week, 1 week later, 5 weeks later."""
    return f"same {grain}" if lag == 0 else f"{lag} {grain}{'s' if lag != 1 else ''} later"


def edge_words(edge) -> Text:
    s = edge.stats
    word, style = VERDICT_WORDS[edge.verdict]
    claim = f"{edge.link.effect} {edge.link.parent}" + (f" after {edge.link.lag}" if edge.lag_periods else "")
    out = Text("↑ ", style="dim")
    out.append(claim, style="dim")
    out.append(": ")
    out.append(word, style=style)
    if edge.verdict == "insufficient-data":
        out.append(f" ({s.note})", style="dim")
        return out
    numbers = []
    if s.correlation is not None:
        numbers.append(f"correlation {s.correlation:+.2f} {lag_words(s.best_lag, edge.grain)}")
    numbers.append(f"adjusted p {p_words(edge.p_adjusted)}")
    numbers.append(f"{s.periods} {edge.grain}s")
    out.append(" — " + ", ".join(numbers), style="dim")
    return out


def _label(place) -> Text:
    node = place.node
    m = node.metric
    out = Text(overflow="fold")
    out.append(node.label or m.display_label, style="bold")
    out.append(f"  {m.name} · {m.team} · {m.level}", style="dim")
    if place.repeat:
        out.append("  (shown above)", style="dim")
    if place.edge is not None:
        out.append("\n")
        out.append_text(edge_words(place.edge))
    if place.repeat:
        return out
    p = node.numbers
    out.append("\n")
    out.append(f"{value_words(p.value, m.unit)} in {p.period}")
    change = change_words(node)
    if change:
        out.append(f" ({change})", style="dim")
    word, style = STATUS_WORDS[node.status]
    out.append(" · ")
    out.append(word, style=style)
    if m.target is not None:
        out.append(f" ({target_words(m.target, m.unit)})", style="dim")
    out.append("\n")
    out.append(trend_words(node.trend, m.unit), style="dim")
    return out


def tree_text(out: Console, tree) -> None:
    """The tree, one rich tree per root, then the stalled metrics and handoff collisions it found."""
    counts = tree.verdict_counts()
    edges = sum(counts.values())
    out.print(Text(f"{tree.project} · as of {tree.as_of.isoformat()} · trends over the last {tree.trend_periods} "
                   f"{tree.test_grain}s", style="bold"))
    if edges:
        out.print(Text(f"{edges} claimed contribution{'s' if edges != 1 else ''}: " + ", ".join(
            verdict_count(counts[v], v) for v in VERDICT_WORDS if counts[v]), style="dim"))
    if not tree.nodes:
        out.print("no metrics defined")
        return
    stack: list[RichTree] = []
    for place in tree.walk():
        branch = RichTree(_label(place), guide_style="dim")
        if place.depth == 0:
            if stack:
                out.print(stack[0], soft_wrap=False)
            out.print()
            stack = [branch]
        else:
            del stack[place.depth:]
            stack[-1].children.append(branch)
            stack.append(branch)
    if stack:
        out.print(stack[0], soft_wrap=False)
    for code, heading in (("green-but-stalled", "Green dashboards, stalled outcome"),
                          ("handoff-collision", "Handoffs where one team's win is the next team's loss")):
        found = [f for f in tree.findings if f.code == code and f.severity == "error"]
        if found:
            out.print(Text(f"\n{heading} ({len(found)})", style="bold"))
            for f in found:
                out.print(Text("  • ") + Text(f.title))
    rest = len([f for f in tree.findings
                if f.code not in ("green-but-stalled", "handoff-collision") or f.severity != "error"])
    if rest:
        out.print(Text(f"\n{rest} more finding{'s' if rest != 1 else ''} from the tree: run accord check", style="dim"))

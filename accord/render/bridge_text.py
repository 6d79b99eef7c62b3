"""A bridge in sentences people say in a meeting."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table


def compact(value: float, unit: str | None = None) -> str:
    """−$1.26M, +37, +4.2k: signed and short."""
    sign = "−" if value < 0 else "+"
    v = abs(value)
    prefix = {"usd": "$", "eur": "€", "gbp": "£"}.get(unit or "", "")
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if v >= size:
            return f"{sign}{prefix}{v / size:.3g}{suffix}"
    return f"{sign}{prefix}{v:,.0f}" if float(v).is_integer() or v >= 100 else f"{sign}{prefix}{v:.3g}"


def _plural(entity: str | None, n: int) -> str:
    word = entity or "record"
    if n == 1:
        return word
    return word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"


def sentence(step: dict, a: dict, b: dict, entity: str | None, teams: dict[str, str]) -> str:
    n, what = step["records"], _plural(entity, step["records"])
    sys_a, sys_b = (a.get("system") or a["source"]).replace("_", " "), (b.get("system") or b["source"]).replace("_", " ")
    kind, side, clause = step["kind"], step["side"], step["clause"]
    one = n == 1
    if kind == "only-in-a":
        return f"{n:,} {what} exist{'s' if one else ''} only in {sys_a}"
    if kind == "only-in-b":
        return f"{n:,} {what} exist{'s' if one else ''} only in {sys_b}"
    if kind == "no-key":
        return f"{n:,} {what} counted by {a['metric'] if side == 'a' else b['metric']} {'has' if one else 'have'} no key to match"
    if kind == "value-differs":
        return f"{n:,} {what} {'has' if one else 'have'} a different value in {sys_b} than in {sys_a}"
    owner = teams[b["metric"]] if side == "b" else teams[a["metric"]]
    counted = a["metric"] if side == "b" else b["metric"]
    if kind == "clause" and clause == "period":
        return f"{n:,} {what} counted by {counted} fall{'s' if one else ''} in another period by {owner}'s date"
    if kind == "clause":
        return f"{n:,} {what} counted by {counted} {'is' if one else 'are'} left out by {owner}'s rule '{clause}'"
    return f"{n:,} {what} counted by {counted} fail{'s' if one else ''} several of {owner}'s rules"


def bridge_text(out: Console, data: dict, entity: str | None, unit: str | None, teams: dict[str, str]) -> None:
    a, b = data["a"], data["b"]
    out.print(f"[bold]{a['metric']}[/bold] → [bold]{b['metric']}[/bold] for {data['period']}")
    table = Table(show_edge=False, show_header=False, pad_edge=False, box=None)
    table.add_column("", justify="right")
    table.add_column("")
    table.add_row(compact(a["value"], unit).lstrip("+"), f"{a['metric']} ({a.get('system') or a['source']})")
    for step in data["steps"]:
        table.add_row(compact(step["delta"], unit), sentence(step, a, b, entity, teams)
                      + (f"  [dim]e.g. {', '.join(step['examples'][:3])}[/dim]" if step["examples"] else ""))
    table.add_row(compact(b["value"], unit).lstrip("+"), f"{b['metric']} ({b.get('system') or b['source']})",
                  style="bold")
    out.print(table)
    gap = data["gap"]
    rel = f" ({gap / a['value']:+.1%} of {a['metric']})" if a["value"] else ""
    out.print(f"gap {compact(gap, unit)}{rel}, explained by {len(data['steps'])} step"
              f"{'s' if len(data['steps']) != 1 else ''}")

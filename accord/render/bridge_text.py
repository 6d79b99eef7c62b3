"""A bridge in sentences people say in a meeting."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table

from accord.analyze.bridge_words import compact, sentence


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
    rel = f" ({gap / a['value']:+.1%} of {a['metric']})".replace("-", "−") if a["value"] else ""
    out.print(f"gap {compact(gap, unit)}{rel}, explained by {len(data['steps'])} step"
              f"{'s' if len(data['steps']) != 1 else ''}")

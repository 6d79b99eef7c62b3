"""Terminal output with rich: findings, computed series, validation summaries."""
from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from accord.findings import Finding

_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


class _Console(Console):
    def on_broken_pipe(self) -> None:
        """A reader that stopped early (`| head -1`) is the command line's to handle: rich would exit 1."""
        self.quiet = True
        raise BrokenPipeError


def console(stderr: bool = False) -> Console:
    return _Console(stderr=stderr, highlight=False, soft_wrap=True)


def findings_text(out: Console, findings: list[Finding], counts: dict[str, int]) -> None:
    open_ = [f for f in findings if f.accepted is None]
    accepted = [f for f in findings if f.accepted is not None]
    for f in open_:
        _finding(out, f)
    if accepted:
        out.print(Text(f"\nAccepted for now ({len(accepted)}):", style="bold"))
        for f in accepted:
            _finding(out, f, dim=True)
            out.print(Text(f"      accepted by {f.accepted['owner']} until {f.accepted['until']}: "
                           f"{f.accepted['reason']}", style="dim"))
    summary = ", ".join(f"{counts[k]} {k}{'s' if counts[k] != 1 and k != 'info' else ''}"
                        for k in ("error", "warning", "info") if counts[k])
    if counts.get("accepted"):
        summary += (", " if summary else "") + f"{counts['accepted']} accepted"
    out.print(Text("\n" + (summary or "no findings"), style="bold"))


def _finding(out: Console, f: Finding, dim: bool = False) -> None:
    where = f"{f.location.file}:{f.location.line}" if f.location and f.location.file else ""
    line = Text()
    line.append(f"{f.severity:<7} ", style="dim" if dim else _STYLE[f.severity])
    line.append(f"{f.code:<24} ", style="dim" if dim else "bold")
    line.append(f.title)
    out.print(line)
    details = []
    if where:
        details.append(where)
    if f.owner:
        details.append(f"owner {f.owner}")
    if details:
        out.print(Text("        " + " · ".join(details), style="dim"))


def series_text(out: Console, rows: list[dict], units: dict[str, str | None]) -> None:
    table = Table(show_edge=False, header_style="bold", pad_edge=False)
    table.add_column("metric")
    table.add_column("period")
    table.add_column("value", justify="right")
    table.add_column("", style="dim")
    last = None
    for r in rows:
        name = r["metric"] if r["metric"] != last else ""
        last = r["metric"]
        table.add_row(name, r["period"], format_value(r["value"], units.get(r["metric"])),
                      "no data" if r.get("stale") else "" if r["complete"] else "incomplete")
    out.print(table)


def format_value(value: float | None, unit: str | None = None) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value * 100:.1f}%" if abs(value) <= 1.5 else f"{value:.1f}%"
    if unit in ("usd", "eur", "gbp"):
        sign = {"usd": "$", "eur": "€", "gbp": "£"}[unit]
        return f"{'-' if value < 0 else ''}{sign}{abs(value):,.0f}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.1f}"

"""Markdown of what the terminal shows: findings for a pull request comment, a bridge for a doc or a ticket.

The same words as the text renderers; tables where a reader scans, `code` for names and places.
"""
from __future__ import annotations

from accord.analyze.bridge_words import compact, sentence
from accord.findings import Finding
from accord.words import plural

SEVERITY_MARK = {"error": "🔴 error", "warning": "🟡 warning", "info": "ℹ️ info"}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def findings_markdown(findings: list[Finding], counts: dict[str, int]) -> str:
    """Open findings as a table (severity, code, what, where, owner), then the accepted ones."""
    open_ = [f for f in findings if f.accepted is None]
    accepted = [f for f in findings if f.accepted is not None]
    summary = ", ".join(plural(counts[k], k) if k != "info" else f"{counts[k]} info"
                        for k in ("error", "warning", "info") if counts.get(k))
    if counts.get("accepted"):
        summary += (", " if summary else "") + f"{counts['accepted']} accepted"
    lines = ["## accord check", "", f"**{summary or 'no findings'}**", ""]
    if open_:
        lines += ["| severity | code | finding | where | owner |", "|---|---|---|---|---|"]
        for f in open_:
            where = f"`{f.location.file}:{f.location.line}`" if f.location and f.location.file else ""
            lines.append(f"| {SEVERITY_MARK[f.severity]} | `{f.code}` | {_cell(f.title)} | {where} | "
                         f"{_cell(f.owner or '')} |")
        lines.append("")
    if accepted:
        lines += [f"### Accepted for now ({len(accepted)})", ""]
        for f in accepted:
            a = f.accepted
            lines.append(f"- `{f.code}` {_cell(f.title)} — accepted by {a['owner']} until {a['until']}: "
                         f"{_cell(a['reason'])}")
        lines.append("")
    return "\n".join(lines)


def bridge_markdown(data: dict, entity: str | None, unit: str | None, teams: dict[str, str]) -> str:
    """The bridge from A's value to B's as a table of steps, each with its sentence and example records."""
    a, b = data["a"], data["b"]
    lines = [f"## {a['metric']} → {b['metric']}, {data['period']}", "", "| | step | examples |", "|---:|---|---|",
             f"| **{compact(a['value'], unit).lstrip('+')}** | {a['metric']} ({a.get('system') or a['source']}) | |"]
    for step in data["steps"]:
        examples = ", ".join(f"`{e}`" for e in step["examples"][:3])
        lines.append(f"| {compact(step['delta'], unit)} | {_cell(sentence(step, a, b, entity, teams))} | {examples} |")
    lines.append(f"| **{compact(b['value'], unit).lstrip('+')}** | **{b['metric']} "
                 f"({b.get('system') or b['source']})** | |")
    gap = data["gap"]
    rel = f" ({gap / a['value']:+.1%} of {a['metric']})".replace("-", "−") if a["value"] else ""
    lines += ["", f"Gap {compact(gap, unit)}{rel}, explained by {plural(len(data['steps']), 'step')}.", ""]
    return "\n".join(lines)

"""`accord reconcile --format html`: the waterfall as inline SVG, the steps in sentences, example records."""
from __future__ import annotations

from pathlib import Path

from markupsafe import Markup

from accord.analyze.bridge_words import compact, sentence, short_label
from accord.render.html import render_page
from accord.render.waterfall import waterfall_svg


def write_bridge_html(data: dict, entity: str | None, unit: str | None, teams: dict[str, str], out: Path) -> Path:
    """Write the bridge page to `out`; returns the path written."""
    from accord.project.atomic import write_file
    return write_file(out, bridge_page(data, entity, unit, teams))


def bridge_page(data: dict, entity: str | None, unit: str | None, teams: dict[str, str]) -> str:
    """The bridge as one self-contained HTML page."""
    a, b = data["a"], data["b"]
    salt = f"{a['metric']}-{b['metric']}-{data['period']}"
    wide = waterfall_svg((f"{a['metric']} ({teams.get(a['metric'], '')})", a["value"]),
                         [(short_label(s, a, b, teams), s["delta"]) for s in data["steps"]],
                         (f"{b['metric']} ({teams.get(b['metric'], '')})", b["value"]), unit, salt)
    # on a phone the same bars with short labels (A, step numbers, B) drawn at its width, so the words stay
    # readable; the table below tells each numbered step in full
    narrow = waterfall_svg(("A", a["value"]), [(str(i), s["delta"]) for i, s in enumerate(data["steps"], 1)],
                           ("B", b["value"]), unit, salt + "-narrow", width=340,
                           label_share=0.07, value_share=0.25)
    chart = Markup(f'<div class="only-wide">{wide}</div><div class="only-narrow">{narrow}</div>')
    rows = [{"delta": compact(s["delta"], unit), "words": sentence(s, a, b, entity, teams), "records": s["records"],
             "examples": s["examples"], "combinations": s.get("evidence", {}).get("combinations", [])}
            for s in data["steps"]]
    gap = data["gap"]
    html = render_page("reconcile.html.j2", title=f"{a['metric']} → {b['metric']}, {data['period']}",
                       a=a, b=b, period=data["period"], chart=chart, rows=rows,
                       gap=compact(gap, unit), start=compact(a["value"], unit).lstrip("+"),
                       end=compact(b["value"], unit).lstrip("+"),
                       relative=(f"{gap / a['value']:+.1%}".replace("-", "−") if a["value"] else None))
    return html

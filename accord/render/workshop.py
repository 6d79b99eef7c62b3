"""The workshop's documents as Markdown and self-contained HTML, from the templates under render/templates/workshop.

A thin renderer: the kit, pre-work and rollout are built by their modules; this only lays them out.
Markdown uses its own Jinja environment (no HTML escaping); HTML goes through the shared page layout.
"""
from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from accord.analyze.bridge_words import compact
from accord.render.text import format_value


def _cell(value) -> str:
    """Text for one Markdown table cell: one line, pipes escaped; blanks marked."""
    if value is None or value == "":
        return "BLANK"
    return " ".join(str(value).split()).replace("|", "\\|")


@lru_cache(maxsize=1)
def _markdown_environment() -> Environment:
    from accord.render.html import TEMPLATES
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=False, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(cell=_cell, value=format_value)
    env.globals.update(compact=compact)
    return env


def _tidy(text: str) -> str:
    """No runs of blank lines, one newline at the end."""
    lines, blank = [], False
    for line in text.splitlines():
        line = line.rstrip()
        if not line and blank:
            continue
        blank = not line
        lines.append(line)
    return "\n".join(lines).strip() + "\n"


def markdown(template: str, **context) -> str:
    return _tidy(_markdown_environment().get_template(template).render(compact=compact, **context))


def kit_markdown(kit) -> str:
    return markdown("workshop/kit.md.j2", kit=kit)


def kit_html(kit) -> str:
    from accord.render.html import render_page
    return render_page("workshop/kit.html.j2", kit=kit, compact=compact, charts=_bridge_charts(kit),
                       title=f"Metric alignment workshop: {', '.join(kit.labels)}")


def _bridge_charts(kit) -> dict:
    """Each computed bridge as the shared waterfall chart, keyed by (label slug, bridge index)."""
    from accord.render.html import bridge_chart
    charts = {}
    for t in kit.topics:
        versions = {v.metric: v for v in t.versions}
        for i, b in enumerate(t.bridges):
            if b.refused:
                continue
            ends = [SimpleNamespace(metric=name, label=name, team=versions[name].team, unit=versions[name].unit,
                                    value=value)
                    for name, value in ((b.a, b.start), (b.b, b.end))]
            view = SimpleNamespace(variants=ends, bridge_from=b.a, bridge_to=b.b, bridge_ends=(b.start, b.end),
                                   bridge=[SimpleNamespace(what=words, delta=delta, rows=None)
                                           for delta, words in b.steps],
                                   label=f"{t.slug}-{i}", period=b.period)
            charts[(t.slug, i)] = bridge_chart(view, numbered=True)
    return charts


def prework_markdown(request) -> str:
    return markdown("workshop/prework.md.j2", r=request)


def rollout_markdown(rollout) -> str:
    return markdown("workshop/rollout.md.j2", r=rollout)


def rollout_html(rollout) -> str:
    from accord.render.html import render_page
    return render_page("workshop/rollout.html.j2", r=rollout, title=f"'{rollout.label}': what we decided")

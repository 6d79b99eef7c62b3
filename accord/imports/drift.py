"""`import-drift`: a metric's definition changed in the tool it was imported from since the last import."""
from __future__ import annotations

from pathlib import Path

from accord.errors import UserError
from accord.findings import Finding
from accord.project.model import Project

_OFFICIAL = ("decision-grade", "board-grade")


def import_drift(project: Project) -> list[Finding]:
    """One finding per imported metric whose tool definition changed or disappeared (settings.imports says
    where each tool's project is); one per tool whose project cannot be read."""
    out: list[Finding] = []
    for tool, rel in sorted(project.settings.imports.items()):
        imported = [m for m in project.metrics if (m.imported_from or "").startswith(f"{tool}:")]
        if not imported:
            continue
        from accord.imports.tools import current_fingerprints
        try:
            now = current_fingerprints(tool, project.root / Path(rel))
        except UserError as e:
            first = imported[0]
            out.append(Finding("import-drift", "warning",
                               f"the {tool} project at {rel} cannot be read, so imported metrics cannot be compared "
                               f"with it: {e.lines()[0]}", metrics=tuple(sorted(m.name for m in imported)),
                               teams=tuple(sorted({m.team for m in imported})), owner=first.owner,
                               evidence={"tool": tool, "folder": rel, "problem": e.lines()[0]},
                               location=first.location))
            continue
        for m in imported:
            name = m.imported_from.split(":", 1)[1]
            current = now.get(name)
            if current == m.imported_fingerprint:
                continue
            what = (f"metric '{m.name}' is no longer defined in {tool}" if current is None else
                    f"metric '{m.name}' changed in {tool} since it was imported")
            severity = "error" if m.confidence in _OFFICIAL else "warning"
            team = project.team(m.team)
            out.append(Finding("import-drift", severity,
                               f"{what}: run `accord import {tool} {rel}` to take the change, or fix {tool}",
                               metrics=(m.name,), teams=(m.team,), owner=m.owner or (team.lead if team else None),
                               evidence={"tool": tool, "folder": rel, "imported_from": m.imported_from,
                                         "imported_fingerprint": m.imported_fingerprint,
                                         "current_fingerprint": current},
                               location=m.location))
    return out

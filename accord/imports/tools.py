"""The translators by tool name, and the fingerprints of what each tool defines now (for import-drift)."""
from __future__ import annotations

from pathlib import Path

from accord.imports.translation import Translation


def translate(tool: str, folder: Path, shown: str | None = None, team: str | None = None,
              level: str | None = None) -> Translation:
    """`tool`'s definitions in `folder` (dbt, lookml or cube), translated exactly or refused one by one."""
    if tool == "dbt":
        from accord.imports.dbt import translate_dbt
        return translate_dbt(folder, shown, team, level)
    if tool == "lookml":
        from accord.imports.lookml import translate_lookml
        return translate_lookml(folder, shown, team, level)
    if tool == "cube":
        from accord.imports.cube import translate_cube
        return translate_cube(folder, shown, team, level)
    from accord.errors import UserError
    raise UserError(f"accord import {tool}: accord imports dbt, lookml and cube")


def current_fingerprints(tool: str, folder: Path) -> dict[str, str]:
    """Imported name -> the fingerprint of its definition in `tool` now (refused definitions included)."""
    return translate(tool, folder, team="-", level="function").fingerprints

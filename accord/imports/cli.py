"""`accord import dbt|lookml|cube DIR` and `accord export dbt`: thin shells over accord.app."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from accord import app as app_api
from accord.command import user_errors

import_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                         help="Bring metric definitions from dbt's semantic layer, LookML or Cube into accord.")

ProjectOpt = typer.Option(Path("."), "--project", "-p", metavar="DIR", help="Project folder (holds accord.yml).")
TeamOpt = typer.Option(None, "--team", help="Team of metrics whose meta names none (must be in teams.yml).")
LevelOpt = typer.Option(None, "--level", help="company, function or role, for metrics whose meta names none "
                                              "(default: function).")
export_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                         help="Write accord's metrics as another tool's definitions.")

DryRunOpt = typer.Option(False, "--dry-run", help="Show what would be written and refused; write nothing.")


def _run(tool: str, folder: Path, project: Path, team: str | None, level: str | None, dry_run: bool) -> None:
    proj = app_api.load(project)
    written = app_api.import_definitions(proj, tool, folder, team, level, dry_run)
    verb = "would write" if dry_run else "wrote"
    for rel, counts in written.files.items():
        parts = [f"{n} {what}" for what, n in counts.items() if n]
        print(f"{verb} {rel}: {', '.join(parts) or 'nothing'}")
    for name in written.removed:
        print(f"{'would remove' if dry_run else 'removed'} {name} (no longer defined in {tool})")
    if written.refused:
        print(f"left out, {len(written.refused)} with no exact translation:")
        for problem in written.refused:
            print(f"  {problem}")


@import_app.command("dbt")
@user_errors
def dbt(folder: Path = typer.Argument(..., help="The dbt project (holds dbt_project.yml)."),
        project: Path = ProjectOpt, team: Optional[str] = TeamOpt, level: Optional[str] = LevelOpt,
        dry_run: bool = DryRunOpt):
    """dbt semantic models and metrics into imported/dbt/, exactly or not at all."""
    _run("dbt", folder, project, team, level, dry_run)


@import_app.command("lookml")
@user_errors
def lookml(folder: Path = typer.Argument(..., help="The folder of the LookML views (*.lkml, read recursively)."),
           project: Path = ProjectOpt, team: Optional[str] = TeamOpt, level: Optional[str] = LevelOpt,
           dry_run: bool = DryRunOpt):
    """LookML views and their measures into imported/lookml/, exactly or not at all."""
    _run("lookml", folder, project, team, level, dry_run)


@import_app.command("cube")
@user_errors
def cube(folder: Path = typer.Argument(..., help="Cube's model folder (YAML files holding cubes:)."),
         project: Path = ProjectOpt, team: Optional[str] = TeamOpt, level: Optional[str] = LevelOpt,
         dry_run: bool = DryRunOpt):
    """Cube's cubes and their measures into imported/cube/, exactly or not at all."""
    _run("cube", folder, project, team, level, dry_run)


@export_app.command("dbt")
@user_errors
def export_dbt(project: Path = ProjectOpt,
               out: Optional[Path] = typer.Option(None, "--out", metavar="DIR", help="Folder to write to, inside a dbt project's "
                                                  "model-paths (default: target/dbt in the project).")):
    """Metrics with an exact dbt equivalent as dbt models, semantic models and metrics; the rest listed."""
    proj = app_api.load(project)
    folder = out if out is not None else proj.root / "target" / "dbt"
    exported = app_api.export_definitions(proj, "dbt", folder)
    print(f"wrote {len(exported.metrics)} metrics in {len(exported.files) // 2} semantic models to {folder}")
    for name, label in sorted(exported.renamed_labels.items()):
        print(f"  metric '{name}' is labelled '{label}' (dbt requires one metric per label)")
    if exported.refused:
        print(f"left out, {len(exported.refused)} with no exact dbt equivalent:")
        for problem in exported.refused:
            print(f"  {problem}")

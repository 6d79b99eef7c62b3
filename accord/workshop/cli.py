"""`accord workshop …`: pre-work, the facilitation kit, recording the decision, the rollout, approvals.

A thin shell like accord/cli.py: parse input, call one function of accord.app, write the result. Heavy
modules load inside the commands so that `accord --help` stays fast.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from accord import app as app_api
from accord.command import deliver, user_errors

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Run the metric alignment workshop and record its outcome.")

ProjectOpt = typer.Option(Path("."), "--project", "-p", metavar="DIR", help="Project folder (holds accord.yml).")
AsOfOpt = typer.Option(None, "--as-of", metavar="DATE", help="Fixed 'today' (YYYY-MM-DD); default settings.as_of, else the clock.")


def _today(as_of: str | None, project):
    return app_api.today(project, app_api.parse_date(as_of, "--as-of"))


@app.command()
@user_errors
def prework(label: str = typer.Argument(..., metavar="LABEL", help="The label the workshop is about, such as Pipeline."),
            project: Path = ProjectOpt,
            out: Optional[Path] = typer.Option(None, "--out", help="Folder to write to (default: PROJECT/prework, "
                                                                   "where the kit reads the answers back).")):
    """One pre-work request per team using LABEL (Markdown to send) and its YAML answer template."""
    from accord.render.workshop import prework_markdown
    proj = app_api.load(project)
    result = app_api.prework(proj, label, out, prework_markdown)
    for path in result.written:
        print(f"wrote {path}")
    for path in result.kept:
        print(f"kept  {path} (answers already there are never overwritten)")
    print(f"send each team its .md; `accord workshop kit '{result.label}'` reads the answers from the .yml files")


@app.command()
@user_errors
def kit(labels: List[str] = typer.Argument(..., metavar="LABEL", help="One to three labels, such as Pipeline 'Qualified leads'."),
        project: Path = ProjectOpt,
        out: Optional[Path] = typer.Option(None, "--out", metavar="DIR",
                                           help="Folder to write the kit to, as workshop-kit-LABEL.FORMAT "
                                                "(default: stdout)."),
        format: str = typer.Option("html", "--format", help="md or html"),
        as_of: Optional[str] = AsOfOpt):
    """The facilitation kit: agenda, definitions side by side, decision table, checklist, rollout, tracker."""
    app_api.choose(format, "--format", ("md", "html"))
    from accord.workshop.topic import slug
    proj = app_api.load(project)
    result = app_api.kit(proj, labels, _today(as_of, proj))
    from accord.render.workshop import kit_html, kit_markdown
    text = kit_markdown(result) if format == "md" else kit_html(result)
    if out is None:
        return deliver(text, None, html=format == "html")
    from accord.project.atomic import make_folder
    folder = make_folder(out)
    deliver(text, folder / f"workshop-kit-{'-'.join(slug(label) for label in result.labels)}.{format}")


@app.command()
@user_errors
def decide(label: str = typer.Argument(..., metavar="LABEL", help="The label decided on, such as Pipeline."),
           canonical: Optional[str] = typer.Option(None, "--canonical", help="The official metric."),
           for_: Optional[List[str]] = typer.Option(None, "--for", help="A decision the official metric is for "
                                                                        "(repeat for several)."),
           alternate: Optional[List[str]] = typer.Option(None, "--alternate",
                                                         help='"METRIC[|use1;use2][|New label]": a version that '
                                                              "stays valid for other uses (repeat)."),
           owner: Optional[str] = typer.Option(None, "--owner", help="Who owns future changes (an email)."),
           caveat: Optional[List[str]] = typer.Option(None, "--caveat", help="A caveat that remains true (repeat)."),
           unresolved: Optional[List[str]] = typer.Option(None, "--unresolved",
                                                          help="What the room could not agree on (repeat)."),
           follow_up: Optional[List[str]] = typer.Option(None, "--follow-up", help='"TASK|OWNER|YYYY-MM-DD" (repeat).'),
           review_every: Optional[str] = typer.Option(None, "--review-every", help="month, quarter or year"),
           project: Path = ProjectOpt,
           as_of: Optional[str] = AsOfOpt,
           no_input: bool = typer.Option(False, "--no-input", help="Never ask; fail when something is missing.")):
    """Record the decision on LABEL, or update it: values given replace those on record, the rest are kept
    (follow-ups merge by task). Asks for what is missing when run in a terminal."""
    from accord.workshop.decide import DecisionSpec, Use, guide, parse_alternate, parse_follow_up
    proj = app_api.load(project)
    spec = DecisionSpec(
        label=label, decided_on=_today(as_of, proj),
        canonical=Use(canonical, tuple(for_ or ())) if canonical else None,
        alternates=[parse_alternate(a) for a in alternate] if alternate else None,
        owner=owner, caveats=list(caveat) if caveat else None,
        unresolved=list(unresolved) if unresolved else None,
        follow_ups=[parse_follow_up(f) for f in follow_up] if follow_up else None,
        review_every=review_every)
    if for_ and not canonical:
        from accord.errors import UserError
        raise UserError("--for names what the canonical metric is for. give --canonical METRIC with it")
    if sys.stdin.isatty() and not no_input:
        spec = guide(proj, spec, lambda question, default: typer.prompt(question, default=default,
                                                                        show_default=bool(default)))
    result = app_api.decide(proj, spec)
    where = result.path.relative_to(proj.root) if result.path.is_relative_to(proj.root) else result.path
    print(f"{'recorded' if result.created else 'updated'} the decision on '{result.decision['label']}' in {where}")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"next: commit it, and send the message from accord workshop rollout '{result.decision['label']}'")


@app.command()
@user_errors
def rollout(label: str = typer.Argument(..., metavar="LABEL", help="A decided label, such as Pipeline."),
            project: Path = ProjectOpt,
            format: str = typer.Option("md", "--format", help="md or html"),
            out: Optional[Path] = typer.Option(None, "--out", metavar="FILE",
                                               help="File to write (default: stdout).")):
    """The plain rollout message of a recorded decision."""
    app_api.choose(format, "--format", ("md", "html"))
    proj = app_api.load(project)
    message = app_api.rollout(proj, label)
    from accord.render.workshop import rollout_html, rollout_markdown
    deliver(rollout_markdown(message) if format == "md" else rollout_html(message), out, html=format == "html")


@app.command()
@user_errors
def approve(metric: str = typer.Argument(..., metavar="METRIC", help="The metric whose changed definition is approved."),
            by: str = typer.Option(..., "--by", help="Who approves: the decision's owner or the metric's owner."),
            project: Path = ProjectOpt,
            as_of: Optional[str] = AsOfOpt):
    """Accept a metric's current definition into every decision that names it."""
    proj = app_api.load(project)
    for a in app_api.approve(proj, metric, by, _today(as_of, proj)):
        where = a.path.relative_to(proj.root) if a.path.is_relative_to(proj.root) else a.path
        if a.changed:
            print(f"approved {a.metric} in the decision on '{a.decision}' ({where}): fingerprint "
                  f"{a.old_fingerprint or 'none'} → {a.fingerprint}, by {by}")
        else:
            print(f"{a.metric} already matches the decision on '{a.decision}' ({where}); nothing to approve")

"""The command line: parse input, call one function, render the result. Heavy modules load lazily."""
from __future__ import annotations

import datetime as dt
import gc
import json
import math
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

from accord import app as app_api
from accord.command import deliver, user_errors
from accord.cli_digest import digest as digest_command
from accord.cli_serve import serve as serve_command
from accord.cli_serve import arbiter as arbiter_command
from accord.cli_serve import replay as replay_command
from accord.cli_serve import tokens as tokens_app
from accord.cli_serve import users as users_app
from accord.imports.cli import export_app, import_app
from accord.workshop.cli import app as workshop_app

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="accord: metric definitions as code, computed on your data, "
                       "with the collisions between teams shown.")


def _version(value: bool) -> None:
    if value:
        from accord import __version__
        print(f"accord {__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: bool = typer.Option(False, "--version", is_eager=True, callback=_version,
                                          help="Print the version and exit.")) -> None:
    """accord: metric definitions as code, computed on your data, with the collisions between teams shown."""

ProjectOpt = typer.Option(Path("."), "--project", "-p", metavar="DIR", help="Project folder (holds accord.yml).")
AsOfOpt = typer.Option(None, "--as-of", metavar="DATE", help="Fixed 'today' (YYYY-MM-DD); default settings.as_of, else the clock.")


def _date(value: str | None, option: str) -> dt.date | None:
    return app_api.parse_date(value, option)


def _writable(out: Path | None) -> None:
    """A --out that cannot be written is refused before any work (one line, exit 2)."""
    from accord.project.atomic import writable
    writable(out)


def _progress():
    """Progress lines on a terminal's stderr; nothing (and rich not even loaded) when stderr is a file or pipe."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    err = Console(stderr=True)
    return (lambda msg: err.log(f"[dim]{msg}[/dim]")) if err.is_terminal else None


def _emit_json(data, out: Path | None = None) -> None:
    deliver(json_text(data) + "\n", out)


def _text_out(out: Path | None):
    """The console a text rendering prints to, and a function that delivers what it printed."""
    from accord.render.text import console
    c = console()
    if out is None:
        return c, lambda: None
    import io
    c.file = io.StringIO()
    return c, lambda: deliver(c.file.getvalue(), out)


OutFile = typer.Option(None, "--out", metavar="FILE", help="Write the output to FILE (any format) instead of "
                                                           "stdout.")


def json_text(data) -> str:
    """JSON with one line per top-level key and per item of a top-level list.

    Readable in a terminal and a diff, and written by the json module's C encoder: `indent=` falls back to
    pure Python, which took longer than the query for a few thousand rows.
    """
    from accord.numbers import plain_data
    data = plain_data(data)                         # 0.3, never 0.30000000000000004
    strict = json.JSONEncoder(default=str, allow_nan=False).encode  # one encoder for every row

    def one(value) -> str:
        try:
            return strict(value)
        except ValueError:  # Infinity and NaN are not JSON: a number that is not finite is written as null
            return strict(_finite(value))

    def field(value) -> str:
        if isinstance(value, list) and value:
            return "[\n" + ",\n".join("    " + one(v) for v in value) + "\n  ]"
        return one(value)

    if not isinstance(data, dict) or not data:
        return one(data)
    return "{\n" + ",\n".join(f"  {one(str(k))}: {field(v)}" for k, v in data.items()) + "\n}"


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


@app.command()
@user_errors
def validate(project: Path = ProjectOpt,
             format: str = typer.Option("text", "--format", help="text or json"),
             verbose: bool = typer.Option(False, "--verbose", "-v", help="List files read and skipped.")):
    """Load the project and check its data; exit 2 with one line per problem."""
    app_api.choose(format, "--format", ("text", "json"))
    checked = app_api.load_and_validate(project)
    proj, facts = checked.project, checked.data
    if format == "json":
        return _emit_json(checked.as_dict())
    from accord.render.text import console
    out = console()
    from accord.words import plural
    out.print(f"[bold]{proj.name}[/bold]: {plural(len(proj.metrics), 'metric')} over "
              f"{plural(len(proj.sources), 'source')}, {plural(len(proj.teams), 'team')} — valid")
    for name, f in facts.items():
        if f["null_keys"]:
            out.print(f"  [yellow]note[/yellow] source '{name}': {f['null_keys']:,} of {plural(f['rows'], 'row')} "
                      f"{'has' if f['null_keys'] == 1 else 'have'} no key; "
                      f"{'it is' if f['null_keys'] == 1 else 'they are'} dropped when records are matched")
    if verbose:
        for f in proj.files_read:
            out.print(f"  read     {f}")
        for f in proj.files_skipped:
            out.print(f"  skipped  {f} (no sources, metrics, teams, handoffs, decisions, contact_policy "
                      "or accept)")
        for m in proj.metrics:
            out.print(f"  metric   {m.name:<32} {m.level:<9} {m.team:<12} {m.kind}")


@app.command()
@user_errors
def compute(metrics: Optional[List[str]] = typer.Argument(None, metavar="METRIC", help="Metrics to compute (default: all)."),
            project: Path = ProjectOpt,
            grain: str = typer.Option("month", "--grain", help="day, week, month, quarter or year"),
            since: Optional[str] = typer.Option(None, "--since", metavar="DATE", help="First period start to show (inclusive)."),
            until: Optional[str] = typer.Option(None, "--until", metavar="DATE", help="Last period start to show (inclusive)."),
            as_of: Optional[str] = AsOfOpt,
            format: str = typer.Option("text", "--format", help="text, json or csv"),
            show_sql: bool = typer.Option(False, "--show-sql", help="Print each source's query to stderr."),
            dialect: Optional[str] = typer.Option(None, "--dialect", help="The SQL --show-sql prints: duckdb, "
                                                  "postgres, spark, snowflake, bigquery, databricks or redshift "
                                                  "(default: the project's engine).")):
    """Compute metrics per period: one scan per source."""
    from accord.compute.periods import GRAINS
    app_api.choose(grain, "--grain", GRAINS)
    app_api.choose(format, "--format", ("text", "json", "csv"))
    from accord.engine import DIALECTS, plan_sql
    if dialect is not None:
        app_api.choose(dialect, "--dialect", tuple(DIALECTS))
    since_d, until_d, as_of_d = _date(since, "--since"), _date(until, "--until"), _date(as_of, "--as-of")
    proj = app_api.load(project)
    result = app_api.compute(proj, metrics or None, grain, app_api.today(proj, as_of_d), since_d, until_d,
                             progress=_progress())
    if show_sql or dialect:
        written = dialect or app_api.engine_dialect(proj)
        for name, plan in result.plans.items():
            print(f"-- {name}: {plan.strategy} plan\n{plan_sql(plan.query, written)};\n", file=sys.stderr)
    data = result.as_dict()
    if format == "json":
        return _emit_json(data)
    if format == "csv":
        import csv
        w = csv.writer(sys.stdout, lineterminator="\n")
        from accord.numbers import plain
        w.writerow(["metric", "period", "value", "complete", "stale"])
        for r in data["rows"]:
            w.writerow([r["metric"], r["period"], "" if r["value"] is None else repr(plain(r["value"])),
                        str(r["complete"]).lower(), str(r["stale"]).lower()])
        for line in result.left_out_notes():
            print(line, file=sys.stderr)
        return
    from accord.render.text import console, series_text
    out = console()
    series_text(out, data["rows"], {m.name: m.unit for m in proj.metrics})
    for name, d in data["dropped"].items():
        from accord.words import plural
        out.print(f"[dim]{name}: {plural(d['null_time'], 'row')} with no time "
                  f"{'was' if d['null_time'] == 1 else 'were'} left out[/dim]")
    for line in result.left_out_notes():
        out.print(f"[dim]{line}[/dim]")



@app.command()
@user_errors
def reconcile(a: str = typer.Argument(..., metavar="METRIC_A", help="Metric A (the bridge starts at its value)."),
              b: str = typer.Argument(..., metavar="METRIC_B", help="Metric B (the bridge ends at its value)."),
              period: str = typer.Option(..., "--period", help="2026-Q3, 2026-07, 2026-W29, 2026-07-14 or 2026."),
              project: Path = ProjectOpt,
              format: str = typer.Option("text", "--format", help="text, json, md or html"),
              out: Optional[Path] = OutFile,
              as_of: Optional[str] = AsOfOpt):
    """The bridge from A's value to B's, record by record, for one period."""
    app_api.choose(format, "--format", ("text", "json", "md", "html"))
    _date(as_of, "--as-of")
    _writable(out)
    proj = app_api.load(project)
    result = app_api.reconcile(proj, a, b, period)
    data = result.as_dict()
    if format == "json":
        return _emit_json(data, out)
    metric_a = proj.metric(a)
    entity = proj.source(metric_a.source).entity
    teams = {m.name: m.team for m in proj.metrics}
    if format == "html":
        from accord.render.bridge_html import bridge_page
        return deliver(bridge_page(data, entity, metric_a.unit, teams), out, html=True)
    if format == "md":
        from accord.render.markdown import bridge_markdown
        return deliver(bridge_markdown(data, entity, metric_a.unit, teams), out)
    from accord.render.bridge_text import bridge_text
    c, done = _text_out(out)
    bridge_text(c, data, entity, metric_a.unit, teams)
    done()


@app.command()
@user_errors
def diff(rev: str = typer.Argument(..., metavar="REV", help="Git revision to compare the working tree with (commit, branch, tag)."),
         project: Path = ProjectOpt,
         format: str = typer.Option("text", "--format", help="text or json"),
         as_of: Optional[str] = AsOfOpt):
    """Every definition at REV against the working tree: added, removed, changed, with numeric impact."""
    app_api.choose(format, "--format", ("text", "json"))
    as_of_d = _date(as_of, "--as-of")
    proj = app_api.load(project)
    result = app_api.diff(proj, rev, app_api.today(proj, as_of_d))
    if format == "json":
        return _emit_json(result.as_dict())
    from accord.render.text import console, format_value
    out = console()
    if not (result.added or result.removed or result.changed):
        out.print(f"no metric definitions changed since {rev}")
    for name in result.added:
        out.print(f"[green]added[/green]    {name}")
    for name in result.removed:
        out.print(f"[red]removed[/red]  {name}")
    for c in result.changed:
        tag = "changed" if c.semantic else "edited"
        out.print(f"[yellow]{tag}[/yellow]  [bold]{c.metric}[/bold]" + ("" if c.semantic else
                                                                         " [dim](same meaning)[/dim]"))
        for words in c.changes:
            out.print(f"           {words}")
        unit = proj.metric(c.metric).unit
        for i in c.impact:
            change = "" if i["change"] is None else f" ({i['change']:+.1%})"
            out.print(f"           [dim]{i['period']}:[/dim] {format_value(i['old'], unit)} → "
                      f"{format_value(i['new'], unit)}{change}")
        if c.impact_error:
            out.print(f"           [dim]{c.impact_error}[/dim]")


@app.command()
@user_errors
def check(project: Path = ProjectOpt,
          fail_on: str = typer.Option("error", "--fail-on", help="error, warning or info"),
          format: str = typer.Option("text", "--format", help="text, json, md (a pull request comment) or sarif"),
          as_of: Optional[str] = AsOfOpt):
    """Run every diagnostic; exit 1 when findings at or above --fail-on remain."""
    app_api.choose(fail_on, "--fail-on", ("error", "warning", "info"))
    app_api.choose(format, "--format", ("text", "json", "md", "sarif"))
    as_of_d = _date(as_of, "--as-of")
    proj = app_api.load(project)
    result = app_api.check(proj, app_api.today(proj, as_of_d))
    if format == "json":
        _emit_json({"findings": [f.as_dict() for f in result.findings], "counts": result.counts()})
    elif format == "md":
        from accord.render.markdown import findings_markdown
        deliver(findings_markdown(result.findings, result.counts()))
    elif format == "sarif":
        from accord.render.sarif import to_sarif
        _emit_json(to_sarif(result.findings, _repo_prefix(proj.root)))
    else:
        from accord.render.text import console, findings_text
        findings_text(console(), result.findings, result.counts())
    if result.failing(fail_on):
        raise typer.Exit(1)


def _repo_prefix(root: Path) -> str:
    """The project folder relative to its git repository root, so SARIF points at repository paths."""
    import subprocess
    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    if top.returncode != 0:
        return ""
    rel = root.resolve().relative_to(Path(top.stdout.strip()).resolve()).as_posix()
    return "" if rel == "." else rel


@app.command()
@user_errors
def tree(project: Path = ProjectOpt,
         format: str = typer.Option("text", "--format", help="text, json or html"),
         out: Optional[Path] = OutFile,
         as_of: Optional[str] = AsOfOpt):
    """The hierarchy company → function → role: values, targets, trends and whether each edge holds."""
    _writable(out)
    app_api.choose(format, "--format", ("text", "json", "html"))
    as_of_d = _date(as_of, "--as-of")
    proj = app_api.load(project)
    result = app_api.tree(proj, app_api.today(proj, as_of_d))
    if format == "json":
        return _emit_json(result.as_dict(), out)
    if format == "html":
        from accord.render.tree_html import tree_page
        return deliver(tree_page(result), out, html=True)
    from accord.render.tree_text import tree_text
    c, done = _text_out(out)
    tree_text(c, result)
    done()


@app.command()
@user_errors
def touchpoints(project: Path = ProjectOpt,
                customer: Optional[str] = typer.Option(None, "--customer", metavar="ID",
                                                       help="One customer's merged timeline alone, newest 60 days."),
                since: Optional[str] = typer.Option(None, "--since", metavar="DATE",
                                                    help="With --customer: start the timeline on this date."),
                format: str = typer.Option("text", "--format", help="text, json or html"),
                out: Optional[Path] = OutFile,
                as_of: Optional[str] = AsOfOpt):
    """Every team's contact with each customer in one log, checked against the contact policy."""
    _writable(out)
    app_api.choose(format, "--format", ("text", "json", "html"))
    as_of_d = _date(as_of, "--as-of")
    proj = app_api.load(project)
    since_d = _date(since, "--since")
    result = app_api.touchpoints(proj, app_api.today(proj, as_of_d), customer=customer)
    if format == "json" and customer is not None:
        from accord.render.touchpoints_text import customer_since
        return _emit_json({"as_of": result.as_of.isoformat(), "timezone": result.timezone,
                           "timeline": result.timeline.since(customer_since(result.as_of, since_d)).as_dict()},
                          out)
    if format == "json":
        return _emit_json(result.as_dict(), out)
    if format == "html":
        from accord.render.touchpoints_html import touchpoints_page
        return deliver(touchpoints_page(result), out, html=True)
    from accord.render.touchpoints_text import touchpoints_text
    c, done = _text_out(out)
    touchpoints_text(c, result, since_d)
    done()


app.add_typer(workshop_app, name="workshop", help="The metric alignment workshop and its recorded decisions.")
app.add_typer(users_app, name="users", help="Accounts of the web app.")
app.add_typer(tokens_app, name="tokens", help="Bearer tokens of the JSON API and the contact arbiter.")
app.command()(serve_command)
app.command("digest")(digest_command)
app.command()(arbiter_command)
app.command()(replay_command)
app.add_typer(import_app, name="import", help="Definitions from dbt's semantic layer, LookML or Cube.")
app.add_typer(export_app, name="export", help="accord's metrics as dbt semantic models and metrics.")


@app.command()
@user_errors
def report(project: Path = ProjectOpt,
           out: Optional[Path] = typer.Option(None, "--out", metavar="FILE",
                                              help="HTML file to write (default: stdout, which must not be a "
                                                   "terminal)."),
           as_of: Optional[str] = AsOfOpt):
    """The whole picture of the project as one self-contained HTML page."""
    _writable(out)
    as_of_d = _date(as_of, "--as-of")
    from accord.render.html import render_report
    proj = app_api.load(project)
    if out is None and sys.stdout.isatty():
        deliver("", None, html=True)       # refused before the work
    deliver(render_report(app_api.report(proj, app_api.today(proj, as_of_d))), out, html=True)


@app.command()
@user_errors
def init(directory: Path = typer.Argument(Path("."), metavar="DIR", help="Folder to create the project in."),
         name: Optional[str] = typer.Option(None, "--name", help="Project name (default: the folder name).")):
    """Scaffold accord.yml and a commented example definitions file for your own data."""
    from accord.scaffold import scaffold
    written = scaffold(directory, name)
    print(f"Created an accord project in {directory}:")
    for f in written:
        print(f"  {f}")
    print("\nNext steps:\n"
          f"  1. Point the source in {directory / 'metrics' / 'example.yml'} at your data "
          "(a csv/parquet file, or a table with engine.path in accord.yml).\n"
          f"  2. accord validate --project {directory}\n"
          f"  3. accord compute --project {directory} --grain month\n"
          f"  4. accord check --project {directory}   (add it to CI with --format sarif)")


@app.command()
@user_errors
def demo(directory: Path = typer.Argument(Path("accord-demo"), metavar="DIR", help="Folder to write the demo company to.")):
    """Write the demo company, run every diagnostic on it and write its report."""
    from accord.demo_run import run_demo
    run_demo(directory)


def main() -> None:
    """Run one command, then leave without tearing the interpreter down.

    A command is a short-lived process: the cyclic garbage collector only costs time here (refcounting
    frees almost everything), and the teardown of sqlglot, pydantic and DuckDB took longer than loading a
    project. Output is flushed first; files are written and closed by the commands themselves.
    An unexpected error keeps its traceback and the normal exit.
    """
    from accord.errors import INTERRUPTED, INTERRUPTED_LINE
    gc.disable()
    try:
        try:
            app()
            code = 0
        except SystemExit as e:
            code = e.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BrokenPipeError:   # a reader that stopped early (| head): quietly, as when a command sees it
                code = 0
            except ValueError:        # a closed stream
                pass
    except KeyboardInterrupt:   # Ctrl-C after the command
        code = INTERRUPTED
    if code == INTERRUPTED:     # from a command, from typer (Ctrl-C while it reads the options) or from here
        os.write(2, (INTERRUPTED_LINE + "\n").encode())
    os._exit(code or 0)


if __name__ == "__main__":
    main()

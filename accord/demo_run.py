"""`accord demo`: write the demo company, run every diagnostic, print a summary, write the report."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from accord.words import plural


def run_demo(directory: Path) -> None:
    from accord.check import run_check
    from accord.demo import write_demo
    from accord.project.loader import load_project
    from accord.project.settings import resolve_today
    from accord.render.text import console

    out = console()
    with out.status("writing the demo company", spinner="dots"):
        write_demo(directory)
        project = load_project(directory)
        today = resolve_today(None, project.settings)
        result = run_check(project, today)
    out.print(f"[bold]{project.name}[/bold] written to {directory}: {plural(len(project.metrics), 'metric')}, "
              f"{plural(len(project.sources), 'source')}, {plural(len(project.teams), 'team')}, as of {today.isoformat()}")
    counts = result.counts()
    by_code: dict[str, int] = {}
    for f in result.open:
        by_code[f.code] = by_code.get(f.code, 0) + 1
    out.print(f"findings: {counts['error']} errors, {counts['warning']} warnings, {counts['info']} info")
    for code, n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])):
        out.print(f"  {n:>3} × {code}")
    from accord.render.html import write_report
    path = write_report(project, today, result, directory / "report.html")
    out.print(f"report: {path}")
    out.print(f"next: open the report, read {directory / 'README.md'} for what was planted, and try\n"
              f"  accord check --project {directory}\n  accord compute --project {directory} --grain quarter")
    out.print("serve it in a browser (an account first; the demo's facilitator is revops' lead):\n"
              f"  accord users add dev.patel@northwind.example --role facilitator --project {directory}\n"
              f"  accord serve --project {directory}")
    teams = " ".join(f"--team {t}" for t in dict.fromkeys(t.team for t in project.contact_policy.touches)) \
        if project.contact_policy else ""
    out.print("ask the contact arbiter before contacting a customer, and replay a day of the demo's touches against it:\n"
              f"  accord tokens add replay {teams} --scope claim --scope replay --scope monitor "
              f"--project {directory} > {directory / 'token.txt'}\n"
              f"  accord arbiter --no-history --port 8100 --project {directory} &\n"
              f"  accord replay --url http://127.0.0.1:8100 --token-file {directory / 'token.txt'} "
              f"--day {_last_tuesday(today).isoformat()} --project {directory}")


def _last_tuesday(today: dt.date) -> dt.date:
    """A busy weekday to replay: the last Tuesday before today."""
    return today - dt.timedelta(days=(today.weekday() - 1) % 7 or 7)

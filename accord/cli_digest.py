"""`accord digest`: the morning digest, built to files or stdout, or sent through SMTP.

Part of the command-line shell (like accord/cli.py): parse input, call accord.app, render, say what happened.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from accord import app as app_api
from accord.command import fail, user_errors

FORMATS = ("text", "html", "eml")
SUFFIX = {"text": ".txt", "html": ".html", "eml": ".eml"}


@user_errors
def digest(project: Path = typer.Option(Path("."), "--project", "-p", help="Project folder (holds accord.yml)."),
           to: Optional[List[str]] = typer.Option(None, "--to", metavar="EMAIL",
                                                   help="Only this person (repeat for several)."),
           as_of: Optional[str] = typer.Option(None, "--as-of", help="The digest's day (YYYY-MM-DD): numbers up to "
                                               "the end of the day before. Default settings.as_of, else today."),
           fmt: str = typer.Option("text", "--format", "-f", help="text, html or eml (without --send)."),
           out: Optional[Path] = typer.Option(None, "--out", help="Folder to write one file per person "
                                              "(default: stdout)."),
           send: bool = typer.Option(False, "--send", help="Send them through smtp: in accord.yml, at most once "
                                     "per person per day; exit 1 when a delivery failed.")):
    """Each person's morning digest: their numbers, the KPIs they feed, what changed, what is theirs to do."""
    app_api.choose(fmt, "--format", FORMATS)
    if out is not None and out.exists() and not out.is_dir():
        from accord.errors import UserError
        raise UserError(f"--out {out}: is a file. give a folder: digest writes one file per person")
    day_opt = app_api.parse_date(as_of, "--as-of")
    proj = app_api.load(project)
    day = app_api.today(proj, day_opt)
    # building reads the store (each person's last digest, who unsubscribed) only when there is one; sending
    # makes it, since it records every send
    db = app_api.store(proj) if send else app_api.store_if_any(proj)
    if send:
        sender = app_api.digest_sender(proj)
        app_api.smtp_settings(proj)
        from accord.mail import credentials
        credentials(proj.config.smtp)       # a missing variable is one line before any work
    else:
        sender = proj.config.digest.from_ or "digest@accord.invalid"
    built = app_api.digests(proj, day, to, db)
    for person, why in built.refused:
        print(f"{person}: {why}", file=sys.stderr)
    for person in built.quiet:
        print(f"{person}: nothing to say today; no digest (digest.always: true sends one anyway)", file=sys.stderr)
    from accord.render import digest as render

    def message(d):
        return render.message(d, sender, render.Links(proj.config.serve.base_url,
                                                      app_api.unsubscribe_link(proj, db, d.person)))

    if send:
        outcome = app_api.send_digests(proj, db, built, message)
        for person in outcome.sent:
            print(f"{person}: sent the digest of {day.isoformat()}", file=sys.stderr)
        for person in outcome.already:
            print(f"{person}: already sent for {day.isoformat()}; not sent again", file=sys.stderr)
        for person in outcome.busy:
            print(f"{person}: being sent by another run; not sent again", file=sys.stderr)
        lines = outcome.lines()
        if lines:
            fail(lines, 1)
        return
    if out is not None:
        from accord.project.atomic import write_file
        out.mkdir(parents=True, exist_ok=True)
        for d in built.digests:
            print(f"wrote {write_file(out / (d.person + SUFFIX[fmt]), _render(message(d), fmt))}")
        return
    many = len(built.digests) > 1
    for d in built.digests:
        if many:
            sys.stdout.write(f"==> {d.person} <==\n")
        sys.stdout.write(_render(message(d), fmt))
        if many:
            sys.stdout.write("\n")


def _render(msg, fmt: str) -> str:
    from accord.render import digest as render
    if fmt == "eml":
        return msg.as_string()
    if fmt == "html":
        return render.standalone_html(msg)
    return msg.get_body(preferencelist=("plain",)).get_content()

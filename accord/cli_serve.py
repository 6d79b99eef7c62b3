"""`accord serve` and `accord users …`: the web app and its accounts, as commands.

Part of the command-line shell (like accord/cli.py): parse input, call accord.app, say what happened.
"""
from __future__ import annotations

import sys
from pathlib import Path

import typer

from accord import app as app_api
from accord.command import user_errors

users = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                    help="Accounts of the web app (kept in the store: ACCORD_STORE, else PROJECT/.accord/accord.db).")

ProjectOpt = typer.Option(Path("."), "--project", "-p", metavar="DIR", help="Project folder (holds accord.yml).")
StdinOpt = typer.Option(False, "--password-stdin", help="Read the password from one line of standard input.")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        from accord.errors import UserError
        raise UserError("no terminal to ask for the password. give --password-stdin and pipe it in")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@users.command("add")
@user_errors
def add(email: str = typer.Argument(..., help="The person's email, as teams.yml or a definition names it."),
        role: str = typer.Option("member", "--role", help="viewer, member, facilitator or admin"),
        password_stdin: bool = StdinOpt,
        no_password: bool = typer.Option(False, "--no-password", help="No password (sign-in links only)."),
        project: Path = ProjectOpt):
    """Add an account; asks for its password at a terminal."""
    proj = app_api.load(project)
    db = app_api.store(proj)
    account = app_api.add_user(proj, db, email, role, None if no_password else _password(password_stdin))
    from accord.store import audit
    audit.record(db, "accord users", "users.add", account.email, None, account.role)
    print(f"added {account.email} as {account.role}")


@users.command("password")
@user_errors
def password(email: str = typer.Argument(..., help="Whose password to set."),
             password_stdin: bool = StdinOpt,
             project: Path = ProjectOpt):
    """Set an account's password; its sessions end."""
    from accord.store import accounts, audit
    proj = app_api.load(project)
    db = app_api.store(proj)
    accounts.set_password(db, email, _password(password_stdin))
    audit.record(db, "accord users", "users.password", accounts.normal_email(email))
    print(f"set the password of {accounts.normal_email(email)}; their sessions ended")


@users.command("role")
@user_errors
def role(email: str = typer.Argument(...), role: str = typer.Argument(..., help="viewer, member, facilitator "
                                                                                 "or admin"),
         project: Path = ProjectOpt):
    """Change an account's role."""
    from accord.store import accounts, audit
    proj = app_api.load(project)
    db = app_api.store(proj)
    before = accounts.get_account(db, email)
    accounts.set_role(db, email, role)
    audit.record(db, "accord users", "users.role", accounts.normal_email(email), before and before.role, role)
    print(f"{accounts.normal_email(email)} is now {role}")


@users.command("remove")
@user_errors
def remove(email: str = typer.Argument(...), project: Path = ProjectOpt):
    """Remove an account; its sessions end at once."""
    from accord.store import accounts, audit
    proj = app_api.load(project)
    db = app_api.store(proj)
    accounts.remove_account(db, email)
    audit.record(db, "accord users", "users.remove", accounts.normal_email(email))
    print(f"removed {accounts.normal_email(email)}")


@users.command("list")
@user_errors
def list_(project: Path = ProjectOpt):
    """Every account and its role."""
    from accord.store import accounts
    proj = app_api.load(project)
    for a in accounts.accounts(app_api.store(proj)):
        print("\t".join([a.email, a.role] + ([] if a.has_password else ["(no password)"])))


@user_errors
def serve(project: Path = ProjectOpt,
          host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
          port: int = typer.Option(8000, "--port", help="Port to listen on."),
          proxy_headers: bool = typer.Option(False, "--proxy-headers",
                                             help="Trust X-Forwarded-For/-Proto from a reverse proxy.")):
    """Serve the web app on the project: the workshop, the numbers, the findings."""
    import os

    import uvicorn
    proj = app_api.load(project)
    app_api.store(proj).close()       # a store that cannot open says so here, as one line
    os.environ["ACCORD_SERVE_PROJECT"] = str(proj.root)
    print(f"accord serves {proj.name} on http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    # the web app is named by its ASGI path, as any process manager would: the command line does not import it
    uvicorn.run("accord.web:from_environment", factory=True, host=host, port=port, proxy_headers=proxy_headers,
                forwarded_allow_ips="*" if proxy_headers else None, log_level="warning")

"""`accord serve`, `accord arbiter`, `accord users …` and `accord tokens …`: the web app, the contact arbiter,
their accounts and their API tokens, as commands.

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

tokens = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                     help="Bearer tokens of the JSON API and the contact arbiter (kept hashed in the store).")

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


@tokens.command("add")
@user_errors
def token_add(name: str = typer.Argument(..., help="The sending system's name, such as hubspot."),
              team: list[str] = typer.Option(..., "--team", help="A team it may act for (repeat for more)."),
              scope: list[str] = typer.Option(None, "--scope",
                                              help="claim, check, states, timeline, replay, monitor or read "
                                                   "(repeat for more; default claim and check)."),
              project: Path = ProjectOpt):
    """Make a token; prints it alone on standard output, once (the store keeps only its hash)."""
    from accord.store import audit
    from accord.store.tokens import DEFAULT_SCOPES
    proj = app_api.load(project)
    db = app_api.store(proj)
    secret = app_api.add_token(proj, db, name, tuple(team), tuple(scope or DEFAULT_SCOPES))
    audit.record(db, "accord tokens", "tokens.add", name, None, f"teams {','.join(team)}; "
                 f"scopes {','.join(scope or DEFAULT_SCOPES)}")
    print(secret)


@tokens.command("revoke")
@user_errors
def token_revoke(name: str = typer.Argument(..., help="The token's name."), project: Path = ProjectOpt):
    """Revoke a token: it opens nothing from now on."""
    from accord.store import audit
    from accord.store import tokens as store_tokens
    proj = app_api.load(project)
    db = app_api.store(proj)
    store_tokens.revoke(db, name)
    audit.record(db, "accord tokens", "tokens.revoke", name)
    print(f"revoked {name}", file=sys.stderr)


@tokens.command("list")
@user_errors
def token_list(project: Path = ProjectOpt):
    """Every token's name, teams, scopes and when it was made (never the token)."""
    from accord.store import tokens as store_tokens
    proj = app_api.load(project)
    for t, made in store_tokens.all_tokens(app_api.store(proj)):
        print("\t".join([t.name, ",".join(t.teams), ",".join(t.scopes), made]))


@user_errors
def arbiter(project: Path = ProjectOpt,
            host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
            port: int = typer.Option(8000, "--port", help="Port to listen on."),
            no_history: bool = typer.Option(False, "--no-history",
                                            help="Read nothing from the project's sources (replays and tests); "
                                                 "otherwise the log is warmed from the touch and state sources up "
                                                 "to now. Claims already in the store stay."),
            workers: int = typer.Option(1, "--workers", min=1, max=64,
                                        help="Worker processes (they share the store; PostgreSQL for several "
                                             "machines)."),
            proxy_headers: bool = typer.Option(False, "--proxy-headers",
                                               help="Trust X-Forwarded-For/-Proto from a reverse proxy.")):
    """Serve the contact arbiter alone: sending systems ask it before they contact a customer."""
    import os

    import uvicorn
    proj = app_api.load(project)
    db = app_api.store(proj)
    app_api.arbiter(proj, db)            # a policy that cannot be used says so here, as one line
    if not no_history:
        touches, states = app_api.warm_arbiter(proj, db)
        print(f"loaded {touches:,} touches and {states:,} states from the project's sources", file=sys.stderr)
    else:
        app_api.forget_history(db)
    db.close()
    os.environ["ACCORD_SERVE_PROJECT"] = str(proj.root)
    print(f"accord arbiter for {proj.name} on http://{host}:{port}/api/v1/ (Ctrl-C stops it)", file=sys.stderr)
    uvicorn.run("accord.web:arbiter_from_environment", factory=True, host=host, port=port, workers=workers,
                proxy_headers=proxy_headers, forwarded_allow_ips="*" if proxy_headers else None,
                log_level="warning", access_log=False)


@user_errors
def replay(url: str = typer.Option(..., "--url", help="The arbiter, such as http://127.0.0.1:8100"),
           token_file: Path = typer.Option(..., "--token-file", help="A file holding a token with scope replay."),
           day: str = typer.Option(None, "--day", help="The day to replay (default: today of the project)."),
           project: Path = ProjectOpt):
    """Claim one day of the project's touch log against a running arbiter, in time order; print what it held."""
    import http.client
    import json
    from urllib.parse import urlparse

    from accord.errors import UserError
    proj = app_api.load(project)
    on = app_api.parse_date(day, "--day") or app_api.today(proj)
    try:
        secret = token_file.read_text().strip()
    except OSError as e:
        raise UserError(f"{token_file}: cannot be read ({e.strerror}). give the file `accord tokens add` wrote")
    touches = app_api.touch_log(proj, on)
    where = urlparse(url)
    conn = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port or 80, timeout=30)
    held: dict[str, int] = {}
    allowed = 0
    for i, (customer, team, at) in enumerate(touches):
        body = json.dumps({"customer": customer, "team": team, "channel": "replay", "at": at.isoformat(),
                           "idempotency_key": f"replay-{on.isoformat()}-{i}"})
        try:
            conn.request("POST", "/api/v1/touches/claim", body, {"Authorization": f"Bearer {secret}",
                                                                 "Content-Type": "application/json"})
            response = conn.getresponse()
            answer = json.loads(response.read())
        except OSError as e:
            raise UserError(f"the arbiter at {url} does not answer ({e}). start it: accord arbiter --no-history")
        if response.status != 200:
            raise UserError(f"the arbiter refused a claim ({response.status}): {answer.get('detail')}")
        reasons = answer["reasons"] or answer["would_have_held"]
        if reasons:
            held[reasons[0]["rule"]] = held.get(reasons[0]["rule"], 0) + 1
        else:
            allowed += 1
    print(f"{on.isoformat()}: {len(touches):,} touches claimed, {allowed:,} allowed, {sum(held.values()):,} held")
    for rule, n in held.items():
        print(f"  {rule}: {n:,}")

"""The one Python API the shells stand on: load a project, compute, check, report, and every workshop write.

The command line, the web app, the digest and the arbiter call these functions and render what they return;
none of them reaches past this floor. Each function takes a loaded `Project` (or a folder for `load`) and
returns a typed result; bad input raises `UserError` (one line per problem), never prints, never exits.
Heavy modules load inside the functions, so that importing this module (and `accord --help`) stays light.
"""
from __future__ import annotations

import datetime as dt
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from accord.errors import UserError, did_you_mean

if TYPE_CHECKING:  # the shapes returned, for readers and type checkers only
    from accord.analyze.bridge import Bridge
    from accord.analyze.drift import Diff
    from accord.analyze.touchpoints import TouchpointsResult
    from accord.analyze.tree import Tree
    from accord.check import CheckResult
    from accord.compute.run import ComputeResult
    from accord.engine import Engine
    from accord.imports.export_dbt import Export
    from accord.imports.write import ImportPlan
    from accord.project.model import Project
    from accord.report_views import Report
    from accord.workshop.approve import Approved
    from accord.workshop.decide import Decided, DecisionSpec
    from accord.workshop.kit import Kit
    from accord.workshop.rollout import Rollout

Progress = Callable[[str], None]


# ---------------------------------------------------------------- input every shell parses the same way

def parse_date(value: str | None, what: str) -> dt.date | None:
    """A YYYY-MM-DD date given as `what` (an option or field name), or None when not given."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{what} {value!r} is not a date. write YYYY-MM-DD, such as 2026-07-14") from None


def choose(value: str, what: str, choices: tuple[str, ...]) -> str:
    """`value` when it is one of `choices`; else a user error naming them (with a near one)."""
    if value not in choices:
        raise UserError(f"{what} {value!r} is not one of {', '.join(choices)}.{did_you_mean(value, choices)}")
    return value


# ---------------------------------------------------------------- the project and its engine

def load(folder: Path) -> Project:
    """The validated project in `folder` (holding accord.yml); every problem at once as a UserError."""
    from accord.project.loader import load_project
    return load_project(folder)


def today(project: Project, as_of: dt.date | None = None) -> dt.date:
    """"Today": `as_of`, else `settings.as_of`, else the clock."""
    from accord.project.settings import resolve_today
    return resolve_today(as_of, project.settings)


@contextmanager
def engine(project: Project) -> Iterator[Engine]:
    """The project's engine on its data, read-only, closed when the block ends."""
    from accord.compute.connect import project_engine
    with closing(project_engine(project)) as opened:
        yield opened


# ---------------------------------------------------------------- reading

@dataclass(frozen=True)
class Validation:
    """A loaded project and what its data holds (rows and keys per source)."""

    project: Project
    data: dict

    def as_dict(self) -> dict:
        p = self.project
        return {"project": p.name, "sources": len(p.sources), "metrics": len(p.metrics), "teams": len(p.teams),
                "files_read": list(p.files_read), "files_skipped": list(p.files_skipped), "data": self.data}


def validate(project: Project) -> Validation:
    """Check the project's data: every column a definition names exists, keys are unique."""
    from accord.compute.datachecks import check_data
    with engine(project) as e:
        return Validation(project, check_data(project, e))


def load_and_validate(folder: Path) -> Validation:
    """`accord validate`: load the project and check its data, with every problem in one run — a metric
    that failed to load still has the columns it reads checked against its source."""
    from accord.compute.datachecks import data_problems
    from accord.engine import EngineError, EngineQueryError
    from accord.project.loader import load_project
    from accord.sql.errors import FragmentError
    try:
        project = load_project(folder)
    except UserError as e:
        partial = getattr(e, "partial", None)
        if partial is None:
            raise
        problems = list(e.problems)
        try:
            with engine(partial) as opened:
                problems += data_problems(partial, opened)[0]
        except (UserError, EngineError, EngineQueryError, FragmentError):
            pass      # the data cannot be read yet: the load problems say enough
        raise UserError(problems) from None
    return validate(project)


def engine_dialect(project: Project) -> str:
    """The SQL dialect of the project's engine (a dbt profile's adapter for type dbt)."""
    from accord.compute.connect import engine_spec
    return engine_spec(project).kind


def compute(project: Project, metrics: list[str] | None, grain: str, on: dt.date, since: dt.date | None = None,
            until: dt.date | None = None, progress: Progress | None = None) -> ComputeResult:
    """Metrics per period at `grain` as of `on`: one scan per source."""
    from accord.compute.periods import GRAINS
    from accord.compute.run import compute as run
    choose(grain, "--grain", GRAINS)
    with engine(project) as e:
        return run(project, e, metrics or None, grain, on, since, until, progress=progress)


def check(project: Project, on: dt.date) -> CheckResult:
    """Every diagnostic as findings, sorted, with accepted ones set apart."""
    from accord.check import run_check
    return run_check(project, on)


def reconcile(project: Project, a: str, b: str, period: str) -> Bridge:
    """The bridge from metric A's value to B's for one period, record by record."""
    from accord.analyze.bridge import reconcile as run
    with engine(project) as e:
        return run(project, e, a, b, period)


def diff(project: Project, rev: str, on: dt.date) -> Diff:
    """Every definition at git revision `rev` against the working tree, with numeric impact."""
    from accord.analyze.drift import diff as run
    from accord.project.history import load_at_revision
    old = load_at_revision(project, rev)
    with engine(project) as e:
        return run(old, project, rev, e, on)


def tree(project: Project, on: dt.date) -> Tree:
    """Company → function → role with values, targets, trends and each contribution edge tested."""
    from accord.analyze.tree import build_tree
    with engine(project) as e:
        return build_tree(project, e, on)


def touchpoints(project: Project, on: dt.date, customer: str | None = None) -> TouchpointsResult:
    """Every team's contact with each customer, checked against the contact policy."""
    from accord.analyze.touchpoints import touchpoints as run
    with engine(project) as e:
        return run(project, e, on, customer=customer)


def report(project: Project, on: dt.date, checked: CheckResult | None = None) -> Report:
    """Everything the leaders' page shows, as plain data (the check is run unless given)."""
    from accord.report import build_report
    return build_report(project, on, checked if checked is not None else check(project, on))


# ---------------------------------------------------------------- the workshop

@dataclass(frozen=True)
class Prework:
    """The pre-work requests written for one label: files written, answer files kept as they were."""

    label: str
    written: tuple[Path, ...]
    kept: tuple[Path, ...]


def prework(project: Project, label: str, out: Path | None, markdown: Callable) -> Prework:
    """Write one pre-work request per team using `label` (`markdown(request)` renders it) and its answer
    template; answers already there are never overwritten. Default folder: the project's prework/."""
    from accord.workshop.prework import PREWORK_DIR, write_prework
    from accord.workshop.topic import topic
    t = topic(project, label)
    written, kept = write_prework(project, t, out or project.root / PREWORK_DIR, markdown)
    return Prework(t.label, tuple(written), tuple(kept))


def kit(project: Project, labels: list[str], on: dt.date) -> Kit:
    """The facilitation kit for one to three labels (refused before the data is opened when they are bad)."""
    from accord.workshop.kit import build_kit, topics_for_kit
    topics = topics_for_kit(project, labels)
    with engine(project) as e:
        return build_kit(project, [t.label for t in topics], on, e)


def decide(project: Project, spec: DecisionSpec) -> Decided:
    """Record (or update) the decision `spec` describes in the project's YAML."""
    from accord.workshop.decide import record_decision
    return record_decision(project, spec)


def rollout(project: Project, label: str) -> Rollout:
    """The plain rollout message of a recorded decision."""
    from accord.workshop.rollout import decided_rollout
    return decided_rollout(project, label)


def approve(project: Project, metric: str, by: str, on: dt.date) -> list[Approved]:
    """Accept a metric's current definition into every decision naming it, as `by` (an approver)."""
    from accord.workshop.approve import approve as run
    return run(project, metric, by, on)


# ---------------------------------------------------------------- people and accounts

def people(project: Project) -> dict[str, tuple[str, ...]]:
    """Everyone the project names, by lower-case email: the teams listing them as lead or member (a metric's
    owner outside every team has no team)."""
    out: dict[str, set[str]] = {}
    for t in project.teams:
        for email in (t.lead, *t.members):
            if email:
                out.setdefault(email.strip().lower(), set()).add(t.name)
    for m in project.metrics:
        if m.owner:
            out.setdefault(m.owner.strip().lower(), set())
    for d in project.decisions:
        out.setdefault(d.owner.strip().lower(), set())
    return {email: tuple(sorted(teams)) for email, teams in sorted(out.items())}


def store(project: Project):
    """The project's store (`ACCORD_STORE`, else .accord/accord.db in the project), at the current schema."""
    from accord.store import open_store
    return open_store(project.root)


def store_if_any(project: Project):
    """The project's store when there is one (`ACCORD_STORE`, or .accord/accord.db already made); None, and
    nothing created, otherwise: for commands that only read it."""
    import os
    from accord.store import ENV
    if os.environ.get(ENV, "").strip() or (project.root / ".accord" / "accord.db").exists():
        return store(project)
    return None


def add_user(project: Project, db, email: str, role: str, password: str | None):
    """An account for someone the project names (any email may be a viewer)."""
    from accord.store import accounts
    accounts.check_role(role)
    known = people(project)
    if role != "viewer" and accounts.normal_email(email) not in known:
        raise UserError(f"{email} is not a lead or member of any team in the project, nor an owner. add them to "
                        "members: of their team in teams.yml, or give --role viewer")
    return accounts.add_account(db, email, role, password)


# ---------------------------------------------------------------- the morning digest

@dataclass(frozen=True)
class Digests:
    """The day's digests: those to mail, people with nothing to say, people not mailed (email, why)."""

    day: dt.date
    digests: tuple
    quiet: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]


def digests(project: Project, on: dt.date, to: list[str] | None = None, db=None) -> Digests:
    """Each person's digest for the morning of `on` (numbers up to the end of the day before): everyone the
    project names, or those in `to`, inside `digest.allowed_domains`. With a store, "what changed" is measured
    from each person's last digest sent, and people who unsubscribed are left out."""
    from accord.morning.content import build_digests, recipients
    from accord.store import digests as sent
    chosen = recipients(project, to)
    refused = list(chosen.refused)
    if db is not None:
        gone = sent.unsubscribed(db)
        refused += [(p, "unsubscribed from the digest; not mailed") for p in chosen.people if p in gone]
        chosen = type(chosen)(tuple(p for p in chosen.people if p not in gone), chosen.refused, chosen.domains)
    checked = check(project, on)
    summary = report(project, on, checked)
    last = (lambda person: sent.last_sent(db, person, on.isoformat())) if db is not None else (lambda person: None)
    with engine(project) as e:
        built = build_digests(project, on, checked, summary, e, chosen, last)
    always = project.config.digest.always
    return Digests(on, tuple(d for d in built if always or d.has_news),
                   tuple(d.person for d in built if not (always or d.has_news)), tuple(refused))


def digest_sender(project: Project) -> str:
    """`digest.from`, the address digests and sign-in links are sent from."""
    sender = project.config.digest.from_
    if not sender:
        raise UserError("accord.yml: digest.from is not set, so no email can be sent. add digest: {from: "
                        "metrics@your.domain}")
    return sender


def smtp_settings(project: Project):
    """`smtp:` of accord.yml, required to send."""
    if project.config.smtp is None:
        raise UserError("accord.yml: there is no smtp: section, so no email can be sent. add smtp: {host: "
                        "smtp.your.domain, port: 587, tls: starttls, user_env: ACCORD_SMTP_USER, password_env: "
                        "ACCORD_SMTP_PASSWORD}")
    return project.config.smtp


def unsubscribe_link(project: Project, db, person: str) -> str | None:
    """The signed link that stops `person`'s digests; None without `serve.base_url`."""
    base = project.config.serve.base_url
    if not base or db is None:
        return None
    from accord.store import accounts
    from accord.store.digests import unsubscribe_token
    return f"{base.rstrip('/')}/digest/unsubscribe?t={unsubscribe_token(accounts.secret_key(db), person)}"


def send_digests(project: Project, db, built: Digests, render: Callable, tries: int | None = None,
                 pause: float | None = None):
    """Send the digests not yet sent for their day, at most once per person per day (see accord.morning.send);
    `render(digest)` makes the email. What happened, with one line per failure and per unknown delivery."""
    from accord.morning import send
    smtp = smtp_settings(project)
    sender = digest_sender(project)
    return send.send_all(db, smtp, sender, list(built.digests), render, send.TRIES if tries is None else tries,
                         send.PAUSE if pause is None else pause)


RUN_TAKEN_FOR = dt.timedelta(minutes=30)   # a day's run not finished by then may be taken over by another process


def digest_due(project: Project, now: dt.datetime) -> dt.date | None:
    """The day whose digests are due at `now` (an aware time): today in settings.timezone once it is past
    `digest.at`; None before that, or when smtp: or digest.from is missing."""
    from zoneinfo import ZoneInfo
    if project.config.smtp is None or not project.config.digest.from_:
        return None
    local = now.astimezone(ZoneInfo(project.settings.timezone))
    hour, minute = (int(x) for x in project.config.digest.at.split(":"))
    return local.date() if (local.hour, local.minute) >= (hour, minute) else None


def take_digest_run(db, day: dt.date, now: dt.datetime) -> bool:
    """Take the day's run for this process: False when another process has it (or finished it). A run left
    unfinished longer than RUN_TAKEN_FOR is taken over; the per-person claims still stop any second send."""
    from accord.store.digests import claimant
    key = f"digest-run:{day.isoformat()}"
    mine = f"running {now.isoformat()} {claimant()}"
    with db.transaction() as cur:
        db.run(cur, "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, mine))
        if cur.rowcount == 1:
            return True
        db.run(cur, "SELECT value FROM settings WHERE key = ?", (key,))
        row = cur.fetchone()
        state, _, rest = row[0].partition(" ")
        started = dt.datetime.fromisoformat(rest.split(" ")[0]) if state == "running" else None
        if started is None or now - started < RUN_TAKEN_FOR:
            return False
        db.run(cur, "UPDATE settings SET value = ? WHERE key = ? AND value = ?", (mine, key, row[0]))
        return cur.rowcount == 1


def finish_digest_run(db, day: dt.date, summary: str) -> None:
    db.execute("UPDATE settings SET value = ? WHERE key = ?", (f"done {summary}", f"digest-run:{day.isoformat()}"))


def send_due_digests(project: Project, db, render_for: Callable, now: dt.datetime | None = None):
    """One tick of `accord serve`'s scheduler: when the day's digests are due and no process has taken the
    day's run, build and send them (the day is the clock's, in settings.timezone; data up to the end of the
    day before). The outcome, or None when nothing was due or another process has the run.
    `render_for(project, db)` gives the renderer."""
    now = now or dt.datetime.now(dt.timezone.utc)
    day = digest_due(project, now)
    if day is None or not take_digest_run(db, day, now):
        return None
    built = digests(project, day, None, db)
    outcome = send_digests(project, db, built, render_for(project, db))
    finish_digest_run(db, day, f"sent {len(outcome.sent)}, failed {len(outcome.failed)}, "
                               f"unknown {len(outcome.unknown)}")
    return outcome


def sign_in_links_enabled(project: Project) -> bool:
    """Sign-in links by email need smtp:, digest.from (the sender) and serve.base_url (the link's address)."""
    return bool(project.config.smtp and project.config.digest.from_ and project.config.serve.base_url)


def send_sign_in_link(project: Project, db, email: str, address: str) -> str:
    """Email a one-time sign-in link (15 minutes, once) to `email` when it has an account. What happened:
    "sent", "no-account", "limited" (too many asked lately) or "failed: why". Every ask counts against the
    limits, whether or not the account exists; the page says the same for sent and no-account."""
    from accord.mail import Connection, MailError, plain_message
    from accord.store import accounts, sign_in_links
    if not sign_in_links_enabled(project):
        raise UserError("sign-in links are off: they need smtp:, digest.from and serve.base_url in accord.yml")
    email = accounts.normal_email(email)
    if sign_in_links.limited(db, email, address):
        return "limited"
    sign_in_links.asked(db, email, address)
    if accounts.get_account(db, email) is None:
        return "no-account"
    token = sign_in_links.create(db, email)
    link = f"{project.config.serve.base_url.rstrip('/')}/sign-in/link/{token}"
    minutes = int(sign_in_links.LIFETIME.total_seconds() // 60)
    msg = plain_message(project.config.digest.from_, email, f"Sign in to {project.name}",
                        f"Open this link to sign in to accord ({project.name}) as {email}:\n\n{link}\n\n"
                        f"It works once, for {minutes} minutes. If you did not ask for it, ignore this email.\n")
    conn = Connection(project.config.smtp)
    try:
        conn.send(msg, project.config.digest.from_, email)
    except MailError as e:
        return f"failed: {e}"
    finally:
        conn.close()
    return "sent"


# ---------------------------------------------------------------- a person's writes, guarded and committed

@dataclass(frozen=True)
class Written:
    """What a guarded write did: the files, their text before and after, the commit (when in git), and the
    write's own result."""

    paths: tuple[Path, ...]
    before: dict[str, str]
    after: dict[str, str]
    commit: str | None
    result: object


def content_hash(paths: list[Path]) -> str:
    """The hash a form carries of the files it shows, for `expected` below."""
    from accord.project.writes import content_hash as run
    return run(paths)


def write_guarded(project: Project, paths: list[Path], expected: str | None, author: str | None, message: str,
                  change: Callable[[], object]) -> Written:
    """Run `change` (which writes `paths`) under the project's write lock; refused with `Conflict` when the
    files are no longer what the writer read (`expected`); then, with an author, committed as them (per
    `serve.git`)."""
    from accord.project.commits import commit
    from accord.project.writes import guarded, read_texts
    with guarded(project.root, paths, expected):
        before = read_texts(project.root, paths)
        result = change()
        after = read_texts(project.root, paths)
        sha = None
        if author and before != after:
            sha = commit(project.root, paths, author, message, project.config.serve.git)
    return Written(tuple(paths), before, after, sha, result)


def decision_paths(project: Project, label: str) -> list[Path]:
    """The file holding the decision on `label`, or the one `decide` would create."""
    from accord.workshop.topic import topic
    t = topic(project, label)
    return [project.root / (t.decision.location.file if t.decision else f"decisions/{t.slug}.yml")]


def approval_paths(project: Project, metric: str) -> list[Path]:
    return sorted({project.root / d.location.file for d in project.decisions
                   if any(u.metric == metric for u in d.canonical + d.alternates)})


def prework_paths(project: Project, label: str, team: str) -> list[Path]:
    from accord.workshop.prework import answer_path
    from accord.workshop.topic import topic
    return [answer_path(project, topic(project, label), team)]


def accept_paths(project: Project) -> list[Path]:
    from accord.workshop.accept import accept_path
    return [accept_path(project)]


def submit_prework(project: Project, label: str, team: str, by: str, answers: dict[str, dict[str, str | None]],
                   others_wrong: str | None, expected: str | None = None) -> Written:
    """A team's pre-work answers for `label`, written to prework/<label>/<team>.yml as `by`."""
    from accord.workshop.prework import write_answers
    from accord.workshop.topic import topic
    t = topic(project, label)
    return write_guarded(project, prework_paths(project, label, team), expected, by,
                         f"Pre-work on '{t.label}' for {team}, by {by}",
                         lambda: write_answers(project, t, team, by, answers, others_wrong))


def accept_finding(project: Project, code: str, metrics: tuple[str, ...], owner: str, reason: str,
                   until: dt.date, on: dt.date, expected: str | None = None) -> Written:
    """Accept a finding for now: an `accept:` entry by `owner`, with the reason and expiry."""
    from accord.workshop.accept import record_accept
    return write_guarded(project, accept_paths(project), expected, owner,
                         f"Accept {code} on {', '.join(metrics) or 'the project'} until {until}, by {owner}",
                         lambda: record_accept(project, code, metrics, owner, reason, until, on))


def decide_as(project: Project, spec: DecisionSpec, by: str, expected: str | None = None) -> Written:
    """`decide`, guarded and committed as `by`."""
    return write_guarded(project, decision_paths(project, spec.label), expected, by,
                         f"Decide '{spec.label}', recorded by {by}", lambda: decide(project, spec))


def approve_as(project: Project, metric: str, by: str, on: dt.date, expected: str | None = None) -> Written:
    """`approve` by `by`, guarded and committed as them."""
    return write_guarded(project, approval_paths(project, metric), expected, by,
                         f"Approve the definition of {metric}, by {by}", lambda: approve(project, metric, by, on))


def pending_approvals(project: Project) -> list[tuple[str, str]]:
    """(decision label, metric) for each decided metric whose definition changed since it was recorded or last
    approved: what its owners have to approve (the `unapproved-change` finding, without running the check)."""
    from accord.project.fingerprint import fingerprint
    out = []
    for d in project.decisions:
        for use in d.canonical + d.alternates:
            if project.has_metric(use.metric) and use.fingerprint != fingerprint(project, project.metric(use.metric)):
                out.append((d.label, use.metric))
    return out


# ---------------------------------------------------------------- imports and exports

def import_definitions(project: Project, tool: str, folder: Path, team: str | None = None,
                       level: str | None = None, dry_run: bool = False) -> ImportPlan:
    """Translate `tool`'s definitions in `folder` (dbt so far) into `imported/<tool>/`, exactly or
    not at all, keeping what a person added since the last import; with dry_run nothing is written."""
    from accord.imports.translation import TOOLS
    from accord.imports.write import apply_write, plan_write
    choose(tool, "tool", TOOLS)
    if level is not None:
        choose(level, "--level", ("company", "function", "role"))
    if not folder.is_dir():
        raise UserError(f"{folder}: is not a folder. pass the folder of the {tool} project")
    from accord.imports.tools import translate
    translation = translate(tool, folder, str(folder), team, level)
    written = plan_write(project, translation, str(folder))
    if not dry_run:
        apply_write(project, written, folder)
    return written


def export_definitions(project: Project, tool: str, out: Path) -> Export:
    """Every metric with an exact `tool` equivalent written under `out` (dbt: a model and a semantic model per
    source); the rest listed, one line each."""
    from accord.compute.run import source_schema
    from accord.imports.export_dbt import export_dbt
    from accord.project.atomic import make_folder, write_file
    choose(tool, "tool", ("dbt",))
    read = {m.source for m in project.metrics if m.source}
    schemas = {}
    with engine(project) as e:
        for source in project.sources:
            if source.name in read:
                try:
                    schemas[source.name] = source_schema(e, project, source)
                except UserError:
                    pass    # its metrics are listed as not exported: the source could not be read
    exported = export_dbt(project, schemas, engine_dialect(project))
    make_folder(out)
    for rel, text in exported.files.items():
        write_file(out / rel, text, name=str(out / rel))
    return exported


# ---------------------------------------------------------------- the contact arbiter and its tokens

def arbiter(project: Project, db):
    """The contact arbiter over the project's contact policy and the store (see accord/store/arbiter.py)."""
    from accord.analyze.contact_rules import plan_policy, policy_states
    from accord.store.arbiter import Arbiter
    policy = project.contact_policy
    if policy is None:
        raise UserError("the project has no contact_policy. add one to a definitions file: the customer column, "
                        "the touch sources (source, team, time) and the rules")
    plan = plan_policy(policy, [(i, t.team) for i, t in enumerate(policy.touches)], set(policy_states(policy)))
    teams = list(dict.fromkeys(t.team for t in policy.touches))
    owners = people(project)
    sources = {s.name: s for s in project.sources}
    listed = ([("open_case", policy.cases.source)] if policy.cases else []) + [(s.name, s.source) for s in policy.states]
    state_teams = {}
    for state, source in listed:
        owner = sources[source].owner if source in sources else None
        state_teams[state] = set(owners.get(owner.strip().lower(), ())) if owner else set()
    return Arbiter(db, plan, policy, teams, project.settings.timezone, state_teams)


def warm_arbiter(project: Project, db, now: dt.datetime | None = None) -> tuple[int, int]:
    """Load into the arbiter what the longest rule window needs from the project's touch and state sources, up to
    now: the touches sent in that window and the states still open in it. (touches, states) loaded."""
    from accord.analyze.contact_log import OPEN, ContactLog
    from sqlglot import exp
    arb = arbiter(project, db)
    moment = now or dt.datetime.now(dt.timezone.utc)
    end = arb.local(moment)
    start = end - max(arb.longest, 86_400_000_000)
    with engine(project) as e:
        log = ContactLog(project, e, moment.astimezone(arb.zone).date())
        team_of = log.team_of
        rows = e.query(exp.select("customer", "s", "us").from_(exp.Subquery(
            this=log.touches(), alias=exp.TableAlias(this=exp.to_identifier("t")))).where(
            exp.and_(exp.GT(this=exp.column("us"), expression=exp.Literal.number(start)),
                     exp.LTE(this=exp.column("us"), expression=exp.Literal.number(end))))).to_pylist()
        touches = [(r["customer"], team_of[r["s"]], r["us"]) for r in rows]
        periods = []
        query = log.periods_of()
        if query is not None:
            periods = [(r["customer"], r["state"], r["opened"], r["resolved"]) for r in e.query(query).to_pylist()
                       if r["resolved"] > start and r["opened"] <= end]
    periods = [(c, s, o, OPEN if r == OPEN else r) for c, s, o, r in periods]
    arb.load_history(touches, periods)
    return len(touches), len(periods)


def forget_history(db) -> None:
    """`accord arbiter --no-history`: nothing read from the project's sources; the claims in the store stay."""
    from accord.store.arbiter import forget_history as run
    run(db)


def add_token(project: Project, db, name: str, teams: tuple[str, ...], scopes: tuple[str, ...]) -> str:
    """A new bearer token for a sending system (shown once; the store keeps its hash)."""
    from accord.store import tokens
    known = list(dict.fromkeys([t.name for t in project.teams] +
                               ([t.team for t in project.contact_policy.touches] if project.contact_policy else [])))
    for team in teams:
        if team not in known:
            raise UserError(f"team '{team}' is not in the project.{did_you_mean(team, known)} "
                            f"name one of: {', '.join(known)}")
    for scope in scopes:
        if scope not in tokens.SCOPES:
            raise UserError(f"scope '{scope}' is unknown.{did_you_mean(scope, list(tokens.SCOPES))} "
                            f"name one of: {', '.join(tokens.SCOPES)}")
    return tokens.add_token(db, name, tuple(dict.fromkeys(teams)), tuple(dict.fromkeys(scopes)))


def touch_log(project: Project, day: dt.date) -> list[tuple[str, str, dt.datetime]]:
    """One day of the project's touch log in the order the rules take it (time, policy source order, row order):
    (customer, team, local time with its zone)."""
    from zoneinfo import ZoneInfo

    from sqlglot import exp

    from accord.analyze.contact_log import ContactLog, from_micros, micros
    zone = ZoneInfo(project.settings.timezone)
    start = micros(dt.datetime.combine(day, dt.time()))
    with engine(project) as e:
        log = ContactLog(project, e, day)
        rows = e.query(exp.select("customer", "s", "us").from_(exp.Subquery(
            this=log.touches(detail=True), alias=exp.TableAlias(this=exp.to_identifier("t")))).where(
            exp.GTE(this=exp.column("us"), expression=exp.Literal.number(start))).order_by("us", "s", "r"))
    team_of = log.team_of
    return [(c, team_of[s], from_micros(us).replace(tzinfo=zone)) for c, s, us in
            zip(*(rows.column(n).to_pylist() for n in ("customer", "s", "us")))]


def hold_rates(project: Project, db, latest: int = 10_000) -> dict | None:
    """The arbiter's latest claims (at most `latest`): held by rule and team, or what shadow mode would have held."""
    policy = project.contact_policy
    if policy is None:
        return None
    from accord.store.arbiter import hold_rates as run
    return run(db, [r.name for r in policy.rules], list(dict.fromkeys(t.team for t in policy.touches)),
               policy.mode == "shadow", latest)

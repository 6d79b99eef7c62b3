"""Each person's digest as plain data: their numbers, what they feed, what changed, what is theirs to do.

`build_digests` runs the check, the report and the tree once for the day and cuts them per person; numbers are
`compute`'s (see accord.morning.numbers). A leader (a lead or member of a team with company metrics, or someone
in `digest.leaders`) gets the company numbers and the five most important open items instead of their own.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from dataclasses import dataclass, field

from accord.check import CheckResult
from accord.findings import Finding
from accord.morning.numbers import MetricNumbers, Numbers
from accord.project.model import Metric, Project
from accord.report_views import ItemView, MetricView, Report

EXPIRING_WITHIN = 14   # days: an accepted finding expiring this soon is the owner's to renew or fix

VERDICT_WORDS = {
    "supported": "holds in the data: its changes are followed by {parent} {moving}",
    "unsupported": "does not hold in the data: no effect on {parent} found",
    "reversed": "is reversed in the data: it moves {parent} the opposite way",
    "insufficient-data": "cannot be tested yet: too little history",
}
MOVING_WORDS = {"rising": "rising", "falling": "falling", "flat": "no clear trend"}


@dataclass(frozen=True)
class Feed:
    """One metric's link to the company KPI above it: the parent it names, the edge's verdict in words, and the
    KPI at the top of that path with its latest value and trend."""

    metric: str
    parent: str
    parent_label: str
    verdict: str
    words: str
    kpi: str
    kpi_label: str
    kpi_unit: str | None
    kpi_period: str | None
    kpi_value: float | None
    kpi_trend: str            # rising, falling, no clear trend


@dataclass(frozen=True)
class NumberCard:
    """A metric as the digest shows it: compute's numbers, its target's pace and its recent periods."""

    view: MetricView
    numbers: MetricNumbers


@dataclass(frozen=True)
class Change:
    kind: str                 # "new", "open" (first digest), "resolved", "decision", "definition", "stale"
    text: str
    severity: str | None = None
    impact: tuple[dict, ...] = ()


@dataclass(frozen=True)
class ToDo:
    kind: str                 # "approve", "follow-up", "review", "expiring", "prework"
    text: str
    due: dt.date | None = None


@dataclass(frozen=True)
class Digest:
    """One person's digest for one day."""

    person: str
    project: str
    day: dt.date
    teams: tuple[str, ...]
    leader: bool
    numbers: tuple[NumberCard, ...]
    feeds: tuple[Feed, ...]
    changes: tuple[Change, ...]
    todo: tuple[ToDo, ...]
    items: tuple[ItemView, ...]          # the five most important open items (leaders)
    first: bool                          # no digest was sent to them before
    since: str | None                    # the day of their last digest
    memo: dict = field(default_factory=dict)   # what the next digest compares with

    @property
    def has_news(self) -> bool:
        """Something to say: numbers, a change, something to do or an item to decide."""
        return bool(self.numbers or self.changes or self.todo or self.items)


@dataclass(frozen=True)
class Recipients:
    """Who gets a digest and who is left out: (email, reason) for each person not mailed."""

    people: tuple[str, ...]
    refused: tuple[tuple[str, str], ...]
    domains: tuple[str, ...]


def finding_key(f: Finding) -> str:
    """A finding's identity across days: code, metrics, teams and title."""
    raw = "|".join([f.code, ",".join(f.metrics), ",".join(f.teams), f.title])
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def people(project: Project) -> dict[str, tuple[str, ...]]:
    """Everyone the project names (leads, members, owners, decision owners, digest leaders) and their teams."""
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
    for email in project.config.digest.leaders:
        out.setdefault(email, set())
    return {e: tuple(sorted(t)) for e, t in sorted(out.items())}


def allowed_domains(project: Project) -> tuple[str, ...]:
    """`digest.allowed_domains`, else the domains of the team leads."""
    given = project.config.digest.allowed_domains
    if given is not None:
        return given
    return tuple(sorted({t.lead.strip().lower().rpartition("@")[2] for t in project.teams if t.lead}))


def recipients(project: Project, to: list[str] | None = None) -> Recipients:
    """Who is mailed: everyone the project names (or those in `to`), each inside the allowed domains."""
    from accord.errors import UserError, did_you_mean
    known = people(project)
    domains = allowed_domains(project)
    wanted = list(known)
    if to:
        wanted = []
        for email in to:
            e = email.strip().lower()
            if e not in known:
                raise UserError(f"--to {email}: the project names nobody with that email.{did_you_mean(e, known)} "
                                "give a lead, member or owner")
            wanted.append(e)
    ok, refused = [], []
    for e in dict.fromkeys(wanted):
        if e.rpartition("@")[2] in domains:
            ok.append(e)
        else:
            refused.append((e, f"outside digest.allowed_domains ({', '.join(domains) or 'none'}); not mailed"))
    return Recipients(tuple(ok), tuple(refused), domains)


def head_commit(project: Project) -> str | None:
    try:
        run = subprocess.run(["git", "-C", str(project.root), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return run.stdout.strip() if run.returncode == 0 else None


class Day:
    """The analyses of one day, run once and cut per person."""

    def __init__(self, project: Project, day: dt.date, check: CheckResult, report: Report, tree, engine,
                 people: dict[str, tuple[str, ...]] | None = None):
        self.project, self.day, self.check, self.report, self.tree, self.engine = \
            project, day, check, report, tree, engine
        self.views = {v.name: v for v in report.metrics}
        self.leader_teams = {m.team for m in project.metrics if m.level == "company"}
        shown: set[str] = set()
        for person, teams in (people or {}).items():      # compute only the numbers someone is shown
            if self.is_leader(person, teams):
                shown |= {m.name for m in project.metrics if m.level == "company"}
            else:
                shown |= {m.name for m in self.mine(person, teams)}
        self.numbers = Numbers(project, engine, day, [m.name for m in project.metrics if m.name in shown])
        self.commit = head_commit(project)
        from accord.project.fingerprint import fingerprint
        self.prints = {m.name: fingerprint(project, m) for m in project.metrics}

    # ------------------------------------------------------------ whose is what
    def mine(self, person: str, teams: tuple[str, ...]) -> list[Metric]:
        """The metrics they own or their team owns."""
        return [m for m in self.project.metrics
                if (m.owner or "").strip().lower() == person or m.team in teams]

    def concerns(self, f: Finding, person: str, teams: tuple[str, ...], metrics: set[str]) -> bool:
        return ((f.owner or "").strip().lower() == person or bool(set(f.metrics) & metrics)
                or bool(set(f.teams) & set(teams)))

    def is_leader(self, person: str, teams: tuple[str, ...]) -> bool:
        return person in self.project.config.digest.leaders or bool(set(teams) & self.leader_teams)

    # ------------------------------------------------------------ the parts
    def feeds(self, metrics: list[Metric]) -> list[Feed]:
        out = []
        nodes = self.tree.nodes if self.tree is not None else {}
        for m in metrics:
            node = nodes.get(m.name)
            if node is None:
                continue
            for edge in node.edges:
                parent = edge.link.parent
                if parent not in nodes:
                    continue
                kpi = self._kpi(parent, nodes)
                top = nodes[kpi]
                moving = "rising" if edge.link.effect == "raises" else "falling"
                words = VERDICT_WORDS.get(edge.verdict, edge.verdict).format(
                    parent=self.project.label_of(parent), moving=moving)
                out.append(Feed(m.name, parent, self.project.label_of(parent), edge.verdict, words, kpi,
                                self.project.label_of(kpi), top.metric.unit, top.numbers.period, top.numbers.value,
                                MOVING_WORDS[top.trend.moving] if top.trend else "no clear trend"))
        return out

    def _kpi(self, name: str, nodes: dict) -> str:
        """The company metric above `name`, following first parents (itself when it is one, or the top)."""
        seen = set()
        while name not in seen:
            seen.add(name)
            node = nodes[name]
            if node.metric.level == "company" or not node.edges:
                return name
            up = [e.link.parent for e in node.edges if e.link.parent in nodes]
            if not up:
                return name
            name = up[0]
        return name

    def changes(self, person: str, teams: tuple[str, ...], names: set[str], last,
                hide: frozenset[str] = frozenset()) -> list[Change]:
        p = self.project
        mine = [f for f in self.check.open if self.concerns(f, person, teams, names) and not set(f.metrics) & hide]
        out: list[Change] = []
        before = set(last.memo.get("findings", {})) if last else set()
        titles = last.memo.get("findings", {}) if last else {}
        now = {finding_key(f): f for f in mine}
        for key, f in now.items():
            if f.code == "stale-source":
                out.append(Change("stale", f.title, f.severity))
            elif key not in before:
                out.append(Change("new" if last else "open", f.title, f.severity))
        for key in sorted(before - set(now)):
            out.append(Change("resolved", titles[key]))
        since = dt.date.fromisoformat(last.day) if last else self.day - dt.timedelta(days=1)
        for d in p.decisions:
            named = {u.metric for u in d.canonical + d.alternates}
            if since <= d.decided_on < self.day and (named & names or d.owner.strip().lower() == person):
                out.append(Change("decision", f"Decision on '{d.label}' recorded on {d.decided_on.isoformat()} "
                                              f"by {d.owner}"))
        if last:
            out += self._definitions(names, last)
        return out

    def _definitions(self, names: set[str], last) -> list[Change]:
        old = last.memo.get("prints", {})
        changed = sorted(n for n in names if n in old and old[n] != self.prints.get(n))
        if not changed:
            return []
        impact: dict[str, list[dict]] = {}
        rev = last.memo.get("commit")
        if rev and self.commit and rev != self.commit:
            from accord.errors import UserError
            try:
                from accord.analyze.drift import diff
                from accord.project.history import load_at_revision
                d = diff(load_at_revision(self.project, rev), self.project, rev, self.engine, self.day)
                impact = {c.metric: c.impact for c in d.changed}
            except UserError:       # the last digest's revision is gone or no longer loads: the change, no numbers
                impact = {}
        return [Change("definition", f"The definition of {self.project.label_of(n)} ({n}) changed since your "
                                     "last digest", None, tuple(impact.get(n, ())[-1:]))
                for n in changed]

    def todo(self, person: str, teams: tuple[str, ...], names: set[str]) -> list[ToDo]:
        from accord.workshop.governance import next_review
        p, day = self.project, self.day
        out: list[ToDo] = []
        for d in p.decisions:
            for use in d.canonical + d.alternates:
                if not p.has_metric(use.metric):
                    continue
                m = p.metric(use.metric)
                owns = (m.owner or "").strip().lower() == person or d.owner.strip().lower() == person
                if owns and use.fingerprint and use.fingerprint != self.prints.get(use.metric):
                    out.append(ToDo("approve", f"Approve or roll back the changed definition of "
                                               f"{p.label_of(m.name)} ({m.name}) under the decision on '{d.label}'"))
            for f in d.follow_ups:
                who = (f.owner or d.owner).strip().lower()
                if who == person and not f.done and f.due is not None and f.due < day:
                    out.append(ToDo("follow-up", f"Follow-up overdue since {f.due.isoformat()}: {f.task} "
                                                 f"(decision on '{d.label}')", f.due))
            review = next_review(d)
            if d.owner.strip().lower() == person and review is not None and review < day:
                out.append(ToDo("review", f"Review of the decision on '{d.label}' overdue since "
                                          f"{review.isoformat()}", review))
        for a in p.accept:
            if a.owner.strip().lower() == person and day <= a.until <= day + dt.timedelta(days=EXPIRING_WITHIN):
                what = ", ".join(a.metrics) or ", ".join(a.teams) or "the project"
                out.append(ToDo("expiring", f"Your acceptance of '{a.code}' on {what} expires on "
                                            f"{a.until.isoformat()}: fix the finding or renew it with a reason",
                                a.until))
        out += self._prework(teams)
        return out

    def _prework(self, teams: tuple[str, ...]) -> list[ToDo]:
        from accord.errors import UserError
        from accord.workshop.prework import PREWORK_DIR, read_answers
        from accord.workshop.topic import topic
        out = []
        labels = {str(f.evidence.get("label")) for f in self.check.open if f.code == "label-collision"
                  and f.evidence.get("label")}
        for label in sorted(labels):
            try:
                t = topic(self.project, label)
                if t.decision is not None or not (self.project.root / PREWORK_DIR / t.slug).is_dir():
                    continue       # decided, or no pre-work asked for yet
                answers = read_answers(self.project, t)
            except UserError:
                continue
            for team in t.teams:
                if team in teams and not (team in answers and answers[team].returned):
                    out.append(ToDo("prework", f"Pre-work on '{t.label}' not yet submitted for {team}"))
        return out

    # ------------------------------------------------------------ one person
    def digest(self, person: str, teams: tuple[str, ...], last) -> Digest:
        from accord import visibility
        # `visible_to`: a metric whose values this person may not see is left out, with every finding naming it
        hide = visibility.hidden(self.project, visibility.Reader(person, teams))
        metrics = [m for m in self.mine(person, teams) if m.name not in hide]
        names = {m.name for m in metrics}
        leader = self.is_leader(person, teams)
        shown = [m for m in self.project.metrics if m.level == "company" and m.name not in hide] if leader \
            else metrics
        cards = tuple(NumberCard(self.views[m.name], self.numbers.of(m)) for m in shown if m.name in self.views)
        feeds = () if leader else tuple(f for f in self.feeds(metrics) if not {f.parent, f.kpi} & hide)
        concern = names | ({m.name for m in shown} if leader else set())
        changes = tuple(self.changes(person, teams, concern, last, hide))
        mine = [f for f in self.check.open if self.concerns(f, person, teams, concern) and not set(f.metrics) & hide]
        memo = {"findings": {finding_key(f): f.title for f in mine}, "commit": self.commit,
                "prints": {n: self.prints[n] for n in sorted(concern)}}
        return Digest(person, self.project.name, self.day, teams, leader, cards, feeds, changes,
                      tuple(self.todo(person, teams, names)),
                      visibility.redact(self.report, hide).top if leader else (),
                      last is None, last.day if last else None, memo)


def build_digests(project: Project, day: dt.date, check: CheckResult, report: Report, engine,
                  chosen: Recipients, last_sent) -> list[Digest]:
    """The digest of each chosen person for `day`; `last_sent(person)` is their last digest's record or None."""
    tree = check.analysis("tree", day)
    if tree is None and any(m.parents for m in project.metrics):
        from accord.analyze.tree import build_tree
        tree = build_tree(project, engine, day)
    known = people(project)
    d = Day(project, day, check, report, tree, engine, {p: known.get(p, ()) for p in chosen.people})
    return [d.digest(p, known.get(p, ()), last_sent(p)) for p in chosen.people]

"""`accord workshop rollout LABEL`: the plain message that tells the company what was decided.

Which definition is official, where to use it, which related versions stay valid for which use, where
the source of truth lives, caveats, who owns future changes, the next review date. Without a decision on
record it is a template with the blanks marked (the kit prints it that way).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from accord.errors import UserError
from accord.project.model import DecidedMetric, Metric, Project
from accord.workshop.governance import next_review
from accord.workshop.topic import topic


@dataclass
class Official:
    metric: str
    label: str
    team: str
    owner: str | None
    description: str | None
    uses: tuple[str, ...]
    source_of_truth: str | None       # system and source, or how it is computed
    definition_at: str | None         # file:line of the definition
    caveats: tuple[str, ...] = ()
    current: bool = True              # its definition still has the fingerprint agreed


@dataclass
class Rollout:
    label: str
    decided: bool
    decided_on: dt.date | None = None
    owner: str | None = None
    official: list[Official] = field(default_factory=list)
    alternates: list[Official] = field(default_factory=list)
    caveats: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    next_review: dt.date | None = None
    decision_at: str | None = None
    undecided: list[str] = field(default_factory=list)   # metrics of the label the decision leaves out

    @property
    def all_caveats(self) -> list[str]:
        """The decision's caveats, then those written on the official metrics."""
        out = list(self.caveats)
        for o in self.official:
            out += [c for c in o.caveats if c not in out]
        return out


def _truth(project: Project, m: Metric) -> str:
    if m.kind != "simple":
        return f"computed by accord as a {m.kind} of other metrics"
    src = project.source(m.source)
    where = src.path or src.table or "a SQL view over other sources"
    return f"{src.system + ', ' if src.system else ''}source {src.name} ({where})"


def _official(project: Project, use: DecidedMetric, label: str) -> Official:
    from accord.project.fingerprint import fingerprint
    if not project.has_metric(use.metric):
        return Official(use.metric, use.rename_to or label, "", None, None, use.for_, None, None, current=False)
    m = project.metric(use.metric)
    return Official(m.name, use.rename_to or label, m.team, m.owner, m.description, use.for_,
                    _truth(project, m), f"{m.location.file}:{m.location.line}", m.caveats,
                    use.fingerprint == fingerprint(project, m))


def rollout(project: Project, label: str, today: dt.date | None = None) -> Rollout:
    """The rollout message for a label: filled from its decision, else blanks to fill in the room."""
    t = topic(project, label)
    d = t.decision
    if d is None:
        return Rollout(t.label, False, undecided=[m.name for m in t.metrics])
    named = {u.metric for u in d.canonical + d.alternates}
    return Rollout(
        d.label, True, d.decided_on, d.owner,
        official=[_official(project, u, d.label) for u in d.canonical],
        alternates=[_official(project, u, d.label) for u in d.alternates],
        caveats=d.caveats, unresolved=d.unresolved, next_review=next_review(d),
        decision_at=f"{d.location.file}:{d.location.line}",
        undecided=[m.name for m in t.metrics if m.name not in named])


def decided_rollout(project: Project, label: str) -> Rollout:
    """The rollout message of a decided label; refused (exit 2) when nothing is decided yet."""
    r = rollout(project, label)
    if not r.decided:
        raise UserError(f"no decision on '{r.label}' is recorded, so there is nothing to roll out yet. run the "
                        f"workshop (accord workshop kit '{r.label}') and record its outcome with accord workshop "
                        f"decide '{r.label}' --canonical METRIC --owner EMAIL")
    return r

"""The shapes the report page shows: plain frozen data, filled by `accord.report`, read by the templates."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from accord.findings import Finding
from accord.project.model import Target


@dataclass(frozen=True)
class Action:
    """What someone should do about a kind of finding; `who` is "leader" or "owners"."""

    key: str
    title: str
    lead: str
    who: str
    codes: tuple[str, ...]



@dataclass(frozen=True)
class Point:
    period: str
    start: dt.date
    value: float | None


@dataclass(frozen=True)
class MetricView:
    """One metric as a leader reads it: words first, then its last complete period against its target."""

    name: str
    label: str
    team: str
    level: str
    owner: str | None
    decision: str | None
    description: str | None
    confidence: str | None
    caveats: tuple[str, ...]
    status: str | None
    unit: str | None
    grain: str
    target: Target | None
    period: str | None              # the last complete period's label
    value: float | None
    previous: float | None          # the period before it
    target_status: str | None       # "met", "missed", "no-data"; None without a target
    series: tuple[Point, ...]       # recent complete periods, oldest first
    feeds: tuple[str, ...]          # labels of the metrics it claims to feed
    findings: int                   # open findings naming it
    location: str
    stale_since: str | None = None  # the day its data stops, when a complete period after it has none
    restricted: bool = False        # its values are hidden from the reader (`visible_to`)


@dataclass(frozen=True)
class TeamGroup:
    name: str
    function: str | None
    lead: str | None
    metrics: tuple[MetricView, ...]


@dataclass(frozen=True)
class LevelGroup:
    level: str
    title: str
    lead: str
    teams: tuple[TeamGroup, ...]

    @property
    def count(self) -> int:
        return sum(len(t.metrics) for t in self.teams)


@dataclass(frozen=True)
class FindingView:
    finding: Finding
    anchor: str
    subjects: tuple[tuple[str, str, str | None], ...]   # (name, label, team) of each metric named
    evidence: dict[str, Any]                        # the proof at a glance: numbers, words, short lists
    notes: tuple[str, ...]                          # the proof in sentences
    fix: str | None
    location: str | None
    see: tuple[str, str] | None = None              # (key, title) of the section that lays out its detail


@dataclass(frozen=True)
class ActionGroup:
    action: Action
    findings: tuple[FindingView, ...]


@dataclass(frozen=True)
class Section:
    """A part of the page that a capability adds when it has something to show.

    `key` names the template `sections/<key>.html.j2`; `items` is what that template iterates.
    """

    key: str
    title: str
    lead: str
    items: tuple
    covers: tuple[str, ...] = ()    # finding codes whose detail this section lays out


# Shapes for the sections later analyses fill; each template documents what it reads.

@dataclass(frozen=True)
class Variant:
    metric: str
    label: str
    team: str
    owner: str | None
    value: float | None
    unit: str | None
    role: str | None = None         # "official", "alternate" once decided
    description: str | None = None
    decision: str | None = None
    confidence: str | None = None
    restricted: bool = False        # its value is hidden from the reader (`visible_to`)


@dataclass(frozen=True)
class BridgeStep:
    what: str                       # a clause or difference, in words
    delta: float
    rows: int | None = None


@dataclass(frozen=True)
class CollisionView:
    """One word, several numbers, and the bridge from one to the other."""

    label: str
    period: str
    variants: tuple[Variant, ...]
    spread: float | None = None     # (largest - smallest) / largest
    severity: str = "error"
    bridge_from: str | None = None  # metric names
    bridge_to: str | None = None
    bridge: tuple[BridgeStep, ...] = ()
    bridge_ends: tuple[float, float] | None = None   # the two values the bridge runs between
    differences: tuple[str, ...] = ()   # how the definitions differ, in words
    decided: bool = False


@dataclass(frozen=True)
class TreeNode:
    metric: str
    label: str
    team: str
    level: str
    value: float | None
    unit: str | None
    target_status: str | None = None
    verdict: str | None = None      # of its edge to the node above: "supported", "unsupported", "reversed",
    verdict_text: str | None = None  # "insufficient-data"; None at the top
    children: tuple["TreeNode", ...] = ()
    repeat: bool = False            # drawn in full under another parent already
    restricted: bool = False        # its value is hidden from the reader (`visible_to`)


@dataclass(frozen=True)
class RuleBreach:
    rule: str
    customers: int
    breaches: int
    share: float | None = None      # of customers contacted
    teams: tuple[str, ...] = ()
    suppressed: int | None = None   # touches the rule would have held back, enforced as they happened


@dataclass(frozen=True)
class Contact:
    at: dt.datetime
    team: str
    what: str
    flagged: bool = False


@dataclass(frozen=True)
class CustomerStory:
    customer: str
    headline: str
    contacts: tuple[Contact, ...]


@dataclass(frozen=True)
class TouchpointsView:
    rules: tuple[RuleBreach, ...]
    stories: tuple[CustomerStory, ...] = ()
    by_team: tuple[tuple[str, int], ...] = ()
    weekly: tuple[tuple[dt.date, tuple[tuple[str, int], ...]], ...] = ()   # touches by week and team
    customers: int = 0                                                     # customers touched
    teams: tuple[str, ...] = ()                                            # in policy order


@dataclass(frozen=True)
class DecisionView:
    label: str
    decided_on: dt.date
    owner: str
    canonical: tuple[tuple[str, tuple[str, ...]], ...]        # (metric label, used for)
    alternates: tuple[tuple[str, tuple[str, ...]], ...]
    caveats: tuple[str, ...]
    unresolved: tuple[str, ...]
    follow_ups: tuple[tuple[str, str | None, dt.date | None, bool, bool], ...]  # task, owner, due, done, overdue
    next_review: dt.date | None
    review_overdue: bool


@dataclass(frozen=True)
class Report:
    project: str
    today: dt.date
    summary: str
    counts: dict[str, int]
    teams: int
    metrics: tuple[MetricView, ...]
    levels: tuple[LevelGroup, ...]
    actions: tuple[ActionGroup, ...]
    accepted: ActionGroup | None
    sections: dict[str, Section] = field(default_factory=dict)
    problems: tuple[str, ...] = ()   # why numbers are missing, when they could not be computed
    files: tuple[str, ...] = ()
    items: tuple["ItemView", ...] = ()   # every open decision, most impact first (accord.priorities)

    @property
    def top(self) -> tuple["ItemView", ...]:
        """The five things that matter: the highest-impact decisions that are more than worth a look."""
        return tuple(i for i in self.items if i.severity != "info")[:5]

    @property
    def company(self) -> tuple[MetricView, ...]:
        return tuple(m for m in self.metrics if m.level == "company")

    def _count(self, who: str | None) -> int:
        return sum(1 for g in self.actions for v in g.findings
                   if (v.finding.severity == "info") == (who is None) and who in (None, g.action.who))

    @property
    def leader_count(self) -> int:
        """Errors and warnings that need a leader's decision."""
        return self._count("leader")

    @property
    def owner_count(self) -> int:
        """Errors and warnings for metric owners to fix."""
        return self._count("owners")

    @property
    def info_count(self) -> int:
        """Open findings that are worth a look but ask nothing yet."""
        return self._count(None)

    @property
    def targets(self) -> dict[str, int]:
        out = {"met": 0, "missed": 0, "no-data": 0}
        for m in self.metrics:
            if m.target_status:
                out[m.target_status] += 1
        return out


@dataclass(frozen=True)
class ItemView:
    """One decision for the page: a sentence with its number and unit, who acts, and how we know, with the
    findings it gathers inside. Ranked by `accord.priorities`."""

    anchor: str
    kind: str                        # "label", "contact", "handoff", "sweep", "single"
    headline: str                    # a few words: “Pipeline”, Contact with customers
    sentence: str
    who: str
    how: str                         # statistics and file locations, for the small print
    severity: str
    score: float
    details: tuple[str, ...] = ()    # more sentences (a bridge per source disagreement)
    findings: tuple[FindingView, ...] = ()
    see: tuple[str, str] | None = None   # (key, title) of the section that lays the detail out
    leader: bool = True              # a leader's decision; else the owners' to fix

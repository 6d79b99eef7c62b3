"""`accord workshop kit`: the facilitation kit for one to three labels, as data for the Markdown and HTML pages.

The 90-minute agenda, the definitions side by side with their current values and the bridge between them,
the metric decision table pre-filled from the YAML and the pre-work answers (blanks marked), the conflict
checklist, a rollout note per label and a follow-up ownership tracker.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import combinations

from accord.errors import UserError
from accord.project.fingerprint import fingerprint
from accord.project.lint import team_lead
from accord.project.model import Metric, Project
from accord.workshop.prework import Answers, exact_definition, logic_path, read_answers
from accord.workshop.rollout import Rollout, rollout
from accord.workshop.topic import Topic, topic

MAX_LABELS = 3
BRIDGE_STEPS = 6

RULE = ("We are not here to declare a departmental winner. We are here to decide which definition belongs to "
        "which business decision.")
COST = ("delayed planning cycles", "slower budget decisions", "defensive board reporting",
        "more heroic spreadsheet work", "lower trust in every downstream dashboard")

CHECKLIST: tuple[tuple[str, str], ...] = (
    ("What decision are we trying to improve?", "If nobody can answer that, the argument stays abstract."),
    ("Is this number useful, universal, or both?",
     "A number can be useful to one team without being the right company-wide definition."),
    ("What is hidden in the exclusions?", "A metric definition is not real until the exclusions are named."),
    ("What confidence level do we actually need?",
     "A weekly operating number does not need the same treatment as a board metric."),
    ("Who has authority to approve future changes?", "Definitions without owners eventually become folklore."),
)

TABLE_QUESTIONS: tuple[tuple[str, str, str], ...] = (   # key, question, what to decide
    ("decision", "What business decision does this metric support?",
     "Budget allocation, board reporting, weekly forecast, compensation, pipeline review"),
    ("includes", "What does the metric include?", "Exact business meaning, time window, stage logic, inclusions"),
    ("excludes", "What does it exclude?", "Returns, services revenue, lifecycle stages, non-recurring revenue"),
    ("calculated", "Where is it calculated?", "CRM, warehouse model, finance system, spreadsheet, BI layer"),
    ("owner", "Who owns changes?", "Named function or individual"),
    ("confidence", "What confidence level is required?", "Directional, decision-grade or board-grade"),
)

TYPICAL_FOLLOW_UPS = ("CRM stage cleanup", "warehouse model changes", "dashboard relabeling",
                      "finance-marketing mapping fixes", "ownership of future definition changes",
                      "a monthly or quarterly review cadence")


@dataclass(frozen=True)
class Cell:
    """One answer in the decision table: text, or a blank to fill in the room; where it came from."""

    text: str | None
    origin: str = "yaml"          # yaml | prework | both

    @property
    def blank(self) -> bool:
        return not self.text


@dataclass
class Version:
    """One team's definition, as it goes on the board."""

    metric: str
    label: str
    team: str
    owner: str | None
    description: str | None
    exact: list[str]
    system: str
    serves: str | None
    value: float | None
    unit: str | None
    confidence: str | None
    status: str | None
    fingerprint: str
    trusted_report: str | None = None
    others_wrong: str | None = None
    answered_by: str | None = None


@dataclass
class BridgeView:
    a: str
    b: str
    period: str
    start: float | None = None
    end: float | None = None
    gap: float | None = None
    steps: list[tuple[float, str]] = field(default_factory=list)   # (delta, in words)
    refused: str | None = None


@dataclass
class Row:
    key: str
    question: str
    hint: str
    cells: list[Cell]


@dataclass
class KitTopic:
    label: str
    slug: str
    period: str
    versions: list[Version]
    differences: list[str]
    bridges: list[BridgeView]
    table: list[Row]
    rollout: Rollout
    prework_missing: list[str]          # teams whose answers are not back
    values_error: str | None = None


@dataclass
class AgendaItem:
    start: int
    end: int
    title: str
    points: list[str]


@dataclass
class Tracker:
    label: str
    task: str
    owner: str | None
    due: dt.date | None
    done: bool


@dataclass
class Kit:
    project: str
    today: dt.date
    topics: list[KitTopic]
    agenda: list[AgendaItem]
    checklist: tuple[tuple[str, str], ...]
    tracker: list[Tracker]
    typical_follow_ups: tuple[str, ...] = TYPICAL_FOLLOW_UPS
    rule: str = RULE
    cost: tuple[str, ...] = COST

    @property
    def labels(self) -> list[str]:
        return [t.label for t in self.topics]


def topics_for_kit(project: Project, labels: list[str]) -> list[Topic]:
    """One to three labels, each known; more is refused (pick the ones causing the most pain now)."""
    if not labels:
        raise UserError("name one to three labels, such as accord workshop kit Pipeline")
    if len(labels) > MAX_LABELS:
        raise UserError(f"{len(labels)} labels given; a workshop settles one to three. pick the ones causing "
                        "the most decision pain right now and run another workshop for the rest")
    out: list[Topic] = []
    for label in labels:
        t = topic(project, label)
        if t.key not in {x.key for x in out}:
            out.append(t)
    return out


def build_kit(project: Project, labels: list[str], today: dt.date, engine=None) -> Kit:
    topics = topics_for_kit(project, labels)
    from accord.analyze.collisions import last_complete_values
    names = [m.name for t in topics for m in t.metrics]
    values_error = None
    period, values = "", {}
    if engine is not None:
        try:
            period, values = last_complete_values(project, engine, names, today)
        except UserError as e:
            values_error = f"values could not be computed: {e.lines()[0]}"
    kit_topics = [_topic(project, t, today, engine, period, values, values_error) for t in topics]
    tracker = [Tracker(t.label, f.task, f.owner, f.due, f.done)
               for t in topics if t.decision for f in t.decision.follow_ups]
    return Kit(project.name, today, kit_topics, agenda(kit_topics), CHECKLIST, tracker)


def _topic(project: Project, t: Topic, today: dt.date, engine, period: str, values: dict,
           values_error: str | None) -> KitTopic:
    from accord.analyze.collisions import differences
    answers = read_answers(project, t)
    versions = [_version(project, m, values.get(m.name), answers.get(m.team)) for m in t.metrics]
    bridges = _bridges(project, t.metrics, engine, period) if engine is not None and period else []
    missing = [team for team in t.teams if team not in answers or not answers[team].returned]
    return KitTopic(t.label, t.slug, period, versions, differences(project, t.metrics), bridges,
                    decision_table(project, t.metrics, answers), rollout(project, t.label, today),
                    missing, values_error)


def _version(project: Project, m: Metric, value: float | None, answers: Answers | None) -> Version:
    own = answers.metrics.get(m.name, {}) if answers else {}
    system = (project.source(m.source).system or m.source) if m.kind == "simple" else m.kind
    return Version(m.name, m.display_label, m.team, m.owner, own.get("definition") or m.description,
                   exact_definition(project, m), system, own.get("decision") or m.decision, value, m.unit,
                   m.confidence, m.status, fingerprint(project, m), own.get("trusted_report"),
                   answers.others_wrong if answers else None, answers.answered_by if answers else None)


def _cell(yaml_text: str | None, answer: str | None) -> Cell:
    """The YAML's answer and the team's own, both shown when they differ."""
    if answer and yaml_text and answer.strip().lower() != yaml_text.strip().lower():
        return Cell(f"{answer} (YAML: {yaml_text})", "both")
    if answer:
        return Cell(answer, "prework")
    return Cell(yaml_text, "yaml")


def decision_table(project: Project, metrics: tuple[Metric, ...], answers: dict[str, Answers]) -> list[Row]:
    """The metric decision table, one column per definition, pre-filled; a blank is an open question."""
    columns = []
    for m in metrics:
        a = answers.get(m.team)
        own = a.metrics.get(m.name, {}) if a else {}
        if m.kind == "simple":
            src = project.source(m.source)
            parts = [f"{m.measure} of {src.entity or 'records'} in {m.source}, dated by {m.time or src.time}"]
            parts += [f"{c.name} ({c.sql})" for c in m.include or ()]
            includes = "; ".join(parts)
            excludes = ("; ".join(f"{c.name} ({c.sql})" for c in m.exclude) if m.exclude
                        else "nothing, on purpose" if m.exclude == () else None)
            where = logic_path(project, m).split(":")[0]
            where += f", {src.path or src.table or 'SQL over other sources'}"
        else:
            includes, excludes, where = logic_path(project, m), None, "computed by accord from other metrics"
        lead = team_lead(project, m.team)
        columns.append({
            "decision": _cell(m.decision, own.get("decision")),
            "includes": _cell(includes, None),
            "excludes": Cell(excludes),
            "calculated": _cell(where, own.get("source")),
            "owner": Cell(m.owner or (f"{lead} (team lead; no owner named)" if lead else None)),
            "confidence": Cell(m.confidence),
        })
    return [Row(key, question, hint, [c[key] for c in columns]) for key, question, hint in TABLE_QUESTIONS]


def _bridges(project: Project, metrics: tuple[Metric, ...], engine, period: str) -> list[BridgeView]:
    """The record-by-record bridge between each pair of definitions, or why there is none."""
    from accord.analyze.bridge import reconcile
    from accord.analyze.bridge_words import sentence
    teams = {m.name: m.team for m in project.metrics}
    out = []
    for a, b in combinations(metrics, 2):
        view = BridgeView(a.name, b.name, period)
        try:
            br = reconcile(project, engine, a.name, b.name, period)
        except UserError as e:
            view.refused = e.lines()[0]
            out.append(view)
            continue
        data = br.as_dict()
        entity = project.source(a.source).entity
        view.start, view.end, view.gap = data["a"]["value"], data["b"]["value"], data["gap"]
        steps = data["steps"]
        shown = steps[:BRIDGE_STEPS]
        view.steps = [(s["delta"], sentence(s, data["a"], data["b"], entity, teams)) for s in shown]
        rest = steps[BRIDGE_STEPS:]
        if rest:
            view.steps.append((sum(s["delta"] for s in rest), f"{len(rest)} smaller differences"))
        out.append(view)
    return out


def agenda(topics: list[KitTopic]) -> list[AgendaItem]:
    labels = ", ".join(f"'{t.label}' ({len(t.versions)} versions)" for t in topics)
    return [
        AgendaItem(0, 10, "Frame the decision", [
            f"The rule: {RULE}",
            "The cost of staying misaligned: " + "; ".join(COST) + ".",
            "This is an operating decision, not a courtroom."]),
        AgendaItem(10, 25, "Show the competing definitions side by side", [
            f"On the board as submitted, not summarized: {labels}.",
            "For each: the label, the exact definition, the source system, the meeting it serves, the team "
            "defending it, its current value and the bridge between the numbers."]),
        AgendaItem(25, 45, "Build the metric decision table", [
            "One table per label: decision supported, inclusions, exclusions, where it is calculated, who owns "
            "changes, the confidence required.",
            "Fill in every blank; a blank left is a question for the next step."]),
        AgendaItem(45, 65, "Force the highest-cost decisions", [
            "Which definition is canonical for the decision that matters most.",
            "Which alternates stay valid for other uses, and under which label.",
            "What caveats remain true today; what system or model changes come next.",
            "If the room cannot agree, record the conflict: a visible unresolved decision is healthier than "
            "fake consensus."]),
        AgendaItem(65, 80, "Assign owners and follow-up fixes", [
            "Each fix gets one owner and a date in the follow-up tracker.",
            "Typical fixes: " + ", ".join(TYPICAL_FOLLOW_UPS) + "."]),
        AgendaItem(80, 90, "Lock the rollout message", [
            "Which definition is official, where to use it, which related versions stay valid for which use, "
            "where the source of truth lives, caveats, who owns future changes.",
            "Plain and boring: clear beats impressive. Record it with accord workshop decide, send it with "
            "accord workshop rollout."]),
    ]

"""`accord workshop prework LABEL`: what each team sends before the workshop, and reading their answers back.

One request per team that defines a metric with the label: its current definition in one sentence
(pre-filled from `description`), the report or dashboard it trusts most, the source system or logic path,
the decision the number supports, and what it believes is wrong or incomplete about the other teams'
versions. The answer template is `prework/<label>/<team>.yml`; `accord workshop kit` reads it back.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap

from accord.errors import Problem, UserError
from accord.project.atomic import ABSENT, make_folder, write_file
from accord.project.lint import team_lead
from accord.project.model import Metric, Project
from accord.project.yamlfile import read_yaml
from accord.workshop.topic import Topic
from accord.words import possessive

PREWORK_DIR = "prework"

# (key, the question as asked, what pre-fills it)
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("definition", "Your current definition of this number, in one sentence"),
    ("trusted_report", "The report or dashboard you trust most for this number"),
    ("source", "The source system or logic path behind it"),
    ("decision", "The main decision your team uses this number to support"),
)
SHARPER = ("others_wrong", "What do you believe is wrong or incomplete about the other teams' versions?")


@dataclass
class Request:
    """One team's pre-work request: its own versions, pre-filled, and the others' to comment on."""

    label: str
    slug: str
    team: str
    lead: str | None
    own: list[dict]            # per metric: name, description, exact, and the pre-filled answers
    others: list[dict]         # the other teams' versions: team, metric, description, exact


@dataclass
class Answers:
    """One team's returned answers: per metric {question key: text, or None when blank or left as pre-filled},
    and the sharper question."""

    team: str
    file: str
    answered_by: str | None = None
    metrics: dict[str, dict[str, str | None]] = field(default_factory=dict)
    others_wrong: str | None = None
    returned: bool = False     # something was answered beyond what the template pre-filled


def logic_path(project: Project, m: Metric) -> str:
    """Where and how the number is calculated, in one line: 'crm (crm_opportunities): sum(amount) by created_at,
    only qualified stages, excluding renewals'."""
    if m.kind == "ratio":
        return f"ratio of {m.ratio.numerator} to {m.ratio.denominator}"
    if m.kind == "formula":
        return f"formula {m.formula}"
    src = project.source(m.source)
    where = f"{src.system} ({src.name})" if src.system else src.name
    text = f"{where}: {m.measure} by {m.time or src.time or 'no time column'}"
    if m.include:
        text += ", only " + ", ".join(c.name for c in m.include)
    if m.exclude:
        text += ", excluding " + ", ".join(c.name for c in m.exclude)
    return text


def exact_definition(project: Project, m: Metric) -> list[str]:
    """The definition as written, one part per line: measure, time, each include and exclude with its SQL."""
    if m.kind == "ratio":
        return [f"ratio: {m.ratio.numerator} / {m.ratio.denominator}"]
    if m.kind == "formula":
        return [f"formula: {m.formula}"]
    src = project.source(m.source)
    lines = [f"{m.measure} over {m.source}", f"dated by {m.time or src.time or '(no time column)'}"]
    lines += [f"only: {c.name} ({c.sql})" for c in m.include or ()]
    lines += [f"excluding: {c.name} ({c.sql})" for c in m.exclude or ()]
    if m.exclude == ():
        lines.append("excluding nothing, on purpose")
    return lines


def requests(project: Project, t: Topic) -> list[Request]:
    out = []
    for team in t.teams:
        own = [m for m in t.metrics if m.team == team]
        others = [m for m in t.metrics if m.team != team]
        out.append(Request(
            t.label, t.slug, team, team_lead(project, team),
            own=[{"metric": m.name, "owner": m.owner, "description": _one_line(m.description),
                  "exact": exact_definition(project, m),
                  "answers": {"definition": _one_line(m.description), "trusted_report": None,
                              "source": logic_path(project, m), "decision": m.decision}} for m in own],
            others=[{"team": m.team, "metric": m.name, "description": _one_line(m.description),
                     "exact": exact_definition(project, m)} for m in others]))
    return out


def _one_line(text: str | None) -> str | None:
    return " ".join(text.split()) if text else None


def answer_template(r: Request) -> str:
    """The YAML a team fills in: questions as comments, what the YAML already says pre-filled."""
    doc = CommentedMap()
    doc["label"] = r.label
    doc["team"] = r.team
    doc["answered_by"] = None
    answers = CommentedMap()
    for own in r.own:
        entry = CommentedMap()
        for key, question in QUESTIONS:
            entry[key] = own["answers"][key]
            entry.yaml_set_comment_before_after_key(key, before=question + _prefilled(key), indent=4)
        answers[own["metric"]] = entry
    doc["answers"] = answers
    doc[SHARPER[0]] = None
    doc.yaml_set_comment_before_after_key(
        SHARPER[0], before=f"{SHARPER[1]} ({', '.join(sorted({o['team'] for o in r.others})) or 'none'})")
    doc.yaml_set_start_comment(
        f"Pre-work for the metric alignment workshop on '{r.label}', team {r.team}.\n"
        "Correct the pre-filled answers if they are not what your team means; fill in the empty ones.\n"
        f"Keep this file at {PREWORK_DIR}/{r.slug}/{r.team}.yml: `accord workshop kit` reads it back.")
    y = YAML(typ="rt")
    y.width = 4096  # answers stay on one line each
    y.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    y.dump(doc, out)
    return out.getvalue()


def _prefilled(key: str) -> str:
    return {"definition": " (pre-filled from the description)", "source": " (pre-filled from the definition)",
            "decision": " (pre-filled from decision:)"}.get(key, "")


def write_prework(project: Project, t: Topic, out_dir: Path, markdown: callable) -> tuple[list[Path], list[Path]]:
    """Write `<out_dir>/<slug>/<team>.md` and `.yml` for each team; answers already there are never overwritten.

    Returns (written, kept)."""
    written, kept = [], []
    folder = out_dir / t.slug
    make_folder(folder)
    for r in requests(project, t):
        for path, text in ((folder / f"{r.team}.md", markdown(r)), (folder / f"{r.team}.yml", answer_template(r))):
            if path.suffix == ".yml" and path.exists():
                kept.append(path)
                continue
            write_file(path, text, expected_hash=ABSENT if path.suffix == ".yml" else None)
            written.append(path)
    return written, kept


def read_answers(project: Project, t: Topic, folder: Path | None = None) -> dict[str, Answers]:
    """Each team's returned answers from `prework/<slug>/<team>.yml` (teams without a file are left out)."""
    folder = folder if folder is not None else project.root / PREWORK_DIR / t.slug
    out: dict[str, Answers] = {}
    if not folder.is_dir():
        return out
    problems: list[Problem] = []
    prefilled = {own["metric"]: {k: _text(v) for k, v in own["answers"].items()}
                 for r in requests(project, t) for own in r.own}
    for path in sorted(folder.glob("*.yml")):
        rel = path.relative_to(project.root).as_posix() if path.is_relative_to(project.root) else path.as_posix()
        doc, errs = read_yaml(path, rel)
        if errs:
            problems += errs
            continue
        if not isinstance(doc, dict):
            problems.append(Problem(rel, 1, 0, "must be a mapping with team: and answers:. start again from "
                                               "`accord workshop prework`"))
            continue
        team = str(doc.get("team") or path.stem)
        a = Answers(team, rel, _text(doc.get("answered_by")), others_wrong=_text(doc.get(SHARPER[0])))
        given = doc.get("answers") or {}
        if not isinstance(given, dict):
            line = doc.lc.key("answers")[0] + 1
            problems.append(Problem(rel, line, 0, "answers: must be a mapping of metric names to answers. "
                                                  "start again from `accord workshop prework`"))
            continue
        for metric, entry in given.items():
            entry = entry if isinstance(entry, dict) else {}
            before = prefilled.get(str(metric), {})
            given = {key: _text(entry.get(key)) for key, _ in QUESTIONS}
            # an answer left as pre-filled is the YAML speaking, not the team
            a.metrics[str(metric)] = {k: None if v == before.get(k) else v for k, v in given.items()}
        a.returned = bool(a.answered_by or a.others_wrong or any(
            v is not None for answers in a.metrics.values() for v in answers.values()))
        out[team] = a
    if problems:
        raise UserError(problems)
    return out


def _text(value) -> str | None:
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def answer_path(project: Project, t: Topic, team: str) -> Path:
    return project.root / PREWORK_DIR / t.slug / f"{team}.yml"


def write_answers(project: Project, t: Topic, team: str, by: str, answers: dict[str, dict[str, str | None]],
                  others_wrong: str | None) -> Path:
    """Fill in `team`'s answer file for `t` (from the template when there is none yet), as `by`; the questions
    stay as comments. `answers`: per metric of the team, per question key, the text (None leaves it blank).
    The caller holds the project's write lock."""
    request = next((r for r in requests(project, t) if r.team == team), None)
    if request is None:
        teams = sorted(r.team for r in requests(project, t))
        raise UserError(f"team '{team}' defines no metric labelled '{t.label}', so it has no pre-work. "
                        f"teams with pre-work: {', '.join(teams)}")
    own = {o["metric"] for o in request.own}
    unknown = sorted(set(answers) - own)
    if unknown:
        raise UserError(f"metric '{unknown[0]}' is not one of team {possessive(team)} versions of '{t.label}' "
                        f"({', '.join(sorted(own))})")
    path = answer_path(project, t, team)
    text = path.read_text(encoding="utf-8") if path.exists() else answer_template(request)
    y = YAML(typ="rt")
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    doc = y.load(text)
    if not isinstance(doc, dict):
        doc = y.load(answer_template(request))
    doc["answered_by"] = by
    given = doc.get("answers")
    if not isinstance(given, dict):
        doc["answers"] = given = CommentedMap()
    for metric, values in answers.items():
        entry = given.get(metric)
        if not isinstance(entry, dict):
            given[metric] = entry = CommentedMap()
        for key, _ in QUESTIONS:
            if key in values:
                entry[key] = _one_line(values[key])
    doc[SHARPER[0]] = _one_line(others_wrong)
    out = io.StringIO()
    y.dump(doc, out)
    make_folder(path.parent)
    write_file(path, out.getvalue(), name=path.name)
    return path

"""`accord workshop decide`: the room's outcome for one label, written where decisions live.

Which definition is canonical and for which decisions, which alternates stay valid for which uses (and
under what new label), caveats, what is still unresolved, follow-ups with owners and dates, the review
cadence, the day it was decided and the fingerprint of every metric named, so that a later change of
definition shows up in `check` until it is approved.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from accord.errors import UserError, did_you_mean
from accord.project.atomic import locked, make_folder, read_bytes, write_file
from accord.project.fingerprint import fingerprint
from accord.project.model import Decision, FollowUp, Project
from accord.workshop.record import block_map, block_seq, set_key, write_decision
from accord.workshop.topic import Topic, find_decision, topic

REVIEW_CADENCES = ("month", "quarter", "year")

Ask = Callable[[str, str], str]   # (question, default) -> answer


@dataclass(frozen=True)
class Use:
    """A metric named in a decision: the decisions or uses it serves, and a new label for an alternate."""

    metric: str
    for_: tuple[str, ...] = ()
    rename_to: str | None = None


@dataclass
class DecisionSpec:
    """What `decide` was told. None means 'not given': kept from the decision on record, or asked for."""

    label: str
    decided_on: dt.date
    canonical: Use | None = None
    alternates: list[Use] | None = None
    owner: str | None = None
    caveats: list[str] | None = None
    unresolved: list[str] | None = None
    follow_ups: list[FollowUp] | None = None
    review_every: str | None = None


@dataclass
class Decided:
    path: Path
    created: bool
    decision: dict
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- parsing the command line's shorthand

def parse_alternate(text: str) -> Use:
    """'METRIC[|use1;use2][|New label]' → Use."""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) > 3 or not parts[0]:
        raise UserError(f"--alternate '{text}' is not METRIC[|use1;use2][|New label]. write it such as "
                        "--alternate 'marketing_sourced_pipeline|channel analysis|Marketing-sourced pipeline'")
    uses = tuple(u.strip() for u in parts[1].split(";") if u.strip()) if len(parts) > 1 else ()
    rename = parts[2] if len(parts) > 2 and parts[2] else None
    return Use(parts[0], uses, rename)


def parse_follow_up(text: str) -> FollowUp:
    """'TASK|OWNER|YYYY-MM-DD' → FollowUp (owner and date may be left empty)."""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) != 3 or not parts[0]:
        raise UserError(f"--follow-up '{text}' is not TASK|OWNER|YYYY-MM-DD. write it such as "
                        "--follow-up 'Remove stage Nurture from CRM|sales-ops@acme.example|2026-05-01'")
    due = None
    if parts[2]:
        try:
            due = dt.date.fromisoformat(parts[2])
        except ValueError:
            raise UserError(f"--follow-up '{text}': '{parts[2]}' is not a date. write YYYY-MM-DD, such as "
                            "2026-05-01") from None
    return FollowUp(task=parts[0], owner=parts[1] or None, due=due)


# ---------------------------------------------------------------- one word, one meaning

def display_label(project: Project, metric_name: str) -> str:
    """The label a metric is shown under once decided (see `Project.label_of`)."""
    return project.label_of(metric_name)


# ---------------------------------------------------------------- the guided mode

def guide(project: Project, spec: DecisionSpec, ask: Ask) -> DecisionSpec:
    """Ask for what the command line left out, one question at a time, with the YAML's answers as defaults."""
    t = topic(project, spec.label)
    on_record = t.decision
    spec = replace(spec)
    names = [m.name for m in t.metrics]
    if spec.canonical is None:
        listing = "; ".join(f"{i}. {m.name} ({m.team})" for i, m in enumerate(t.metrics, start=1))
        default = on_record.canonical[0].metric if on_record and on_record.canonical else ""
        while True:
            answer = ask(f"Which definition of '{t.label}' is canonical? {listing}", default).strip()
            chosen = names[int(answer) - 1] if answer.isdigit() and 0 < int(answer) <= len(names) else answer
            if project.has_metric(chosen):
                break
            ask(f"'{answer}' is not one of them.{did_you_mean(answer, names)} (press enter)", "")
        spec.canonical = Use(chosen)
    if not spec.canonical.for_:
        m = project.metric(spec.canonical.metric)
        kept = _recorded_use(on_record, spec.canonical.metric)
        default = "; ".join(kept.for_) if kept and kept.for_ else (m.decision or "")
        spec.canonical = replace(spec.canonical, for_=_split(
            ask(f"For which decisions is {m.name} the official number? (separate with ;)", default)))
    if spec.alternates is None:
        spec.alternates = []
        for m in t.metrics:
            if m.name == spec.canonical.metric:
                continue
            kept = _recorded_use(on_record, m.name)
            default = "; ".join(kept.for_) if kept and kept.for_ else (m.decision or "")
            uses = ask(f"Which uses does {m.name} ({m.team}) stay valid for? (separate with ;, '-' leaves it "
                       "out of the decision)", default).strip()
            if uses == "-":
                continue
            rename = ask(f"A new label for {m.name}, so that '{t.label}' means one thing? (blank keeps it)",
                         (kept.rename_to if kept and kept.rename_to else "")).strip()
            spec.alternates.append(Use(m.name, _split(uses), rename or None))
    if not spec.owner:
        default = on_record.owner if on_record else (project.metric(spec.canonical.metric).owner or "")
        while not spec.owner:
            spec.owner = ask("Who owns future changes to this decision? (an email)", default).strip() or None
            if spec.owner and not is_email(spec.owner):
                ask(f"'{spec.owner}' is not an email address. (press enter)", "")
                spec.owner = None
    if spec.caveats is None:
        spec.caveats = _many(ask, "A caveat that remains true today (blank to finish)")
    if spec.unresolved is None:
        spec.unresolved = _many(ask, "Anything the room could not agree on? Recorded, not smoothed over "
                                     "(blank to finish)")
    if spec.follow_ups is None:
        spec.follow_ups = []
        while True:
            answer = ask("A follow-up as TASK|OWNER|YYYY-MM-DD (blank to finish)", "").strip()
            if not answer:
                break
            try:
                spec.follow_ups.append(parse_follow_up(answer))
            except UserError as e:
                ask(f"{e.lines()[0]} (press enter)", "")
    if spec.review_every is None:
        default = on_record.review_every if on_record and on_record.review_every else "quarter"
        while spec.review_every not in REVIEW_CADENCES:
            spec.review_every = ask("Review it every month, quarter or year?", default).strip()
    return spec


def _split(text: str) -> tuple[str, ...]:
    return tuple(u.strip() for u in text.split(";") if u.strip())


def _many(ask: Ask, question: str) -> list[str]:
    out = []
    while True:
        answer = ask(question, "").strip()
        if not answer:
            return out
        out.append(answer)


def _recorded_use(decision: Decision | None, metric: str):
    if decision is None:
        return None
    return next((u for u in decision.canonical + decision.alternates if u.metric == metric), None)


# ---------------------------------------------------------------- recording

def missing(project: Project, spec: DecisionSpec) -> list[str]:
    """What must still be given when nobody can be asked (no terminal, or --no-input)."""
    on_record = find_decision(project, spec.label)
    out = []
    if spec.canonical is None and not (on_record and on_record.canonical):
        out.append("--canonical METRIC (the official definition)")
    if not spec.owner and on_record is None:
        out.append("--owner EMAIL (who owns future changes)")
    return out


def record_decision(project: Project, spec: DecisionSpec) -> Decided:
    """Write or update the decision for `spec.label`: in the file that holds it, else decisions/<label>.yml."""
    t = topic(project, spec.label)
    gaps = missing(project, spec)
    if gaps:
        raise UserError(f"to record a decision on '{t.label}', give {' and '.join(gaps)}; or run the command in a "
                        "terminal without --no-input to be asked")
    _check_names(project, t, spec)
    if spec.review_every is not None and spec.review_every not in REVIEW_CADENCES:
        raise UserError(f"--review-every '{spec.review_every}' is not one of {', '.join(REVIEW_CADENCES)}."
                        f"{did_you_mean(spec.review_every, REVIEW_CADENCES)}")
    on_record = t.decision
    label = on_record.label if on_record else t.label
    rel = on_record.location.file if on_record else f"decisions/{t.slug}.yml"
    path = project.root / rel
    decided = {}

    def change(item: CommentedMap | None) -> CommentedMap:
        item = item if item is not None else block_map([("label", label)])
        _apply(project, item, spec, decided)
        return item

    header = (f"# The decision on '{label}', recorded by `accord workshop decide`. Edit by hand or decide again;\n"
              "# `accord check` reports a metric whose definition changes until it is approved.\n")
    make_folder(path.parent, str(Path(rel).parent))
    with locked(path, name=rel):   # held until the decision is read back, so a restore undoes only ours
        original = read_bytes(path)
        created = write_decision(path, rel, label, project.settings.synonyms, change, header)
        _verify(project, path, rel, original, label)
    return Decided(path, created, decided, _notes(t, decided))


_EMAIL = re.compile(r"[^@\s]+@[^@\s.][^@\s]*")


def is_email(text: str) -> bool:
    return bool(_EMAIL.fullmatch(text.strip()))


def _check_names(project: Project, t: Topic, spec: DecisionSpec) -> None:
    named = ([spec.canonical] if spec.canonical else []) + list(spec.alternates or [])
    near = [m.name for m in t.metrics] + [m.name for m in project.metrics]
    for use in named:
        if not project.has_metric(use.metric):
            raise UserError(f"metric '{use.metric}' is not defined.{did_you_mean(use.metric, near)}")
    labelled = [m.name for m in t.metrics]
    if spec.canonical and spec.canonical.metric not in labelled:
        raise UserError(f"--canonical '{spec.canonical.metric}' is not labelled '{t.label}' (metrics labelled so: "
                        f"{', '.join(labelled) or 'none'}). name one of them, or label the metric '{t.label}' first")
    if spec.canonical and any(a.metric == spec.canonical.metric for a in spec.alternates or []):
        raise UserError(f"'{spec.canonical.metric}' is named both canonical and alternate. name it once")
    seen = set()
    for a in spec.alternates or []:
        if a.metric in seen:
            raise UserError(f"--alternate '{a.metric}' is given twice. give each alternate once")
        seen.add(a.metric)
    if spec.owner and not is_email(spec.owner):
        raise UserError(f"--owner '{spec.owner}' is not an email address. give the owner's email, such as "
                        "ana@example.com")


def _apply(project: Project, item: CommentedMap, spec: DecisionSpec, decided: dict) -> None:
    """Update the decision's YAML node in place: values given replace those on record; the rest stay."""
    set_key(item, "decided_on", spec.decided_on)
    if spec.owner:
        set_key(item, "owner", spec.owner)
    old_canonical = item.get("canonical") or []
    if spec.canonical is not None:
        set_key(item, "canonical", _entries(project, old_canonical, [spec.canonical]))
    elif old_canonical:
        _refresh(project, old_canonical)
    old_alternates = item.get("alternates") or []
    if spec.alternates is None and spec.canonical is not None and \
            any(isinstance(e, dict) and e.get("metric") == spec.canonical.metric for e in old_alternates):
        spec = replace(spec, alternates=[Use(e["metric"]) for e in old_alternates
                                         if isinstance(e, dict) and e.get("metric") != spec.canonical.metric])
    if spec.alternates is not None:
        if spec.alternates or old_alternates:
            set_key(item, "alternates", _entries(project, old_alternates, spec.alternates))
    elif old_alternates:
        _refresh(project, old_alternates)
    for key in ("caveats", "unresolved"):
        given = getattr(spec, key)
        if given is not None and (given or key in item) and list(item.get(key) or []) != given:
            set_key(item, key, block_seq(list(given)))
    if spec.follow_ups:
        set_key(item, "follow_ups", _follow_ups(item.get("follow_ups") or [], spec.follow_ups))
    if spec.review_every:
        set_key(item, "review_every", spec.review_every)
    decided.update(label=item["label"], owner=item.get("owner"),
                   canonical=[dict(e) for e in item.get("canonical") or []],
                   alternates=[dict(e) for e in item.get("alternates") or []])


def _entries(project: Project, old, uses: list[Use]):
    """Canonical or alternate entries: an entry already on record keeps its node (and comments)."""
    by_metric = {e.get("metric"): e for e in old if isinstance(e, dict)}
    out = []
    for use in uses:
        entry = by_metric.get(use.metric)
        if entry is None:
            entry = block_map([("metric", use.metric)])
        if use.for_:
            if list(entry.get("for") or []) != list(use.for_):
                _put(entry, "for", block_seq(list(use.for_), flow=True))
        if use.rename_to and entry.get("rename_to") != use.rename_to:
            _put(entry, "rename_to", use.rename_to)
        _put(entry, "fingerprint", fingerprint(project, project.metric(use.metric)))
        out.append(entry)
    if [e.get("metric") for e in old if isinstance(e, dict)] == [u.metric for u in uses] and \
            all(a is b for a, b in zip(old, out)):
        return old
    return block_seq(out)


def _refresh(project: Project, entries) -> None:
    for entry in entries:
        if isinstance(entry, dict) and project.has_metric(entry.get("metric", "")):
            _put(entry, "fingerprint", fingerprint(project, project.metric(entry["metric"])))


def _put(entry: CommentedMap, key: str, value) -> None:
    """Set `key` in an entry, placed in the order metric, for, rename_to, fingerprint when new."""
    if key in entry:
        if entry[key] != value:
            entry[key] = value
        return
    keys = list(entry.keys())
    order = ["metric", "for", "rename_to", "fingerprint"]
    position = sum(1 for k in keys if k in order and order.index(k) < order.index(key))
    entry.insert(position, key, value)


def _follow_ups(old, given: list[FollowUp]):
    """Follow-ups merge by task: a task on record keeps its `done`; a new one is appended."""
    seq = old if isinstance(old, CommentedSeq) else block_seq(list(old))
    by_task = {e.get("task"): e for e in seq if isinstance(e, dict)}
    for f in given:
        entry = by_task.get(f.task)
        if entry is None:
            entry = block_map([("task", f.task), ("owner", f.owner), ("due", f.due), ("done", False)])
            seq.append(entry)
            by_task[f.task] = entry
            continue
        for key, value in (("owner", f.owner), ("due", f.due)):
            if value is not None and entry.get(key) != value:
                entry[key] = value
    return seq


def _verify(project: Project, path: Path, rel: str, original: bytes | None, label: str) -> None:
    """Reload the project: a decision accord cannot read back is undone, and the reason given."""
    from accord.project.loader import load_project
    try:
        reloaded = load_project(project.root)
    except UserError:
        _restore(path, rel, original)
        raise
    if find_decision(reloaded, label) is None:
        _restore(path, rel, original)
        raise UserError(f"{rel} is not among the definitions files accord reads (see paths: in accord.yml). "
                        f"add a glob that matches it, such as decisions/*.yml, and decide again")


def _restore(path: Path, rel: str, original: bytes | None) -> None:
    if original is None:
        path.unlink(missing_ok=True)
        if path.parent.is_dir() and not any(path.parent.iterdir()):
            path.parent.rmdir()
    else:
        write_file(path, original, name=rel)


def _notes(t: Topic, decided: dict) -> list[str]:
    named = {e["metric"] for e in decided["canonical"] + decided["alternates"]}
    return [f"'{m.name}' ({m.team}) is labelled '{t.label}' but the decision does not name it: name it with "
            "--alternate, relabel it, or `accord check` keeps reporting the conflict"
            for m in t.metrics if m.name not in named]

"""Governance findings: what keeps a recorded decision honest after the workshop.

* `unresolved-conflict` (error): a label collision with no decision; a decision with unresolved items, or
  one that leaves a metric of its label unnamed.
* `unapproved-change` (error): a metric named in a decision whose definition no longer has the recorded
  fingerprint; the change in words when the agreed definition can be rebuilt from git.
* `review-overdue` (warning): the review period has passed since `decided_on`.
* `follow-up-overdue` (warning): today is after a follow-up's `due` and it is not done.

Decision findings point at the decision's YAML line. Who acts: the metric's owner for a metric's change
or an undecided collision, the decision's owner for the decision, the follow-up's owner for a follow-up.
"""
from __future__ import annotations

import calendar
import datetime as dt
import subprocess

from accord.analyze.collisions import group_label, label_groups
from accord.errors import UserError
from accord.findings import Finding
from accord.project.fingerprint import fingerprint
from accord.project.labels import normalize_label
from accord.project.lint import metric_owner
from accord.project.model import Decision, Metric, Project

MONTHS = {"month": 1, "quarter": 3, "year": 12}
HISTORY_DEPTH = 5   # revisions of a decision's file searched for the definition it agreed to


def next_review(decision: Decision) -> dt.date | None:
    """decided_on plus the review period (the day clamped to the month's length), else None."""
    if decision.review_every is None:
        return None
    on = decision.decided_on
    index = on.year * 12 + on.month - 1 + MONTHS[decision.review_every]
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(on.day, calendar.monthrange(year, month)[1]))


def named_metrics(project: Project, decision: Decision) -> tuple[str, ...]:
    """The metrics a decision names that exist, sorted."""
    return tuple(sorted({u.metric for u in decision.canonical + decision.alternates if project.has_metric(u.metric)}))


def _teams(project: Project, names) -> tuple[str, ...]:
    return tuple(sorted({project.metric(n).team for n in names if project.has_metric(n)}))


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _decision_evidence(d: Decision) -> dict:
    return {"label": d.label, "decided_on": d.decided_on.isoformat(), "decision_owner": d.owner}


# ---------------------------------------------------------------- unresolved-conflict

def unresolved_conflicts(project: Project, prints: dict[str, str]) -> list[Finding]:
    out: list[Finding] = []
    synonyms = project.settings.synonyms
    by_label = {normalize_label(d.label, synonyms): d for d in reversed(project.decisions)}
    for g in label_groups(project):
        if len({prints[m.name] for m in g.metrics}) < 2 or g.label in by_label:
            continue
        first = g.metrics[0]
        label = group_label(g)
        teams = sorted({m.team for m in g.metrics})
        out.append(Finding(
            "unresolved-conflict", "error",
            f"'{label}' means {len(g.metrics)} different things to {_and(teams)} and no decision says which "
            f"belongs to which decision: run the workshop (accord workshop kit '{label}') and record the outcome "
            f"(accord workshop decide '{label}')",
            metrics=tuple(m.name for m in g.metrics), teams=tuple(teams), owner=metric_owner(project, first),
            evidence={"label": label, "decision": None,
                      "fix": f"accord workshop decide '{label}' --canonical METRIC --owner EMAIL"},
            location=first.location))
    groups = {g.label: g for g in label_groups(project)}
    for d in project.decisions:
        key = normalize_label(d.label, synonyms)
        named = {u.metric for u in d.canonical + d.alternates}
        group = groups.get(key)
        unnamed = [m for m in (group.metrics if group else ()) if m.name not in named]
        if not d.unresolved and not unnamed:
            continue
        reasons = []
        if d.unresolved:
            reasons.append(f"{len(d.unresolved)} item{'s' if len(d.unresolved) != 1 else ''} unresolved: "
                           + "; ".join(d.unresolved))
        if unnamed:
            reasons.append(f"{_and([f'{m.name} ({m.team})' for m in unnamed])} "
                           f"{'is' if len(unnamed) == 1 else 'are'} labelled '{d.label}' but not named in it")
        metrics = tuple(sorted(set(named_metrics(project, d)) | {m.name for m in unnamed}))
        out.append(Finding(
            "unresolved-conflict", "error",
            f"the decision on '{d.label}' ({d.decided_on.isoformat()}) leaves " + "; and ".join(reasons),
            metrics=metrics, teams=_teams(project, metrics), owner=d.owner,
            evidence={**_decision_evidence(d), "unresolved": list(d.unresolved),
                      "unnamed": [m.name for m in unnamed],
                      "fix": f"settle them and decide again: accord workshop decide '{d.label}' --unresolved …"},
            location=d.location))
    return out


# ---------------------------------------------------------------- unapproved-change

def unapproved_changes(project: Project, prints: dict[str, str]) -> list[Finding]:
    out: list[Finding] = []
    history = _History(project)
    for d in project.decisions:
        for group in ("canonical", "alternates"):
            for use in getattr(d, group):
                if not project.has_metric(use.metric):
                    continue  # unknown-reference reports it
                now = prints[use.metric]
                if use.fingerprint == now:
                    continue
                m = project.metric(use.metric)
                out.append(_unapproved(project, d, m, use.fingerprint, now, history))
    return out


def _unapproved(project: Project, d: Decision, m: Metric, recorded: str | None, now: str,
                history: "_History") -> Finding:
    approvers = _and(sorted({d.owner} | ({m.owner} if m.owner else set())))
    how = (f"accord workshop approve {m.name} --by EMAIL ({approvers} may approve), or decide again "
           f"(accord workshop decide '{d.label}')")
    last = max([a.on for a in d.approvals if a.metric == m.name] + [d.decided_on])
    evidence = {**_decision_evidence(d), "recorded_fingerprint": recorded, "fingerprint": now,
                "approvers": sorted({d.owner} | ({m.owner} if m.owner else set())), "fix": how}
    if recorded is None:
        title = (f"'{m.name}' is named in the decision on '{d.label}' but no fingerprint of the agreed definition "
                 f"was recorded, so nobody can tell whether it changed: approve the current one with {how}")
        return Finding("unapproved-change", "error", title, metrics=(m.name,), teams=(m.team,),
                       owner=metric_owner(project, m), evidence=evidence, location=d.location)
    changes = history.changes(d, m, recorded)
    if changes:
        evidence["changes"] = changes
        what = "; ".join(changes)
    else:
        what = (f"its definition no longer has the fingerprint agreed on {last.isoformat()} "
                f"({recorded} → {now})")
    title = (f"'{m.name}' changed since the decision on '{d.label}' agreed to it ({last.isoformat()}): {what}. "
             f"approve it with {how}")
    return Finding("unapproved-change", "error", title, metrics=(m.name,), teams=(m.team,),
                   owner=metric_owner(project, m), evidence=evidence, location=d.location)


class _History:
    """Earlier versions of the project from git, read at most once each, to say what changed in words."""

    def __init__(self, project: Project):
        self.project = project
        self._loaded: dict[str, Project | None] = {}

    def changes(self, d: Decision, m: Metric, recorded: str) -> list[str]:
        from accord.analyze.drift import metric_changes
        for rev in self._revisions(d.location.file):
            old = self._load(rev)
            if old is None or not old.has_metric(m.name):
                continue
            try:
                if fingerprint(old, old.metric(m.name)) != recorded:
                    continue
                return metric_changes(old, self.project, old.metric(m.name), m) or [
                    "the definition of a metric it is computed from changed"]
            except (KeyError, UserError):
                continue
        return []

    def _revisions(self, rel: str) -> list[str]:
        try:
            done = subprocess.run(["git", "-C", str(self.project.root), "log", f"-n{HISTORY_DEPTH}", "--format=%H",
                                   "--", rel], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return []
        return done.stdout.split() if done.returncode == 0 else []

    def _load(self, rev: str) -> Project | None:
        if rev not in self._loaded:
            from accord.project.history import load_at_revision
            try:
                self._loaded[rev] = load_at_revision(self.project, rev)
            except UserError:
                self._loaded[rev] = None
        return self._loaded[rev]


# ---------------------------------------------------------------- review-overdue, follow-up-overdue

def overdue(project: Project, today: dt.date) -> list[Finding]:
    out: list[Finding] = []
    for d in project.decisions:
        metrics = named_metrics(project, d)
        teams = _teams(project, metrics)
        due = next_review(d)
        if due is not None and today > due:
            out.append(Finding(
                "review-overdue", "warning",
                f"the decision on '{d.label}' was due for review on {due.isoformat()} (every {d.review_every} "
                f"since {d.decided_on.isoformat()}): check it still fits and decide again",
                metrics=metrics, teams=teams, owner=d.owner,
                evidence={**_decision_evidence(d), "review_every": d.review_every, "review_due": due.isoformat(),
                          "days_overdue": (today - due).days,
                          "fix": f"accord workshop decide '{d.label}' (keeps what is on record, restarts the cadence)"},
                location=d.location))
        for f in d.follow_ups:
            if f.done or f.due is None or not today > f.due:
                continue
            out.append(Finding(
                "follow-up-overdue", "warning",
                f"follow-up '{f.task}' of the decision on '{d.label}' was due on {f.due.isoformat()} and is not done"
                + (f" ({f.owner})" if f.owner else ""),
                metrics=metrics, teams=teams, owner=f.owner or d.owner,
                evidence={**_decision_evidence(d), "task": f.task, "follow_up_owner": f.owner,
                          "due": f.due.isoformat(), "days_overdue": (today - f.due).days,
                          "fix": "do it and set done: true, or move due: with a reason"},
                location=d.location))
    return out


def governance_findings(project: Project, today: dt.date) -> list[Finding]:
    """unresolved-conflict, unapproved-change, review-overdue and follow-up-overdue."""
    prints = {m.name: fingerprint(project, m) for m in project.metrics}
    return unresolved_conflicts(project, prints) + unapproved_changes(project, prints) + overdue(project, today)

"""What matters most: open findings grouped into one decision each, ranked by a documented impact score.

A label's collision, its source disagreements and its unresolved conflict are one decision; so are the
contact policy's broken rules, the pairs of one handoff, and the findings of one governance kind (every
metric without an owner). Each group is scored

    impact = severity × grade × (1 + log10(1 + stake))

* severity: 3 for an error, 2 for a warning, 1 for info (the group's worst finding);
* grade: 3 when a board-grade metric is involved, 2 for decision-grade, 1 otherwise;
* stake: money at stake, in the metric's currency — for a label the gap between its largest and smallest
  value, for a source disagreement its bridge's gap, for a handoff the money the downstream side lost,
  for a stalled metric its distance to target — or, for the contact policy, the customers affected by its
  most-broken rule counted at `CUSTOMER_WEIGHT` each. Numbers that are not money or customers stake 0.

Ties go to the larger relative size (spread, gap or share), then to the group's key. This module only
groups and scores; `accord.report_items` puts each group into words.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping

from accord.findings import Finding

SEVERITY_WEIGHT = {"error": 3, "warning": 2, "info": 1}
GRADE_WEIGHT = {"board-grade": 3, "decision-grade": 2}
CUSTOMER_WEIGHT = 1_000   # one customer affected weighs as much as this much money at stake
CURRENCIES = ("usd", "eur", "gbp")
TOP = 5

LABEL_CODES = ("label-collision", "source-disagreement", "unresolved-conflict")
CONTACT_CODES = ("touchpoint-overload", "contact-during-open-case", "contact-in-quiet-hours")
# Governance findings of one kind are one sweep by their owners.
SWEEP_CODES = ("missing-owner", "missing-decision", "no-exclusions", "ratio-mismatch", "orphan-metric",
               "unknown-reference", "unsupported-contribution", "missing-balancing-metric", "accepted-expired", "review-overdue",
               "follow-up-overdue")


@dataclass(frozen=True)
class MetricFacts:
    """What the score needs to know of a metric."""

    confidence: str | None = None
    unit: str | None = None
    target: float | None = None


@dataclass(frozen=True)
class Group:
    """One decision: its kind, a key unique on the page, and the findings it gathers (the main one first)."""

    kind: str                       # "label", "contact", "handoff", "sweep" or "single"
    key: str
    findings: tuple[Finding, ...]

    @property
    def severity(self) -> str:
        return min((f.severity for f in self.findings), key=lambda s: -SEVERITY_WEIGHT[s])

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.code for f in self.findings))

    def of(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]


@dataclass(frozen=True)
class Impact:
    score: float
    severity: str
    grade: str | None
    stake: float                    # money, or customers for the contact policy
    stake_unit: str | None          # "usd", "eur", "gbp", "customers" or None
    relative: float                 # the tie-breaker: spread, gap or share


@dataclass(frozen=True)
class Ranked:
    group: Group
    impact: Impact


def group_findings(findings: Iterable[Finding]) -> list[Group]:
    """One group per decision, in the order each was first met."""
    findings = list(findings)
    label_of_metric: dict[str, str] = {}
    for f in findings:
        if f.code in ("label-collision", "unresolved-conflict") and f.evidence.get("label"):
            for name in f.metrics:
                label_of_metric.setdefault(name, f.evidence["label"])
    groups: dict[str, tuple[str, list[Finding]]] = {}

    def add(kind: str, key: str, f: Finding) -> None:
        groups.setdefault(key, (kind, []))[1].append(f)

    for f in findings:
        if f.code in LABEL_CODES:
            label = f.evidence.get("label") or next(
                (label_of_metric[m] for m in f.metrics if m in label_of_metric), None)
            add("label", f"label:{label.casefold()}" if label else f"single:{f.code}:{','.join(f.metrics)}", f)
        elif f.code in CONTACT_CODES:
            add("contact", "contact", f)
        elif f.code == "handoff-collision":
            add("handoff", f"handoff:{'→'.join(f.teams)}:{f.evidence.get('handoff', '')}", f)
        elif f.code in SWEEP_CODES:
            add("sweep", f"sweep:{f.code}", f)
        else:
            add("single", f"single:{f.code}:{','.join(f.metrics)}:{f.title}", f)
    order = {"label-collision": 0, "source-disagreement": 1, "unresolved-conflict": 2}
    out = []
    for key, (kind, fs) in groups.items():
        if kind == "label" and not key.startswith("single:"):
            fs = sorted(fs, key=lambda f: order[f.code])      # the collision first, then its bridges
        elif kind in ("contact", "handoff"):
            fs = sorted(fs, key=lambda f: (-SEVERITY_WEIGHT[f.severity], -_size(f)))
        out.append(Group(kind if not key.startswith("single:") else "single", key, tuple(fs)))
    return out


def _size(f: Finding) -> float:
    """How big one finding is, on its own scale: customers for contact rules, the downstream move for a
    handoff."""
    e = f.evidence
    if f.code in CONTACT_CODES:
        return float(e.get("customers") or 0)
    if f.code == "handoff-collision":
        return abs((e.get("downstream") or {}).get("change") or 0)
    return 0.0


def impact(group: Group, facts: Mapping[str, MetricFacts]) -> Impact:
    """The group's score (see the module's docstring)."""
    names = {m for f in group.findings for m in f.metrics}
    for f in group.findings:
        for d in f.evidence.get("definitions") or ():
            names.add(d.get("metric"))
    grades = [facts[n].confidence for n in names if n in facts]
    grade = next((g for g in ("board-grade", "decision-grade", "directional") if g in grades), None)
    stake, unit, relative = _stake(group, facts)
    weight = stake * CUSTOMER_WEIGHT if unit == "customers" else stake
    score = SEVERITY_WEIGHT[group.severity] * GRADE_WEIGHT.get(grade, 1) * (1 + math.log10(1 + max(weight, 0)))
    return Impact(score, group.severity, grade, stake, unit, relative)


def _unit(facts: Mapping[str, MetricFacts], name: str | None, given: str | None = None) -> str | None:
    return given or (facts[name].unit if name in facts else None)


def _stake(group: Group, facts: Mapping[str, MetricFacts]) -> tuple[float, str | None, float]:
    """(stake, its unit, relative size) of a group."""
    best = (0.0, None, 0.0)

    def keep(stake: float, unit: str | None, relative: float) -> None:
        nonlocal best
        money = unit in CURRENCIES or unit == "customers"
        if not money:
            stake, unit = 0.0, None
        if (stake, abs(relative)) > (best[0], abs(best[2])):
            best = (abs(stake), unit, abs(relative))

    for f in group.findings:
        e = f.evidence
        if f.code == "label-collision":
            values = [(d.get("value"), _unit(facts, d.get("metric"), d.get("unit")))
                      for d in e.get("definitions") or () if d.get("value") is not None]
            if len(values) > 1:
                keep(max(v for v, _ in values) - min(v for v, _ in values), values[0][1], e.get("spread") or 0)
            elif e.get("spread") is not None:
                keep(0.0, None, e["spread"])
        elif f.code == "source-disagreement" and e.get("gap") is not None:
            unit = _unit(facts, (e.get("a") or {}).get("metric"))
            keep(abs(e["gap"]), unit, e.get("gap_relative") or 0)
        elif f.code in CONTACT_CODES:
            keep(float(e.get("customers") or 0), "customers", e.get("customer_share") or 0)
        elif f.code == "handoff-collision":
            down = e.get("downstream") or {}     # what the next team lost is what is at stake
            values = down.get("values") or ()
            unit = _unit(facts, down.get("metric"), down.get("unit"))
            lost = abs(values[1] - values[0]) if len(values) == 2 and None not in values else 0.0
            keep(lost, unit, down.get("change") or 0)
        elif f.code == "green-but-stalled":
            name = e.get("metric")
            known = facts.get(name)
            if known and known.target is not None and e.get("value") is not None:
                keep(abs(known.target - e["value"]), known.unit,
                     abs(known.target - e["value"]) / abs(known.target) if known.target else 0)
    return best


def rank(findings: Iterable[Finding], facts: Mapping[str, MetricFacts]) -> list[Ranked]:
    """Every open decision, most impact first; accepted findings are left out."""
    groups = group_findings(f for f in findings if f.accepted is None)
    ranked = [Ranked(g, impact(g, facts)) for g in groups]
    ranked.sort(key=lambda r: (-round(r.impact.score, 9), -r.impact.relative, r.group.key))
    return ranked

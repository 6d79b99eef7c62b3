"""A label on the workshop's table: the metrics that share it, the decision recorded for it, its file name."""
from __future__ import annotations

import re
from dataclasses import dataclass

from accord.analyze.collisions import LabelGroup, group_label
from accord.errors import UserError, did_you_mean
from accord.project.labels import normalize_label
from accord.project.model import Decision, Metric, Project


@dataclass(frozen=True)
class Topic:
    label: str                       # as most plainly written in the YAML
    key: str                         # normalized, synonyms applied
    metrics: tuple[Metric, ...]      # sorted by name
    decision: Decision | None

    @property
    def slug(self) -> str:
        return slug(self.label)

    @property
    def teams(self) -> tuple[str, ...]:
        """Teams in the order their first metric appears (by metric name)."""
        return tuple(dict.fromkeys(m.team for m in self.metrics))


def slug(label: str) -> str:
    """'Qualified leads' → 'qualified-leads': a file and folder name."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") or "label"


def label_key(project: Project, label: str) -> str:
    return normalize_label(label, project.settings.synonyms)


def find_decision(project: Project, label: str) -> Decision | None:
    """The decision recorded for a label (compared like labels are), else None."""
    key = label_key(project, label)
    return next((d for d in project.decisions if label_key(project, d.label) == key), None)


def topic(project: Project, label: str) -> Topic:
    """The metrics behind one label; an unknown label is refused with the nearest one named."""
    key = label_key(project, label)
    metrics = tuple(sorted((m for m in project.metrics if label_key(project, m.display_label) == key),
                           key=lambda m: m.name))
    decision = find_decision(project, label)
    if not metrics:
        groups = _groups(project)
        written = sorted(_as_written(ms, k) for k, ms in groups.items())
        shared = sorted(_as_written(ms, k) for k, ms in groups.items() if len(ms) > 1)
        known = f" labels used by several metrics: {', '.join(shared)}" if shared else ""
        raise UserError(f"no metric is labelled '{label}'.{_nearest(label, written)}{known}")
    return Topic(_as_written(metrics, key), key, metrics, decision)


def _as_written(metrics: tuple[Metric, ...], key: str) -> str:
    """The spelling most metrics use among those needing no synonym (ties: the first metric's)."""
    plain = [m.display_label for m in metrics if normalize_label(m.display_label) == key]
    if not plain:
        return group_label(LabelGroup(key, metrics))
    return max(dict.fromkeys(plain), key=plain.count)


def _nearest(label: str, labels: list[str]) -> str:
    """' Did you mean 'Pipeline'?', compared without case."""
    by_lower = {x.lower(): x for x in labels}
    hint = did_you_mean(label.lower(), by_lower)
    found = re.search(r"'(.*)'", hint)
    return f" Did you mean '{by_lower[found.group(1)]}'?" if found else ""


def _groups(project: Project) -> dict[str, tuple[Metric, ...]]:
    groups: dict[str, list[Metric]] = {}
    for m in project.metrics:
        groups.setdefault(label_key(project, m.display_label), []).append(m)
    return {k: tuple(sorted(v, key=lambda m: m.name)) for k, v in groups.items()}

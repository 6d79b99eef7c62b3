"""What a section of the report may use while the report is built: `ReportContext`, and the words shared by
`accord.report` (the metrics and findings) and `accord.report_sections` (everything else)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

from accord.check import CheckResult
from accord.project.model import Metric, Project
from accord.report_views import MetricView, Section


@dataclass
class ReportContext:
    """What a section builder may use: the project, the date, the check, the metrics as shown, and an engine
    opened on first use (and closed when the report is built)."""

    project: Project
    today: dt.date
    check: CheckResult
    engine_factory: Callable[[], Any]
    metrics: dict[str, MetricView] = field(default_factory=dict)
    last_day: dict[str, dt.date | None] = field(default_factory=dict)   # each metric's last data day
    _engine: Any = None

    @property
    def engine(self):
        if self._engine is None:
            self._engine = self.engine_factory()
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None


SectionBuilder = Callable[[ReportContext], "Section | None"]


def label_of(project: Project, m: Metric) -> str:
    """The word people say: the label a decision renamed it to, else its label, else the name in words."""
    renamed = project.label_of(m.name)
    if renamed != m.display_label:
        return renamed
    return m.label or m.name.replace("_", " ").capitalize()


def plural(n: int, word: str, many: str | None = None) -> str:
    from accord.words import plural as words_plural
    return words_plural(n, word, many)

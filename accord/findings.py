"""The one shape every diagnostic returns, with its ordering and acceptance."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

SEVERITIES = ("error", "warning", "info")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Location:
    file: str
    line: int

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line}


@dataclass(frozen=True)
class Finding:
    """One diagnostic: code, severity, the metrics and teams it names, who should act, and proof."""

    code: str
    severity: str
    title: str
    metrics: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    owner: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None
    accepted: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.severity not in _RANK:
            raise ValueError(f"unknown severity {self.severity!r}")

    def sort_key(self) -> tuple:
        return (_RANK[self.severity], self.code, self.metrics, self.title)

    def with_acceptance(self, accepted: dict[str, Any] | None) -> "Finding":
        return replace(self, accepted=accepted)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "title": self.title,
            "metrics": list(self.metrics),
            "teams": list(self.teams),
            "owner": self.owner,
            "evidence": self.evidence,
            "location": self.location.as_dict() if self.location else None,
            "accepted": self.accepted,
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Severity, then code, then metrics: the order DESIGN.md promises."""
    return sorted(findings, key=Finding.sort_key)


def at_or_above(severity: str, threshold: str) -> bool:
    return _RANK[severity] <= _RANK[threshold]

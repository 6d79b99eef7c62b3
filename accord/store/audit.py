"""The audit log: who did what, when, to which thing, with the before and after; refusals too."""
from __future__ import annotations

from dataclasses import dataclass

from accord.store.db import Database, now


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    who: str
    action: str
    target: str
    before: str | None
    after: str | None
    outcome: str


def record(db: Database, who: str, action: str, target: str, before: str | None = None,
           after: str | None = None, outcome: str = "done") -> None:
    """One line of the log. `outcome`: done, refused (403), conflict or invalid."""
    db.execute("INSERT INTO audit (at, who, action, target, before, after, outcome) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (now(), who, action, target, before, after, outcome))


def entries(db: Database, limit: int = 200) -> list[Entry]:
    return [Entry(*r) for r in db.query(
        "SELECT id, at, who, action, target, before, after, outcome FROM audit ORDER BY id DESC LIMIT ?", (limit,))]

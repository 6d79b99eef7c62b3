"""A person's change to several files at once, optimistic: the writer says which content it read (one hash over
the files) and is refused with a `Conflict` when any of them changed since, so nothing is silently overwritten.

One such change at a time per project (a lock file in `.accord/`); each file itself is written by
`accord.project.atomic.write_file` (atomic, under its folder's lock).
"""
from __future__ import annotations

import fcntl
import hashlib
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from accord.errors import UserError

_THREADS = threading.Lock()   # flock excludes processes; threads of one process also take this


class Conflict(UserError):
    """The files changed since the writer read them: `current` holds what they say now (path -> text)."""

    def __init__(self, paths: list[Path], current: dict[str, str]):
        names = ", ".join(p.name for p in paths)
        super().__init__(f"{names} changed since you opened it: someone else saved first. nothing was written; "
                         "read their change, then make yours again")
        self.current = current


def content_hash(paths: Iterable[Path]) -> str:
    """One hash over the files' names and bytes (a missing file counts as missing)."""
    h = hashlib.sha256()
    for p in sorted(Path(x) for x in paths):
        h.update(str(p).encode() + b"\0")
        h.update(p.read_bytes() if p.exists() else b"\0missing\0")
        h.update(b"\0")
    return h.hexdigest()[:32]


def read_texts(root: Path, paths: Iterable[Path]) -> dict[str, str]:
    out = {}
    for p in sorted(Path(x) for x in paths):
        rel = p.relative_to(root).as_posix() if p.is_relative_to(root) else p.as_posix()
        out[rel] = p.read_text(encoding="utf-8", errors="replace") if p.exists() else ""
    return out


@contextmanager
def guarded(root: Path, paths: list[Path], expected: str | None = None) -> Iterator[None]:
    """Hold the project's write lock; refuse with Conflict when `expected` is given and the files' content
    hash is no longer it."""
    lock_dir = Path(root) / ".accord"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with _THREADS, open(lock_dir / "write.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if expected is not None and content_hash(paths) != expected:
                raise Conflict(paths, read_texts(Path(root), paths))
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)

"""The store: accounts, sessions, the audit log and cached results — never definitions (those stay in YAML).

Every command names it the same way: the environment variable `ACCORD_STORE` (a URL, `sqlite:///path` or
`postgresql://…`), else `<project>/.accord/accord.db`. Never on a command line or in YAML.
"""
from __future__ import annotations

import os
from pathlib import Path

from accord.store.db import Database, connect
from accord.store.migrations import MIGRATIONS, SCHEMA_VERSION

__all__ = ["Database", "MIGRATIONS", "SCHEMA_VERSION", "open_store", "store_url"]

ENV = "ACCORD_STORE"


def store_url(project_root: Path) -> str:
    """The store's URL: `ACCORD_STORE`, else the SQLite file `<project>/.accord/accord.db`."""
    url = os.environ.get(ENV, "").strip()
    return url or f"sqlite:///{(Path(project_root) / '.accord' / 'accord.db').resolve()}"


def open_store(project_root: Path) -> Database:
    """The project's store, created or upgraded to the current schema."""
    url = store_url(project_root)
    if not os.environ.get(ENV, "").strip():
        folder = Path(project_root) / ".accord"
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# accord's store: accounts, sessions, the audit log; never commit it\n*\n")
    db = connect(url)
    db.migrate()
    return db

"""One small database interface over SQLite (the default) and PostgreSQL (psycopg), with migrations.

Queries are written with `?` placeholders; for PostgreSQL they become `%s`. Values are always parameters,
never spliced into SQL.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlparse

from accord.errors import UserError
from accord.store.migrations import MIGRATIONS, Migration

_DIALECT_WORDS = {
    "sqlite": {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "blob": "BLOB"},
    "postgresql": {"id": "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "blob": "BYTEA"},
}


def now() -> str:
    """The time as the store writes it: ISO 8601 in UTC, to the microsecond (sorts as text)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds")


def connect(url: str) -> "Database":
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path)
        if url.startswith("sqlite:////"):
            path = "/" + path.lstrip("/")
        if not path or path == "/":
            raise UserError(f"ACCORD_STORE '{url}' names no file. write sqlite:///path/to/accord.db")
        return SQLiteDatabase(Path(path))
    if parsed.scheme in ("postgresql", "postgres"):
        return PostgresDatabase(url)
    raise UserError(f"ACCORD_STORE is not a sqlite:/// or postgresql:// URL (it starts with '{parsed.scheme}:'). "
                    "write sqlite:///path/to/accord.db or postgresql://host/dbname")


class Database:
    """A store connection: `query`, `execute`, `transaction`, and `migrate` to the current schema."""

    dialect = ""

    # ------------------------------------------------------------ provided by each dialect
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    # ------------------------------------------------------------ shared
    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self.transaction() as cur:
            cur.execute(self._sql(sql), params)
            return [tuple(r) for r in cur.fetchall()]

    def one(self, sql: str, params: tuple = ()) -> tuple | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def execute(self, sql: str, params: tuple = ()) -> int:
        """Run one statement in its own transaction; the number of rows it changed."""
        with self.transaction() as cur:
            cur.execute(self._sql(sql), params)
            return cur.rowcount

    def run(self, cur, sql: str, params: tuple = ()):
        """One statement inside a transaction the caller holds."""
        cur.execute(self._sql(sql), params)
        return cur

    def version(self) -> int:
        with self.transaction() as cur:
            if not self._has_table(cur, "schema_version"):
                return 0
            cur.execute("SELECT max(version) FROM schema_version")
            row = cur.fetchone()
        return int(row[0] or 0)

    def migrate(self, to: int | None = None, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
        """Apply the migrations this store lacks (up to `to`), each in one transaction; the version reached."""
        with self.transaction() as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                        "what TEXT NOT NULL, applied_at TEXT NOT NULL)")
        current = self.version()
        latest = migrations[-1].version
        if current > latest:
            raise UserError(f"the store is at schema version {current}, newer than this accord knows "
                            f"({latest}). upgrade accord")
        for m in migrations:
            if m.version <= current or (to is not None and m.version > to):
                continue
            with self.transaction() as cur:
                for statement in m.statements:
                    cur.execute(statement.format(**_DIALECT_WORDS[self.dialect]))
                cur.execute(self._sql("INSERT INTO schema_version (version, what, applied_at) VALUES (?, ?, ?)"),
                            (m.version, m.what, now()))
            current = m.version
        return current

    def _has_table(self, cur, name: str) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        pass


class SQLiteDatabase(Database):
    """SQLite in WAL mode: readers never wait for the writer; one connection per thread."""

    dialect = "sqlite"

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Cursor]:
        conn = self._conn()
        if conn.in_transaction:          # nested: the outer transaction commits
            yield conn.cursor()
            return
        cur = conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            conn.rollback()
            raise
        conn.commit()

    def _has_table(self, cur, name: str) -> bool:
        cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,))
        return cur.fetchone() is not None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class PostgresDatabase(Database):
    """PostgreSQL through psycopg: one connection per thread, each transaction committed or rolled back."""

    dialect = "postgresql"

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError:
            raise UserError("ACCORD_STORE is a postgresql:// URL but psycopg is not installed. "
                            "pip install 'accord[postgres]'") from None
        self._psycopg = psycopg
        self.url = url
        self._local = threading.local()

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._psycopg.connect(self.url, autocommit=False)
            self._local.conn = conn
        return conn

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        conn = self._conn()
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            with conn.cursor() as cur:
                yield cur
            if depth == 0:
                conn.commit()
        except BaseException:
            if depth == 0:
                conn.rollback()
            raise
        finally:
            self._local.depth = depth

    def _has_table(self, cur, name: str) -> bool:
        cur.execute("SELECT to_regclass(%s)", (name,))
        return cur.fetchone()[0] is not None

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

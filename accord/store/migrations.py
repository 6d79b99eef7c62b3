"""The store's schema, one migration per version, applied in order and recorded in `schema_version`.

To change the schema, append one `Migration(version, what, statements)` with the next version number and
never edit one that has shipped: a store at any earlier version is upgraded by running the ones it lacks,
each in its own transaction. Statements are plain SQL that SQLite and PostgreSQL both accept; `{id}` stands
for an auto-numbered primary key and `{blob}` for a binary column (filled in per dialect). Add a test in
tests/test_store.py that builds a store at the previous version, writes to it and upgrades it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    what: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "accounts, sessions, the audit log and the store's own settings", (
        """CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)""",
        """CREATE TABLE accounts (
            email TEXT PRIMARY KEY,
            role TEXT NOT NULL,
            password_hash TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        """CREATE TABLE sessions (
            id_hash TEXT PRIMARY KEY,
            email TEXT NOT NULL REFERENCES accounts(email) ON DELETE CASCADE,
            csrf TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL)""",
        """CREATE INDEX sessions_by_email ON sessions(email)""",
        """CREATE TABLE audit (
            id {id},
            at TEXT NOT NULL,
            who TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            before TEXT,
            after TEXT,
            outcome TEXT NOT NULL)""",
    )),
    Migration(2, "cached results and sign-in attempts", (
        """CREATE TABLE cache (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            as_of TEXT NOT NULL,
            created_at TEXT NOT NULL,
            value {blob} NOT NULL)""",
        """CREATE TABLE sign_in_attempts (
            id {id},
            who TEXT NOT NULL,
            address TEXT NOT NULL,
            at TEXT NOT NULL,
            ok INTEGER NOT NULL)""",
        """CREATE INDEX attempts_by_who ON sign_in_attempts(who, at)""",
        """CREATE INDEX attempts_by_address ON sign_in_attempts(address, at)""",
    )),
    Migration(3, "API tokens", (
        """CREATE TABLE tokens (
            name TEXT PRIMARY KEY,
            token_hash TEXT NOT NULL UNIQUE,
            teams TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
    )),
    Migration(4, "digests sent (at most one per person per day) and one-time sign-in links", (
        """CREATE TABLE digests (
            person TEXT NOT NULL,
            day TEXT NOT NULL,
            state TEXT NOT NULL,
            message_id TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            claimed_by TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            error TEXT,
            memo TEXT NOT NULL,
            PRIMARY KEY (person, day))""",
        """CREATE TABLE sign_in_links (
            id_hash TEXT PRIMARY KEY,
            email TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_at TEXT)""",
        """CREATE INDEX sign_in_links_by_email ON sign_in_links(email, created_at)""",
        """CREATE TABLE digest_unsubscribed (
            person TEXT PRIMARY KEY,
            at TEXT NOT NULL)""",
    )),
    Migration(5, "the contact arbiter: claims and history touches, customers, states", (
        """CREATE TABLE arbiter_customers (
            customer TEXT PRIMARY KEY,
            created_at TEXT NOT NULL)""",
        """CREATE TABLE arbiter_touches (
            id {id},
            customer TEXT NOT NULL,
            team TEXT NOT NULL,
            channel TEXT NOT NULL,
            kind TEXT,
            at_us BIGINT NOT NULL,
            at TEXT NOT NULL,
            sent INTEGER NOT NULL,
            decision TEXT NOT NULL,
            rule TEXT,
            would_hold TEXT,
            origin TEXT NOT NULL,
            token TEXT,
            idempotency_key TEXT,
            fingerprint TEXT NOT NULL,
            answer TEXT NOT NULL,
            decided_at TEXT NOT NULL)""",
        """CREATE INDEX arbiter_touches_by_customer ON arbiter_touches(customer, at_us)""",
        """CREATE UNIQUE INDEX arbiter_touches_by_key ON arbiter_touches(token, idempotency_key)""",
        """CREATE TABLE arbiter_states (
            id {id},
            customer TEXT NOT NULL,
            state TEXT NOT NULL,
            opened_us BIGINT NOT NULL,
            resolved_us BIGINT NOT NULL,
            origin TEXT NOT NULL,
            updated_at TEXT NOT NULL)""",
        """CREATE INDEX arbiter_states_by_customer ON arbiter_states(customer, opened_us)""",
    )),
)

SCHEMA_VERSION = MIGRATIONS[-1].version

"""Bearer tokens for the JSON API: named, scoped to teams and to what they may do; kept only as SHA-256."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from accord.errors import UserError
from accord.store.db import Database, now

SCOPES = ("claim", "check", "states", "timeline", "replay", "monitor", "read")
DEFAULT_SCOPES = ("claim", "check")


@dataclass(frozen=True)
class Token:
    name: str
    teams: tuple[str, ...]
    scopes: tuple[str, ...]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_token(db: Database, name: str, teams: tuple[str, ...], scopes: tuple[str, ...]) -> str:
    """A new token (shown once); the store keeps its hash."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise UserError(f"token name '{name}' must be letters, digits, - and _. choose another")
    token = "acc_" + secrets.token_urlsafe(32)
    with db.transaction() as cur:
        db.run(cur, "SELECT 1 FROM tokens WHERE name = ?", (name,))
        if cur.fetchone():
            raise UserError(f"a token named '{name}' exists. revoke it first or choose another name")
        db.run(cur, "INSERT INTO tokens (name, token_hash, teams, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
               (name, _digest(token), ",".join(teams), ",".join(scopes), now()))
    return token


def token_for(db: Database, token: str) -> Token | None:
    row = db.one("SELECT name, teams, scopes FROM tokens WHERE token_hash = ?", (_digest(token),))
    if row is None:
        return None
    return Token(row[0], tuple(x for x in row[1].split(",") if x), tuple(x for x in row[2].split(",") if x))


def all_tokens(db: Database) -> list[tuple[Token, str]]:
    """Every token (never its secret) with when it was made."""
    return [(Token(r[0], tuple(x for x in r[1].split(",") if x), tuple(x for x in r[2].split(",") if x)), r[3])
            for r in db.query("SELECT name, teams, scopes, created_at FROM tokens ORDER BY name")]


def revoke(db: Database, name: str) -> None:
    if db.execute("DELETE FROM tokens WHERE name = ?", (name,)) == 0:
        raise UserError(f"no token is named '{name}'")

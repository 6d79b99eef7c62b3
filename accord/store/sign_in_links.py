"""One-time sign-in links: a random token, kept only as its SHA-256, valid 15 minutes, used at most once.

At most LINKS_PER_ACCOUNT links per account and LINKS_PER_ADDRESS asked from one address in 15 minutes (the
asks are rows of `sign_in_attempts` with `who` = "link:<email>", never counted as failed passwords).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from accord.store.accounts import ATTEMPTS_WINDOW, normal_email
from accord.store.db import Database, now

LIFETIME = dt.timedelta(minutes=15)
LINKS_PER_ACCOUNT = 3
LINKS_PER_ADDRESS = 10


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _ago(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.timezone.utc) - delta).isoformat(timespec="microseconds")


def limited(db: Database, email: str, address: str) -> bool:
    """Too many links asked lately for this account or from this address."""
    since = _ago(ATTEMPTS_WINDOW)
    by_who = db.one("SELECT count(*) FROM sign_in_attempts WHERE who = ? AND at > ?",
                    (f"link:{normal_email(email)}", since))[0]
    by_address = db.one("SELECT count(*) FROM sign_in_attempts WHERE who LIKE 'link:%' AND address = ? AND at > ?",
                        (address, since))[0]
    return by_who >= LINKS_PER_ACCOUNT or by_address >= LINKS_PER_ADDRESS


def asked(db: Database, email: str, address: str) -> None:
    """Record an ask (counted by `limited`, whether or not the account exists)."""
    db.execute("INSERT INTO sign_in_attempts (who, address, at, ok) VALUES (?, ?, ?, 1)",
               (f"link:{normal_email(email)}", address, now()))


def create(db: Database, email: str) -> str:
    """A new link token for `email` (shown once, in the email; the store keeps its hash)."""
    token = secrets.token_urlsafe(32)
    expires = (dt.datetime.now(dt.timezone.utc) + LIFETIME).isoformat(timespec="microseconds")
    db.execute("INSERT INTO sign_in_links (id_hash, email, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, NULL)",
               (_hash(token), normal_email(email), now(), expires))
    return token


def peek(db: Database, token: str) -> str | None:
    """The email a live, unused link is for, without using it."""
    row = db.one("SELECT email FROM sign_in_links WHERE id_hash = ? AND used_at IS NULL AND expires_at > ?",
                 (_hash(token), now()))
    return row[0] if row else None


def use(db: Database, token: str) -> str | None:
    """Use the link: its email when it was live and unused (it is then used up), else None."""
    with db.transaction() as cur:
        db.run(cur, "SELECT email FROM sign_in_links WHERE id_hash = ? AND used_at IS NULL AND expires_at > ?",
               (_hash(token), now()))
        row = cur.fetchone()
        if row is None:
            return None
        db.run(cur, "UPDATE sign_in_links SET used_at = ? WHERE id_hash = ? AND used_at IS NULL", (now(), _hash(token)))
        return row[0] if cur.rowcount == 1 else None

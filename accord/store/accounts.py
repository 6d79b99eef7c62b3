"""Accounts (argon2 password hashes), sign-in sessions and the record of sign-in attempts.

A session's id is a random token the browser keeps in a signed cookie; the store keeps only its SHA-256, so
a copy of the store signs nobody in. Sign-in is rate-limited per account and per address.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from accord.errors import UserError, did_you_mean
from accord.store.db import Database, now

ROLES = ("viewer", "member", "facilitator", "admin")
SESSION_LIFETIME = dt.timedelta(hours=12)
ATTEMPTS_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD = 10


@dataclass(frozen=True)
class Account:
    email: str
    role: str
    has_password: bool


@dataclass(frozen=True)
class Session:
    email: str
    role: str
    csrf: str
    expires_at: str


def normal_email(email: str) -> str:
    return email.strip().lower()


def _hasher():
    from argon2 import PasswordHasher
    return PasswordHasher()


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(f"the password has {len(password)} characters; it needs at least {MIN_PASSWORD}. "
                        "choose a longer one")
    return _hasher().hash(password)


def _verify(stored: str | None, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError
    if not stored:
        _hasher().hash("spend the same time as a real check")
        return False
    try:
        return _hasher().verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UserError(f"role '{role}' is not one of {', '.join(ROLES)}.{did_you_mean(role, ROLES)}")
    return role


def get_account(db: Database, email: str) -> Account | None:
    row = db.one("SELECT email, role, password_hash FROM accounts WHERE email = ?", (normal_email(email),))
    return Account(row[0], row[1], bool(row[2])) if row else None


def accounts(db: Database) -> list[Account]:
    return [Account(e, r, bool(h)) for e, r, h in
            db.query("SELECT email, role, password_hash FROM accounts ORDER BY email")]


def add_account(db: Database, email: str, role: str, password: str | None) -> Account:
    email = normal_email(email)
    check_role(role)
    hashed = hash_password(password) if password is not None else None
    with db.transaction() as cur:
        db.run(cur, "SELECT 1 FROM accounts WHERE email = ?", (email,))
        if cur.fetchone():
            raise UserError(f"{email} already has an account. change its password with accord users password "
                            f"{email}, or remove it first")
        db.run(cur, "INSERT INTO accounts (email, role, password_hash, created_at, updated_at) VALUES "
                    "(?, ?, ?, ?, ?)", (email, role, hashed, now(), now()))
    return Account(email, role, hashed is not None)


def set_password(db: Database, email: str, password: str) -> None:
    """A new password; every session of the account ends."""
    email = normal_email(email)
    hashed = hash_password(password)
    with db.transaction() as cur:
        db.run(cur, "UPDATE accounts SET password_hash = ?, updated_at = ? WHERE email = ?", (hashed, now(), email))
        if cur.rowcount == 0:
            raise UserError(f"{email} has no account. add it with accord users add {email}")
        db.run(cur, "DELETE FROM sessions WHERE email = ?", (email,))


def set_role(db: Database, email: str, role: str) -> None:
    check_role(role)
    if db.execute("UPDATE accounts SET role = ?, updated_at = ? WHERE email = ?",
                  (role, now(), normal_email(email))) == 0:
        raise UserError(f"{email} has no account. add it with accord users add {email}")


def remove_account(db: Database, email: str) -> None:
    """Remove the account and end its sessions at once."""
    email = normal_email(email)
    with db.transaction() as cur:
        db.run(cur, "DELETE FROM sessions WHERE email = ?", (email,))
        db.run(cur, "DELETE FROM accounts WHERE email = ?", (email,))
        if cur.rowcount == 0:
            raise UserError(f"{email} has no account. accord users list shows who has one")


# ---------------------------------------------------------------- signing in

def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _since(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.timezone.utc) - delta).isoformat(timespec="microseconds")


def rate_limited(db: Database, email: str, address: str) -> bool:
    """Too many failed sign-ins lately for this account or from this address."""
    since = _since(ATTEMPTS_WINDOW)
    by_who = db.one("SELECT count(*) FROM sign_in_attempts WHERE who = ? AND at > ? AND ok = 0",
                    (normal_email(email), since))[0]
    by_address = db.one("SELECT count(*) FROM sign_in_attempts WHERE address = ? AND at > ? AND ok = 0",
                        (address, since))[0]
    return by_who >= MAX_FAILURES_PER_ACCOUNT or by_address >= MAX_FAILURES_PER_ADDRESS


def sign_in(db: Database, email: str, password: str, address: str) -> str | None:
    """A new session token when the password is right and the attempt is not rate-limited; else None.
    Every attempt is recorded."""
    email = normal_email(email)
    if rate_limited(db, email, address):
        return None
    row = db.one("SELECT password_hash FROM accounts WHERE email = ?", (email,))
    ok = _verify(row[0] if row else None, password)
    db.execute("INSERT INTO sign_in_attempts (who, address, at, ok) VALUES (?, ?, ?, ?)",
               (email, address, now(), int(ok)))
    if not ok:
        return None
    return new_session(db, email)


def new_session(db: Database, email: str) -> str:
    token = secrets.token_urlsafe(32)
    expires = (dt.datetime.now(dt.timezone.utc) + SESSION_LIFETIME).isoformat(timespec="microseconds")
    db.execute("INSERT INTO sessions (id_hash, email, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
               (_digest(token), normal_email(email), secrets.token_urlsafe(32), now(), expires))
    return token


def session(db: Database, token: str) -> Session | None:
    """The live session a token opens (None when unknown, expired, or its account was removed)."""
    row = db.one("SELECT s.email, a.role, s.csrf, s.expires_at FROM sessions s JOIN accounts a ON a.email = s.email "
                 "WHERE s.id_hash = ?", (_digest(token),))
    if row is None or row[3] <= now():
        return None
    return Session(*row)


def end_session(db: Database, token: str) -> None:
    db.execute("DELETE FROM sessions WHERE id_hash = ?", (_digest(token),))


# ---------------------------------------------------------------- the signing key

def secret_key(db: Database) -> bytes:
    """`ACCORD_SECRET_KEY`, else a key generated once and kept in the store."""
    env = os.environ.get("ACCORD_SECRET_KEY")
    if env:
        return env.encode()
    with db.transaction() as cur:
        db.run(cur, "SELECT value FROM settings WHERE key = 'secret_key'")
        row = cur.fetchone()
        if row is None:
            key = secrets.token_hex(32)
            db.run(cur, "INSERT INTO settings (key, value) VALUES ('secret_key', ?)", (key,))
            return key.encode()
    return row[0].encode()


def sign(key: bytes, value: str) -> str:
    return value + "." + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def unsign(key: bytes, signed: str) -> str | None:
    value, _, mac = signed.rpartition(".")
    good = hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return value if value and hmac.compare_digest(mac, good) else None

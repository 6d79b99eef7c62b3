"""Digests sent: at most one per person per day, recorded before and after the SMTP transaction.

A row is claimed (`sending`) before a message goes out and marked `sent` once the server accepted it, or
`failed` when the server refused it outright (nothing was delivered, so a later run may try again). A row left
`sending` by a run that died mid-transaction is a delivery whose outcome is unknown: it is listed, never resent.
The primary key (person, day) is the guard, so several processes sending at once send each digest once.
"""
from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass

from accord.store.db import Database, now

SENDING, SENT, FAILED = "sending", "sent", "failed"


@dataclass(frozen=True)
class Record:
    person: str
    day: str
    state: str
    message_id: str
    attempts: int
    claimed_by: str
    started_at: str
    finished_at: str | None
    error: str | None
    memo: dict


_COLUMNS = "person, day, state, message_id, attempts, claimed_by, started_at, finished_at, error, memo"


def _record(row: tuple) -> Record:
    return Record(*row[:9], json.loads(row[9]))


def claimant() -> str:
    """Who claims a row: this machine and process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(db: Database, person: str, day: str, message_id: str, memo: dict) -> tuple[bool, Record | None]:
    """Claim the digest of `person` for `day` before sending it: (True, None) when this run may send it;
    (False, the record) when it was sent, or is being sent or was left unknown by another run."""
    with db.transaction() as cur:
        # the insert is the claim: of several processes inserting at once, exactly one row goes in
        db.run(cur, f"INSERT INTO digests ({_COLUMNS}) VALUES (?, ?, ?, ?, 1, ?, ?, NULL, NULL, ?) "
                    "ON CONFLICT (person, day) DO NOTHING",
               (person, day, SENDING, message_id, claimant(), now(), json.dumps(memo, sort_keys=True)))
        if cur.rowcount == 1:
            return True, None
        db.run(cur, f"SELECT {_COLUMNS} FROM digests WHERE person = ? AND day = ?", (person, day))
        found = _record(tuple(cur.fetchone()))
        if found.state != FAILED:
            return False, found
        db.run(cur, "UPDATE digests SET state = ?, message_id = ?, attempts = attempts + 1, claimed_by = ?, "
                    "started_at = ?, finished_at = NULL, error = NULL, memo = ? "
                    "WHERE person = ? AND day = ? AND state = ?",
               (SENDING, message_id, claimant(), now(), json.dumps(memo, sort_keys=True), person, day, FAILED))
        return (cur.rowcount == 1), (None if cur.rowcount == 1 else found)


def finish(db: Database, person: str, day: str, error: str | None = None) -> None:
    """After the SMTP transaction: sent, or failed with the server's refusal (which allows a retry)."""
    db.execute("UPDATE digests SET state = ?, finished_at = ?, error = ? WHERE person = ? AND day = ? AND state = ?",
               (FAILED if error else SENT, now(), error, person, day, SENDING))


def records(db: Database, day: str | None = None) -> list[Record]:
    where, params = ("WHERE day = ?", (day,)) if day else ("", ())
    return [_record(r) for r in db.query(f"SELECT {_COLUMNS} FROM digests {where} ORDER BY day, person", params)]


def last_sent(db: Database, person: str, before: str) -> Record | None:
    """The person's last digest sent before `day` (what "changed since your last digest" is measured from)."""
    row = db.one(f"SELECT {_COLUMNS} FROM digests WHERE person = ? AND day < ? AND state = ? "
                 "ORDER BY day DESC LIMIT 1", (person, before, SENT))
    return _record(row) if row else None


def unknown(db: Database) -> list[Record]:
    """Deliveries begun and never confirmed or refused: a run died during the SMTP transaction."""
    return [_record(r) for r in db.query(f"SELECT {_COLUMNS} FROM digests WHERE state = ? ORDER BY day, person",
                                         (SENDING,))]


def unsubscribe(db: Database, person: str) -> None:
    db.execute("INSERT INTO digest_unsubscribed (person, at) VALUES (?, ?) ON CONFLICT (person) DO NOTHING",
               (person, now()))


def resubscribe(db: Database, person: str) -> None:
    db.execute("DELETE FROM digest_unsubscribed WHERE person = ?", (person,))


def unsubscribed(db: Database) -> set[str]:
    return {r[0] for r in db.query("SELECT person FROM digest_unsubscribed")}


def unsubscribe_token(key: bytes, person: str) -> str:
    """A token that names `person` and proves the store's key made it (HMAC-SHA256), for unsubscribe links."""
    import base64
    import hashlib
    import hmac
    who = base64.urlsafe_b64encode(person.encode()).decode().rstrip("=")
    mac = hmac.new(key, f"unsubscribe:{person}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{who}.{mac}"


def person_of(key: bytes, token: str) -> str | None:
    """The person an unsubscribe token names, or None when it was not made with this key."""
    import base64
    import binascii
    import hmac
    who, _, mac = (token or "").partition(".")
    try:
        person = base64.urlsafe_b64decode(who + "=" * (-len(who) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return person if mac and hmac.compare_digest(unsubscribe_token(key, person), token) else None

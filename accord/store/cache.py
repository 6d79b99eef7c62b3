"""Results cached per (what, project content, as-of): a change to any YAML or data file is a new key.

Values are pickled and signed with the store's key, so a row that was not written by accord is never
unpickled.
"""
from __future__ import annotations

import hashlib
import hmac
import pickle
from typing import Any, Callable

from accord.store.db import Database, now


def _mac(key: bytes, blob: bytes) -> bytes:
    return hmac.new(key, blob, hashlib.sha256).digest()


def cached(db: Database, key: bytes, kind: str, content_hash: str, as_of: str, build: Callable[[], Any]) -> Any:
    """The stored value for (kind, content_hash, as_of), else `build()` stored and returned."""
    row_key = hashlib.sha256(f"{kind}\0{content_hash}\0{as_of}".encode()).hexdigest()
    row = db.one("SELECT value FROM cache WHERE key = ?", (row_key,))
    if row is not None:
        blob = bytes(row[0])
        mac, body = blob[:32], blob[32:]
        if hmac.compare_digest(mac, _mac(key, body)):
            return pickle.loads(body)
    value = build()
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    with db.transaction() as cur:
        db.run(cur, "DELETE FROM cache WHERE key = ? OR (kind = ? AND content_hash <> ?)", (row_key, kind, content_hash))
        db.run(cur, "INSERT INTO cache (key, kind, content_hash, as_of, created_at, value) VALUES (?, ?, ?, ?, ?, ?)",
               (row_key, kind, content_hash, as_of, now(), _mac(key, body) + body))
    return value


def clear(db: Database) -> int:
    return db.execute("DELETE FROM cache")

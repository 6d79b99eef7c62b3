"""The store: its URL, migrations from the previous version, accounts, sessions, rate limits, audit, cache."""
from __future__ import annotations

import re
import sqlite3

import pytest

from accord.errors import UserError
from accord.store import MIGRATIONS, SCHEMA_VERSION, open_store, store_url
from accord.store import accounts as acc
from accord.store import audit, cache
from accord.store.db import connect


pytestmark = pytest.mark.xdist_group("postgres")     # the run's one PostgreSQL (conftest, tests/servers.py)


def _url(server) -> str:
    return f"postgresql:///postgres?host={server.dir}&port={server.port}&user=postgres"


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    if request.param == "sqlite":
        d = connect(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        import psycopg
        url = _url(request.getfixturevalue("postgres"))
        name = f"t{abs(hash(request.node.nodeid)) % 10**9}"
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.execute(f"CREATE DATABASE {name}")
        d = connect(url.replace("/postgres?", f"/{name}?"))
    d.migrate()
    yield d
    d.close()


def test_the_store_is_named_by_the_environment_else_the_project_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("ACCORD_STORE", raising=False)
    assert store_url(tmp_path) == f"sqlite:///{(tmp_path / '.accord' / 'accord.db').resolve()}"
    db = open_store(tmp_path)
    assert (tmp_path / ".accord" / "accord.db").exists()
    assert (tmp_path / ".accord" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert db.version() == SCHEMA_VERSION
    monkeypatch.setenv("ACCORD_STORE", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    open_store(tmp_path).close()
    assert (tmp_path / "elsewhere.db").exists()
    monkeypatch.setenv("ACCORD_STORE", "mysql://x/y")
    with pytest.raises(UserError, match="not a sqlite:/// or postgresql:// URL"):
        open_store(tmp_path)


def test_a_store_at_the_previous_version_upgrades_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    old = connect(f"sqlite:///{path}")
    assert old.migrate(to=SCHEMA_VERSION - 1) == SCHEMA_VERSION - 1
    acc.add_account(old, "Kim@Acme.example", "member", "correct horse battery")
    audit.record(old, "kim@acme.example", "prework", "Pipeline/marketing", "a", "b")
    old.close()
    raw = sqlite3.connect(path)
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    raw.close()
    newest = {m.group(1) for s in MIGRATIONS[-1].statements for m in [re.match(r"CREATE TABLE (\w+)", s)] if m}
    assert newest and not newest & tables and "accounts" in tables

    new = connect(f"sqlite:///{path}")
    assert new.migrate() == SCHEMA_VERSION
    assert [r[0] for r in new.query("SELECT version FROM schema_version ORDER BY version")] == \
        [m.version for m in MIGRATIONS]
    assert acc.get_account(new, "kim@acme.example") == acc.Account("kim@acme.example", "member", True)
    assert acc.sign_in(new, "kim@acme.example", "correct horse battery", "127.0.0.1") is not None
    assert [(e.who, e.before, e.after) for e in audit.entries(new)] == [("kim@acme.example", "a", "b")]
    assert new.migrate() == SCHEMA_VERSION            # twice is a no-op


def test_a_store_newer_than_this_accord_is_refused(db):
    db.execute("INSERT INTO schema_version (version, what, applied_at) VALUES (?, 'future', 'now')",
               (SCHEMA_VERSION + 1,))
    with pytest.raises(UserError, match="newer than this accord knows"):
        db.migrate()


def test_passwords_are_argon2_hashes_and_a_short_one_is_refused(db):
    acc.add_account(db, "ana@acme.example", "facilitator", "a long enough pass")
    stored = db.one("SELECT password_hash FROM accounts")[0]
    assert stored.startswith("$argon2id$") and "a long enough pass" not in stored
    with pytest.raises(UserError, match="at least 10"):
        acc.set_password(db, "ana@acme.example", "short")
    with pytest.raises(UserError, match="already has an account"):
        acc.add_account(db, "ANA@acme.example", "viewer", None)
    with pytest.raises(UserError, match="not one of viewer, member, facilitator, admin"):
        acc.add_account(db, "x@acme.example", "owner", None)


def test_sessions_end_with_a_new_password_and_with_the_account(db):
    acc.add_account(db, "ana@acme.example", "member", "first password!")
    token = acc.sign_in(db, "ana@acme.example", "first password!", "10.0.0.1")
    assert acc.session(db, token).email == "ana@acme.example"
    assert acc.sign_in(db, "ana@acme.example", "wrong password", "10.0.0.1") is None
    acc.set_password(db, "ana@acme.example", "second password")
    assert acc.session(db, token) is None
    token = acc.sign_in(db, "ana@acme.example", "second password", "10.0.0.1")
    acc.remove_account(db, "ana@acme.example")
    assert acc.session(db, token) is None
    assert db.one("SELECT count(*) FROM sessions")[0] == 0


def test_an_expired_session_opens_nothing(db):
    acc.add_account(db, "ana@acme.example", "member", "first password!")
    token = acc.new_session(db, "ana@acme.example")
    db.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00+00:00'")
    assert acc.session(db, token) is None


def test_sign_in_is_rate_limited_per_account_and_per_address(db):
    acc.add_account(db, "ana@acme.example", "member", "right password")
    for _ in range(acc.MAX_FAILURES_PER_ACCOUNT):
        assert acc.sign_in(db, "ana@acme.example", "wrong", "10.0.0.1") is None
    # the right password is refused too while the account is limited, from any address
    assert acc.sign_in(db, "ana@acme.example", "right password", "10.0.0.2") is None
    acc.add_account(db, "kim@acme.example", "member", "kims password")
    for i in range(acc.MAX_FAILURES_PER_ADDRESS):
        acc.sign_in(db, f"nobody{i}@acme.example", "guess", "10.9.9.9")
    assert acc.sign_in(db, "kim@acme.example", "kims password", "10.9.9.9") is None
    assert acc.sign_in(db, "kim@acme.example", "kims password", "10.0.0.3") is not None
    # the window passes
    db.execute("UPDATE sign_in_attempts SET at = '2000-01-01T00:00:00+00:00'")
    assert acc.sign_in(db, "ana@acme.example", "right password", "10.0.0.1") is not None


def test_signed_values_refuse_any_change():
    key = b"k" * 32
    signed = acc.sign(key, "token-value")
    assert acc.unsign(key, signed) == "token-value"
    assert acc.unsign(key, signed[:-1] + ("0" if signed[-1] != "0" else "1")) is None
    assert acc.unsign(key, "token-valuf" + signed[len("token-value"):]) is None
    assert acc.unsign(b"x" * 32, signed) is None


def test_the_secret_key_is_made_once_and_kept(db, monkeypatch):
    monkeypatch.delenv("ACCORD_SECRET_KEY", raising=False)
    first = acc.secret_key(db)
    assert len(first) == 64 and acc.secret_key(db) == first
    monkeypatch.setenv("ACCORD_SECRET_KEY", "from the environment")
    assert acc.secret_key(db) == b"from the environment"


def test_the_cache_builds_once_per_key_and_refuses_a_forged_row(db):
    calls = []

    def build():
        calls.append(1)
        return {"value": len(calls)}

    key = b"s" * 32
    assert cache.cached(db, key, "report", "h1", "2026-10-05", build) == {"value": 1}
    assert cache.cached(db, key, "report", "h1", "2026-10-05", build) == {"value": 1}
    assert cache.cached(db, key, "report", "h1", "2026-10-06", build) == {"value": 2}
    assert cache.cached(db, key, "report", "h2", "2026-10-05", build) == {"value": 3}
    assert db.one("SELECT count(*) FROM cache WHERE content_hash = 'h1'")[0] == 0   # stale content dropped
    import pickle
    db.execute("UPDATE cache SET value = ?", (b"\0" * 32 + pickle.dumps({"value": "forged"}),))
    assert cache.cached(db, key, "report", "h2", "2026-10-05", build) == {"value": 4}


def test_a_digest_is_claimed_once_even_by_racing_threads_and_failed_ones_may_be_claimed_again(db):
    import threading

    from accord.store import digests as sent
    wins = []

    def claim():
        ok, _ = sent.claim(db, "kim@acme.example", "2026-03-02", "<m@acme.example>", {"findings": {}})
        wins.append(ok)

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == [False] * 5 + [True]
    assert [(r.person, r.state) for r in sent.unknown(db)] == [("kim@acme.example", "sending")]
    sent.finish(db, "kim@acme.example", "2026-03-02", error="550 mailbox unavailable")
    assert sent.claim(db, "kim@acme.example", "2026-03-02", "<m@acme.example>", {}) == (True, None)
    sent.finish(db, "kim@acme.example", "2026-03-02")
    ok, record = sent.claim(db, "kim@acme.example", "2026-03-02", "<m@acme.example>", {})
    assert not ok and (record.state, record.attempts) == ("sent", 2)
    assert sent.last_sent(db, "kim@acme.example", "2026-03-03").day == "2026-03-02"
    assert sent.last_sent(db, "kim@acme.example", "2026-03-02") is None
    sent.unsubscribe(db, "kim@acme.example")
    sent.unsubscribe(db, "kim@acme.example")
    assert sent.unsubscribed(db) == {"kim@acme.example"}

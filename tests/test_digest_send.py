"""Sending digests through a real SMTP server (aiosmtpd on a free local port): at most once per person per day,
a refusing or unreachable server gives one failure line per recipient and no duplicate, STARTTLS fails closed,
and a sender killed right after the server accepted a message is never resent: the rerun lists it as unknown.

The digests sent are small and built here (their numbers are tested in tests/test_digest.py).
"""
from __future__ import annotations

import datetime as dt
import email
import os
import subprocess
import sys
from email import policy
from pathlib import Path

import pytest

from accord import app
from accord.morning.content import Digest
from accord.render import digest as render
from accord.store import connect
from accord.store import digests as sent_store

ACCORD = [sys.executable, "-m", "accord"]
DAY = dt.date(2026, 3, 2)
PEOPLE = ["ana@x.example", "jo@x.example", "kim@x.example", "dev@x.example"]

DEFS = """
sources:
  - {name: orders, system: shop, path: orders.csv, entity: order, key: id, time: ordered_at}
metrics:
  - {name: revenue, label: Revenue, team: sales, level: company, owner: ana@x.example, source: orders,
     measure: sum(amount), decision: Budget, target: {direction: up, value: 100, period: month}}
  - {name: orders_count, label: Orders, team: marketing, level: function, owner: jo@x.example, source: orders,
     measure: count(*), decision: Campaigns, parents: [{metric: revenue}]}
teams:
  - {name: sales, lead: ana@x.example}
  - {name: marketing, lead: jo@x.example, members: [kim@x.example]}
  - {name: revops, lead: dev@x.example}
  - {name: outside, lead: someone@elsewhere.example}
"""
ORDERS = "id,amount,ordered_at\n" + "\n".join(
    f"{i},{10 + i % 7},{(dt.date(2026, 1, 1) + dt.timedelta(days=i % 60)).isoformat()}" for i in range(1, 200)) + "\n"


@pytest.fixture(scope="module")
def mailbox():
    from mailbox_server import serve
    with serve() as box:
        yield box


def _write(root: Path, port: int, tls: str = "none", extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "accord.yml").write_text(
        f"project: shop\nsettings: {{as_of: {DAY.isoformat()}}}\n"
        f"digest: {{from: metrics@x.example, allowed_domains: [x.example], always: true{extra}}}\n"
        f"smtp: {{host: 127.0.0.1, port: {port}, tls: {tls}}}\n")
    (root / "defs.yml").write_text(DEFS)
    (root / "orders.csv").write_text(ORDERS)
    return root


@pytest.fixture
def shop(tmp_path, mailbox, monkeypatch):
    monkeypatch.setenv("ACCORD_STORE", f"sqlite:///{tmp_path / 'store.db'}")
    mailbox.clear()
    return _write(tmp_path / "shop", mailbox.port)


def _message(d: Digest):
    return render.message(d, "metrics@x.example")


def _build(root: Path, to=None):
    project = app.load(root)
    db = app.store(project)
    return project, db, app.digests(project, DAY, to, db)


def test_each_person_gets_one_digest_and_a_second_run_sends_nothing(shop, mailbox):
    project, db, built = _build(shop)
    assert sorted(d.person for d in built.digests) == sorted(PEOPLE)
    assert built.refused == (("someone@elsewhere.example",
                              "outside digest.allowed_domains (x.example); not mailed"),)
    outcome = app.send_digests(project, db, built, _message, pause=0.01)
    assert sorted(outcome.sent) == sorted(PEOPLE) and outcome.lines() == []
    assert sorted(r[0][0] for r in mailbox.received) == sorted(PEOPLE)
    for rcpts, data in mailbox.received:
        m = email.message_from_bytes(data, policy=policy.default)
        assert m["To"] == rcpts[0] and m.get_content_type() == "multipart/alternative"
    again = app.send_digests(project, db, _build(shop)[2], _message, pause=0.01)
    assert again.sent == [] and sorted(again.already) == sorted(PEOPLE)
    assert len(mailbox.received) == len(PEOPLE)
    assert {(r.person, r.state) for r in sent_store.records(db)} == {(p, "sent") for p in PEOPLE}


def test_a_refused_recipient_is_one_line_and_a_rerun_sends_only_what_was_not_sent(shop, mailbox):
    project, db, built = _build(shop)
    mailbox.refuse = {"kim@x.example"}
    outcome = app.send_digests(project, db, built, _message, pause=0.01)
    assert outcome.lines() == ["kim@x.example: not sent: the server refused the recipient: 550 5.1.1 mailbox "
                               "unavailable"]
    assert sorted(outcome.sent) == sorted(set(PEOPLE) - {"kim@x.example"})
    mailbox.refuse = set()
    rerun = app.send_digests(project, db, built, _message, pause=0.01)
    assert rerun.sent == ["kim@x.example"] and rerun.lines() == []
    assert all(mailbox.to(p) == 1 for p in PEOPLE)


def test_a_busy_server_is_tried_again_with_backoff_then_each_recipient_fails_in_one_line(shop, mailbox):
    project, db, built = _build(shop, ["ana@x.example", "jo@x.example"])
    mailbox.busy = True
    outcome = app.send_digests(project, db, built, _message, tries=3, pause=0.01)
    assert [line.split(":")[0] for line in outcome.lines()] == ["ana@x.example", "jo@x.example"]
    assert all("451 4.3.2 try again later, after 3 tries" in line for line in outcome.lines())
    assert mailbox.received == []
    mailbox.busy = False
    assert sorted(app.send_digests(project, db, built, _message, pause=0.01).sent) == ["ana@x.example",
                                                                                       "jo@x.example"]


def test_an_unreachable_server_fails_every_recipient_and_claims_nobody(tmp_path, monkeypatch):
    from mailbox_server import free_port
    monkeypatch.setenv("ACCORD_STORE", f"sqlite:///{tmp_path / 'store.db'}")
    root = _write(tmp_path / "shop", free_port())
    project, db, built = _build(root)
    outcome = app.send_digests(project, db, built, _message, tries=2, pause=0.01)
    assert len(outcome.lines()) == len(PEOPLE)
    assert all("cannot reach the SMTP server 127.0.0.1:" in line and "after 2 tries" in line
               for line in outcome.lines())
    assert sent_store.records(db) == []


def test_starttls_fails_closed_when_the_server_does_not_offer_it(tmp_path, mailbox, monkeypatch):
    monkeypatch.setenv("ACCORD_STORE", f"sqlite:///{tmp_path / 'store.db'}")
    mailbox.clear()
    root = _write(tmp_path / "shop", mailbox.port, tls="starttls")
    project, db, built = _build(root, ["ana@x.example"])
    outcome = app.send_digests(project, db, built, _message, pause=0.01)
    assert outcome.lines() == [f"ana@x.example: not sent: the SMTP server 127.0.0.1:{mailbox.port} does not offer "
                               "STARTTLS, so nothing was sent in the clear. enable STARTTLS on it, or use tls: "
                               "implicit"]
    assert mailbox.received == []


def test_credentials_come_only_from_the_environment(tmp_path, mailbox, monkeypatch):
    monkeypatch.setenv("ACCORD_STORE", f"sqlite:///{tmp_path / 'store.db'}")
    root = _write(tmp_path / "shop", mailbox.port)
    text = (root / "accord.yml").read_text().replace("tls: none}", "tls: none, user_env: SMTP_U, password_env: SMTP_P}")
    (root / "accord.yml").write_text(text)
    monkeypatch.delenv("SMTP_U", raising=False)
    r = subprocess.run(ACCORD + ["digest", "--project", str(root), "--send"], capture_output=True, text=True,
                       env={**os.environ})
    assert r.returncode == 2
    assert r.stderr.strip() == ("accord.yml: smtp names the environment variable SMTP_U, which is not set. export "
                                "SMTP_U with the SMTP user")


@pytest.mark.slow
def test_a_sender_killed_midway_never_sends_twice_and_the_rerun_lists_the_unknown_one(shop, mailbox):
    to = sum((["--to", p] for p in PEOPLE), [])
    env = {**os.environ, "ACCORD_TEST_KILL_AFTER_ACCEPTED": "2"}
    killed = subprocess.run(ACCORD + ["digest", "--project", str(shop), "--send", *to], capture_output=True,
                            text=True, env=env)
    assert killed.returncode == -9, killed.stderr
    first = [r[0][0] for r in mailbox.received]
    assert len(first) == 2                      # the second was accepted, then the sender died
    rerun = subprocess.run(ACCORD + ["digest", "--project", str(shop), "--send", *to], capture_output=True,
                           text=True, env={k: v for k, v in os.environ.items() if k != "ACCORD_TEST_KILL_AFTER_ACCEPTED"})
    assert rerun.returncode == 1, rerun.stderr
    unknown = [line for line in rerun.stderr.splitlines() if "is unknown" in line]
    assert len(unknown) == 1 and unknown[0].startswith(f"{first[1]}: delivery of the digest of {DAY} is unknown")
    assert f"{first[0]}: already sent for {DAY}; not sent again" in rerun.stderr
    assert all(mailbox.to(p) == 1 for p in PEOPLE), mailbox.received
    third = subprocess.run(ACCORD + ["digest", "--project", str(shop), "--send", *to], capture_output=True,
                           text=True)
    assert third.returncode == 1 and len(mailbox.received) == len(PEOPLE)


def test_sending_processes_racing_for_one_person_send_once(shop, mailbox):
    """The store's (person, day) claim is the guard: of two claims for the same digest, one wins."""
    project, db, built = _build(shop, ["ana@x.example"])
    other = connect(f"sqlite:///{os.environ['ACCORD_STORE'].removeprefix('sqlite:///')}")
    assert sent_store.claim(other, "ana@x.example", DAY.isoformat(), "<x@y>", {}) == (True, None)
    outcome = app.send_digests(project, db, built, _message, pause=0.01)
    assert outcome.sent == [] and mailbox.received == []
    assert [p for p, _, _ in outcome.unknown] == ["ana@x.example"]


def test_digest_out_writes_one_file_per_person_in_each_format(shop, tmp_path, mailbox):
    for fmt, suffix in (("eml", ".eml"), ("html", ".html"), ("text", ".txt")):
        out = tmp_path / fmt
        r = subprocess.run(ACCORD + ["digest", "--project", str(shop), "--to", "jo@x.example", "--to",
                                     "ana@x.example", "--format", fmt, "--out", str(out)],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert sorted(p.name for p in out.iterdir()) == [f"ana@x.example{suffix}", f"jo@x.example{suffix}"]
    m = email.message_from_bytes((tmp_path / "eml" / "jo@x.example.eml").read_bytes(), policy=policy.default)
    assert m["To"] == "jo@x.example" and "Orders" in m.get_body(preferencelist=("plain",)).get_content()
    page = (tmp_path / "html" / "ana@x.example.html").read_text()      # revenue has two complete months
    assert 'src="cid:' not in page and 'src="data:image/png;base64,' in page
    assert mailbox.received == []           # building never sends


def test_a_delivery_left_unknown_is_listed_on_its_day_only(shop, mailbox):
    project, db, built = _build(shop, ["ana@x.example"])
    assert sent_store.claim(db, "ana@x.example", DAY.isoformat(), "<x@y>", {})[0]     # a run died mid-send
    same_day = app.send_digests(project, db, built, _message, pause=0.01)
    assert [p for p, _, _ in same_day.unknown] == ["ana@x.example"] and mailbox.received == []
    tomorrow = app.digests(project, DAY + dt.timedelta(days=1), ["ana@x.example"], db)
    next_day = app.send_digests(project, db, tomorrow, _message, pause=0.01)
    assert next_day.sent == ["ana@x.example"] and next_day.lines() == []

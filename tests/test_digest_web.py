"""`accord serve` and email: the digest sent once a day at digest.at (however many processes serve the store),
the signed unsubscribe link, and one-time sign-in links by email (15 minutes, once, rate-limited, audited), all
through a real SMTP server (aiosmtpd on a free local port).
"""
from __future__ import annotations

import datetime as dt
import email
import re
import threading
from email import policy
from urllib.parse import urlparse

import pytest

pytest.importorskip("httpx", reason="httpx is missing (pip install -e '.[test]')")
from starlette.testclient import TestClient  # noqa: E402

from accord import app  # noqa: E402
from accord.store import audit, connect  # noqa: E402
from accord.store import digests as sent_store  # noqa: E402
from accord.web import create_app  # noqa: E402
from accord.web.server import render_digest_for  # noqa: E402
from test_digest_send import PEOPLE, _write  # noqa: E402

BASE = "https://metrics.x.example"
UTC = dt.timezone.utc


@pytest.fixture(scope="module")
def mailbox():
    from mailbox_server import serve
    with serve() as box:
        yield box


@pytest.fixture
def shop(tmp_path, mailbox, monkeypatch):
    monkeypatch.setenv("ACCORD_STORE", f"sqlite:///{tmp_path / 'store.db'}")
    monkeypatch.setenv("ACCORD_SECRET_KEY", "a key for the tests, long enough to sign")
    mailbox.clear()
    root = _write(tmp_path / "shop", mailbox.port, extra=', at: "06:30"')
    with open(root / "accord.yml", "a") as f:
        f.write(f"serve: {{base_url: {BASE}}}\n")
    return root


def _received(mailbox) -> dict[str, email.message.EmailMessage]:
    return {rcpts[0]: email.message_from_bytes(data, policy=policy.default) for rcpts, data in mailbox.received}


def test_serve_sends_the_day_s_digests_once_after_digest_at_even_from_two_processes(shop, mailbox):
    project = app.load(shop)
    db = app.store(project)
    before = dt.datetime(2026, 3, 2, 6, 29, tzinfo=UTC)
    assert app.send_due_digests(project, db, render_digest_for, now=before) is None
    assert mailbox.received == []
    at = dt.datetime(2026, 3, 2, 6, 31, tzinfo=UTC)
    outcomes = []

    def process():       # each "process" has its own connection to the store
        own = connect(f"sqlite:///{shop.parent / 'store.db'}")
        outcomes.append(app.send_due_digests(app.load(shop), own, render_digest_for, now=at))

    runners = [threading.Thread(target=process) for _ in range(2)]
    for r in runners:
        r.start()
    for r in runners:
        r.join()
    assert sorted(o is None for o in outcomes) == [False, True]      # one took the day's run
    assert sorted(r[0][0] for r in mailbox.received) == sorted(PEOPLE)
    assert app.send_due_digests(project, db, render_digest_for, now=at + dt.timedelta(hours=3)) is None
    # the next morning is another day
    next_day = app.send_due_digests(project, db, render_digest_for, now=at + dt.timedelta(days=1))
    assert sorted(next_day.sent) == sorted(PEOPLE) and len(mailbox.received) == 2 * len(PEOPLE)


def test_a_day_s_run_left_unfinished_is_taken_over_and_sends_only_what_was_not_sent(shop, mailbox):
    project = app.load(shop)
    db = app.store(project)
    at = dt.datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    assert app.take_digest_run(db, at.date(), at)                # a process took it, sent one, and died
    ok, _ = sent_store.claim(db, "ana@x.example", "2026-03-02", "<m@x>", {})
    sent_store.finish(db, "ana@x.example", "2026-03-02")
    assert app.send_due_digests(project, db, render_digest_for, now=at + dt.timedelta(minutes=10)) is None
    later = app.send_due_digests(project, db, render_digest_for, now=at + dt.timedelta(minutes=31))
    assert sorted(later.sent) == sorted(set(PEOPLE) - {"ana@x.example"}) and later.already == ["ana@x.example"]


def test_the_unsubscribe_link_is_signed_and_stops_the_digest(shop, mailbox):
    project = app.load(shop)
    db = app.store(project)
    built = app.digests(project, dt.date(2026, 3, 2), ["jo@x.example"], db)
    app.send_digests(project, db, built, render_digest_for(project, db))
    msg = _received(mailbox)["jo@x.example"]
    link = re.fullmatch(r"<(.+)>", msg["List-Unsubscribe"]).group(1)
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and link.startswith(BASE + "/digest/unsubscribe?t=")
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert f'href="{BASE}/metrics/orders_count"' in html and link.replace("&", "&amp;") in html
    web = create_app(shop, warm=False, digests=False)
    c = TestClient(web, base_url="https://testserver", follow_redirects=False)
    path = urlparse(link).path + "?" + urlparse(link).query
    forged = path[:-3] + ("abc" if not path.endswith("abc") else "abd")
    assert c.get(forged).status_code == 400
    page = c.get(path)
    assert page.status_code == 200 and "No more morning digests to jo@x.example" in page.text
    assert sent_store.unsubscribed(db) == set()                   # opening the link changes nothing
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    t = re.search(r'name="t" value="([^"]+)"', page.text).group(1)
    assert c.post("/digest/unsubscribe", data={"csrf": token, "t": t}).status_code == 200
    assert sent_store.unsubscribed(db) == {"jo@x.example"}
    # a mail client's one-click POST (RFC 8058) for another person works without the page
    other = app.unsubscribe_link(project, db, "kim@x.example")
    r = TestClient(web, base_url="https://testserver").post(urlparse(other).path + "?" + urlparse(other).query,
                             data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and sent_store.unsubscribed(db) == {"jo@x.example", "kim@x.example"}
    again = app.digests(project, dt.date(2026, 3, 3), None, db)
    assert {d.person for d in again.digests} == set(PEOPLE) - {"jo@x.example", "kim@x.example"}
    assert ("jo@x.example", "unsubscribed from the digest; not mailed") in again.refused
    web.state.site.close()


def _web(shop):
    project = app.load(shop)
    db = app.store(project)
    app.add_user(project, db, "ana@x.example", "member", None)
    web = create_app(shop, warm=False, digests=False)
    return web, db, TestClient(web, base_url="https://testserver", follow_redirects=False)


def _ask(c: TestClient, who: str):
    page = c.get("/sign-in")
    assert "Send me a sign-in link" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return c.post("/sign-in/link", data={"csrf": token, "email": who, "next": "/"})


def test_a_sign_in_link_by_email_works_once_for_fifteen_minutes(shop, mailbox):
    web, db, c = _web(shop)
    r = _ask(c, "Ana@x.example")
    assert r.status_code == 200 and "a sign-in link is on its way" in r.text
    (rcpts, data), = mailbox.received
    body = email.message_from_bytes(data, policy=policy.default).get_body(preferencelist=("plain",)).get_content()
    link = re.search(rf"{re.escape(BASE)}(/sign-in/link/\S+)", body).group(1)
    assert rcpts == ["ana@x.example"] and "works once, for 15 minutes" in body
    assert c.get("/").status_code == 303                         # not signed in yet; opening the link signs nobody in
    page = c.get(link)
    assert page.status_code == 200 and "Sign in as ana@x.example" in page.text
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    r = c.post(link, data={"csrf": token})
    assert r.status_code == 303 and r.headers["location"] == "/" and "accord_session" in r.headers["set-cookie"]
    assert c.post(link, data={"csrf": token}).status_code == 410   # once only
    # an expired link does not work
    r = _ask(TestClient(web, base_url="https://testserver", follow_redirects=False), "ana@x.example")
    second = re.search(rf"{re.escape(BASE)}(/sign-in/link/\S+)",
                       email.message_from_bytes(mailbox.received[-1][1], policy=policy.default)
                       .get_body(preferencelist=("plain",)).get_content()).group(1)
    db.execute("UPDATE sign_in_links SET expires_at = ? WHERE used_at IS NULL", ("2000-01-01T00:00:00+00:00",))
    assert c.get(second).status_code == 410
    actions = [(e.who, e.action, e.outcome) for e in audit.entries(db)]
    assert ("ana@x.example", "sign-in-link", "done") in actions and ("ana@x.example", "sign-in", "done") in actions
    web.state.site.close()


def test_sign_in_links_are_rate_limited_and_say_nothing_of_who_has_an_account(shop, mailbox):
    web, db, c = _web(shop)
    r = _ask(c, "nobody@x.example")
    assert r.status_code == 200 and "a sign-in link is on its way" in r.text and mailbox.received == []
    for _ in range(3):
        assert _ask(c, "ana@x.example").status_code == 200
    assert _ask(c, "ana@x.example").status_code == 429
    assert len(mailbox.received) == 3
    assert ("ana@x.example", "sign-in-link", "refused") in [(e.who, e.action, e.outcome) for e in audit.entries(db)]
    web.state.site.close()


def test_without_base_url_there_is_no_sign_in_link_form(tmp_path, mailbox, monkeypatch):
    monkeypatch.setenv("ACCORD_STORE", f"sqlite:///{tmp_path / 'store.db'}")
    root = _write(tmp_path / "shop", mailbox.port)
    web = create_app(root, warm=False, digests=False)
    c = TestClient(web, base_url="https://testserver", follow_redirects=False)
    assert "sign-in link" not in c.get("/sign-in").text
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/sign-in").text).group(1)
    assert c.post("/sign-in/link", data={"csrf": token, "email": "ana@x.example"}).status_code == 404
    web.state.site.close()

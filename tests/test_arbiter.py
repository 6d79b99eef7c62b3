"""The contact arbiter: the same rules as `accord touchpoints`, correct under concurrent claims, durable across
kill -9, and one line for every bad request.

Replays send the touches of a generated log in time order (time, policy source order, row order, as the
brute force of tests/test_touchpoints.py orders them) through `POST /api/v1/touches/claim` on an empty arbiter,
and compare what it holds with the batch analysis and with that brute-force walk.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from starlette.testclient import TestClient
from test_touchpoints import RULES, TODAY, TZ, Source, brute_joint, brute_log, random_world, run, write

from accord import app
from accord.store import tokens
from accord.web import arbiter_app, create_app

ACCORD = [sys.executable, "-m", "accord.cli"]
ALL_SCOPES = ("claim", "check", "states", "timeline", "replay", "monitor")


@pytest.fixture(autouse=True)
def own_store(monkeypatch):
    monkeypatch.delenv("ACCORD_STORE", raising=False)


def token(root: Path, name: str = "t", teams=None, scopes=ALL_SCOPES) -> str:
    """A token for these teams (default: every team of the policy)."""
    project = app.load(root)
    teams = teams or list(dict.fromkeys(t.team for t in project.contact_policy.touches))
    db = app.store(project)
    try:
        return app.add_token(project, db, name, tuple(teams), tuple(scopes))
    finally:
        db.close()


def client(root: Path, secret: str | None = None) -> TestClient:
    c = TestClient(arbiter_app(root), base_url="http://testserver")
    if secret:
        c.headers["Authorization"] = f"Bearer {secret}"
    return c


def local(t: dt.datetime) -> str:
    return t.replace(tzinfo=ZoneInfo(TZ)).isoformat()


def open_states(c: TestClient, periods: dict) -> None:
    """The generated periods, as the batch reads them, sent to the arbiter's store (a replay of the state log)."""
    arb = c.app.state.arbiter if hasattr(c.app.state, "arbiter") else None
    if arb is None:
        c.get("/api/v1/customers/none/timeline")             # builds the arbiter of the app
        arb = c.app.state.arbiter
    cutoff = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time())
    zone = ZoneInfo(TZ)
    for state, (kind, rows) in periods.items():
        for customer, o, r in rows:
            if customer is None or o is None:
                continue
            if kind == "date":
                o = dt.datetime.combine(o.date(), dt.time())
                r = dt.datetime.combine(r.date(), dt.time()) if r else None
            if o >= cutoff or (r is not None and r <= o):
                continue                                       # the batch reads no such period either
            arb.set_state(customer, state, o.replace(tzinfo=zone), r.replace(tzinfo=zone) if r else None)


def replay(c: TestClient, log: dict) -> list[tuple[object, dict]]:
    touches = sorted((t for v in log.values() for t in v), key=lambda t: (t.time, t.source, t.row))
    out = []
    for i, t in enumerate(touches):
        r = c.post("/api/v1/touches/claim", json={"customer": t.customer, "team": t.team, "channel": "email",
                                                   "at": local(t.time), "idempotency_key": f"replay-{i}"})
        assert r.status_code == 200, r.text
        out.append((t, r.json()))
    return out


def counted(answers, first_only: bool = True) -> tuple[dict, dict]:
    by_rule: dict[str, int] = {}
    by_team: dict[str, int] = {}
    for t, a in answers:
        if a["decision"] == "hold":
            by_rule[a["reasons"][0]["rule"]] = by_rule.get(a["reasons"][0]["rule"], 0) + 1
            by_team[t.team] = by_team.get(t.team, 0) + 1
    return by_rule, by_team


@pytest.mark.parametrize("seed", [1, 2])
def test_a_replay_through_claim_holds_what_the_batch_holds_together_and_rule_by_rule(tmp_path, seed):
    sources, periods = random_world(seed)
    log = brute_log(sources, TODAY)
    project = write(tmp_path / "all", sources, RULES, periods, seed=seed)
    batch = run(project, TODAY).as_dict()
    c = client(project.root, token(project.root))
    open_states(c, periods)
    by_rule, by_team = counted(replay(c, log))
    assert batch["joint"]["held"] > 0
    assert by_rule == batch["joint"]["held_by_rule"] == brute_joint(log, RULES, periods)["held_by_rule"]
    assert by_team == batch["joint"]["held_by_team"]

    for k, rule in enumerate(RULES):       # a policy of one rule holds exactly that rule's batch `suppressed`
        alone = write(tmp_path / f"rule{k}", sources, [rule], periods, seed=seed)
        c = client(alone.root, token(alone.root))
        open_states(c, periods)
        by_rule, by_team = counted(replay(c, log))
        want = batch["rules"][k]
        assert sum(by_rule.values()) == want["suppressed"] > 0, rule["name"]
        assert by_team == want["suppressed_by_team"], rule["name"]


def test_the_demo_replayed_in_time_order_holds_the_batch_joint_by_rule_and_team(tmp_path, monkeypatch):
    """The demo's whole touch log (371,384 touches) claimed in time order on an empty store, through the
    function the claim route calls, holds exactly what `accord touchpoints` says the policy holds at once.
    (The store sits in memory-backed /dev/shm where there is one: 371,384 commits are this test's cost.)"""
    from sqlglot import exp

    from accord.analyze.contact_log import ContactLog, from_micros
    from accord.demo import write_demo
    from accord.store.arbiter import Claim
    shm, store = Path("/dev/shm"), None
    if shm.is_dir() and os.access(shm, os.W_OK):
        store = shm / f"accord-replay-{os.getpid()}-{time.time_ns()}.db"
        monkeypatch.setenv("ACCORD_STORE", f"sqlite:///{store}")
    root = write_demo(tmp_path / "demo")
    project = app.load(root)
    batch = app.touchpoints(project, app.today(project)).as_dict()["joint"]
    with app.engine(project) as e:
        log = ContactLog(project, e, app.today(project))
        t = e.query(exp.select("customer", "s", "us").from_(exp.Subquery(
            this=log.touches(detail=True), alias=exp.TableAlias(this=exp.to_identifier("t")))).order_by("us", "s", "r"))
        periods = e.query(log.periods_of()).to_pylist()
    db = app.store(project)
    arb = app.arbiter(project, db)
    zone = ZoneInfo(project.settings.timezone)
    for p in periods:
        resolved = None if p["resolved"] == 2**63 - 1 else from_micros(p["resolved"]).replace(tzinfo=zone)
        arb.set_state(p["customer"], p["state"], from_micros(p["opened"]).replace(tzinfo=zone), resolved)
    team_of = log.team_of
    by_rule: dict[str, int] = {}
    by_team: dict[str, int] = {}
    for i, (customer, s, us) in enumerate(zip(*(t.column(n).to_pylist() for n in ("customer", "s", "us")))):
        a = arb.claim(Claim(customer, team_of[s], "email", None, from_micros(us).replace(tzinfo=zone), True,
                            f"k{i}", "replay"))
        if a.decision == "hold":
            by_rule[a.reasons[0]["rule"]] = by_rule.get(a.reasons[0]["rule"], 0) + 1
            by_team[team_of[s]] = by_team.get(team_of[s], 0) + 1
    db.close()
    for f in shm.glob(f"{store.name}*") if store else ():
        f.unlink()
    assert sum(by_rule.values()) == batch["held"] > 30_000
    assert by_rule == batch["held_by_rule"] and by_team == batch["held_by_team"]


# ---------------------------------------------------------------- the API, one project

CAP_RULES = [{"name": "three in 48 hours", "max_touches": 3, "within": "48h"},
             {"name": "no selling during a case", "block_teams": ["marketing", "sales"], "while": "open_case"},
             {"name": "quiet nights", "quiet": {"from": "22:00", "to": "06:00"}, "teams": ["sales"]}]


def small(root: Path, mode: str | None = None) -> Path:
    sources = [Source("mail", "marketing", "ts", [("A", dt.datetime(2026, 6, 1, 9))]),
               Source("crm", "sales", "ts", [("A", dt.datetime(2026, 6, 1, 10))]),
               Source("app", "product", "ts", [("B", dt.datetime(2026, 6, 1, 11))])]
    periods = {"open_case": ("ts", [("Z", dt.datetime(2026, 6, 1), None)])}
    project = write(root, sources, CAP_RULES, periods, extra_policy={"mode": mode} if mode else None)
    # the cases' source is owned by the sales lead: sales tokens may open and close cases
    text = (root / "policy.yml").read_text().replace("name: periods_open_case,", "name: periods_open_case, owner: "
                                                                                 "sales@x.example,")
    (root / "policy.yml").write_text(text)
    assert "owner: sales@x.example" in text
    return project.root


def claim(c: TestClient, customer: str, team: str = "marketing", key: str | None = None, **extra):
    body = {"customer": customer, "team": team, "channel": "email", "idempotency_key": key or os.urandom(8).hex(),
            **extra}
    return c.post("/api/v1/touches/claim", json=body)


def test_claims_hold_with_reasons_until_and_next_allowed_at(tmp_path):
    root = small(tmp_path / "p")
    c = client(root, token(root))
    at = "2026-06-02T10:00:00+02:00"
    assert [claim(c, "C", at=at).json()["decision"] for _ in range(3)] == ["allow"] * 3
    held = claim(c, "C", at=at).json()
    assert held["decision"] == "hold" and held["id"] > 0
    assert held["reasons"] == [{"rule": "three in 48 hours", "detail": "at most 3 touches within 48h (all teams)",
                                "until": "2026-06-04T10:00:00+02:00"}]
    assert held["next_allowed_at"] == "2026-06-04T10:00:00+02:00"
    night = claim(c, "C", team="sales", at="2026-06-02T23:30:00+02:00").json()
    assert [r["rule"] for r in night["reasons"]] == ["three in 48 hours", "quiet nights"]
    assert night["reasons"][1]["until"] == "2026-06-03T06:00:00+02:00"
    # check answers without recording; a customer never seen is allowed (and created)
    assert c.post("/api/v1/touches/check", json={"customer": "new", "team": "sales", "channel": "sms",
                                                 "idempotency_key": "x", "at": at}).json()["decision"] == "allow"
    assert claim(c, "C", at="2026-06-04T10:00:01+02:00").json()["decision"] == "allow"
    # a case opened by sales blocks marketing until it is resolved: until is unknown while it is open
    r = c.post("/api/v1/states", json={"customer": "D", "state": "open_case", "opened": "2026-06-02T08:00:00+02:00"})
    assert r.status_code == 200, r.text
    blocked = claim(c, "D", at=at).json()
    assert blocked["decision"] == "hold" and blocked["next_allowed_at"] is None
    c.post("/api/v1/states", json={"customer": "D", "state": "open_case", "opened": "2026-06-02T08:00:00+02:00",
                                   "resolved": "2026-06-02T12:00:00+02:00"})
    assert claim(c, "D", at=at).json()["decision"] == "hold"          # 10:00 is still inside [08:00, 12:00)
    assert claim(c, "D", at="2026-06-02T12:00:00+02:00").json()["decision"] == "allow"


def test_the_same_idempotency_key_answers_the_same_and_records_once(tmp_path):
    root = small(tmp_path / "p")
    c = client(root, token(root))
    first = claim(c, "C", key="k1").json()
    again = claim(c, "C", key="k1").json()
    assert first == again and first["decision"] == "allow"
    other = claim(c, "C", key="k1", team="sales")
    assert other.status_code == 422 and "idempotency_key was already used" in other.json()["detail"]
    db = sqlite3.connect(root / ".accord" / "accord.db")
    assert db.execute("SELECT count(*) FROM arbiter_touches WHERE idempotency_key = 'k1'").fetchone()[0] == 1


def test_release_gives_the_slot_back_and_only_to_the_team_that_claimed(tmp_path):
    root = small(tmp_path / "p")
    c = client(root, token(root))
    ids = [claim(c, "C").json()["id"] for _ in range(3)]
    assert claim(c, "C").json()["decision"] == "hold"
    other = client(root, token(root, "other", teams=("product",)))
    assert other.delete(f"/api/v1/touches/{ids[0]}").status_code == 403
    assert c.delete(f"/api/v1/touches/{ids[0]}").json() == {"id": ids[0], "released": True}
    assert c.delete("/api/v1/touches/999999").status_code == 404
    assert claim(c, "C").json()["decision"] == "allow"


def test_tokens_are_scoped_to_teams_and_to_what_they_may_do(tmp_path):
    root = small(tmp_path / "p")
    anon = client(root)
    assert claim(anon, "C").status_code == 401
    assert claim(client(root, "acc_not-a-token"), "C").status_code == 401
    c = client(root, token(root, "mkt", teams=("marketing",), scopes=("claim", "check")))
    assert claim(c, "C", team="sales").status_code == 403
    r = claim(c, "C", at="2026-06-02T10:00:00+02:00")         # long before now: only a replay token
    assert r.status_code == 403 and "--scope replay" in r.json()["detail"]
    assert claim(c, "C", at=dt.datetime.now(dt.timezone.utc).isoformat()).json()["decision"] == "allow"
    assert c.get("/api/v1/customers/C/timeline").status_code == 403
    assert c.get("/-/metrics").status_code == 403
    r = c.post("/api/v1/states", json={"customer": "C", "state": "open_case", "opened": "2026-06-02T08:00:00Z"})
    assert r.status_code == 403
    product = client(root, token(root, "prd", teams=("product",), scopes=("states",)))
    r = product.post("/api/v1/states", json={"customer": "C", "state": "open_case", "opened": "2026-06-02T08:00:00Z"})
    assert r.status_code == 403 and "do not own the source of state 'open_case'" in r.json()["detail"]
    sales = client(root, token(root, "sls", teams=("sales",), scopes=("states",)))
    assert sales.post("/api/v1/states", json={"customer": "C", "state": "open_case",
                                               "opened": "2026-06-02T08:00:00Z"}).status_code == 200
    # revoked: refused within the token cache's two seconds
    proj = app.load(root)
    db = app.store(proj)
    tokens.revoke(db, "mkt")
    db.close()
    time.sleep(2.1)
    assert claim(c, "C").status_code == 401


def test_the_timeline_shows_other_teams_touches_as_team_channel_and_time_only(tmp_path):
    root = small(tmp_path / "p")
    mkt = client(root, token(root, "mkt", teams=("marketing",), scopes=("claim", "timeline")))
    product = client(root, token(root, "prd", teams=("product",), scopes=("claim",)))
    claim(mkt, "C", kind="newsletter")
    claim(product, "C", team="product", kind="nudge")
    line = mkt.get("/api/v1/customers/C/timeline").json()
    mine, theirs = line["touches"]
    assert mine["team"] == "marketing" and mine["kind"] == "newsletter" and mine["decision"] == "allow"
    assert theirs.keys() >= {"team", "channel", "at"} and theirs["team"] == "product"
    assert all(theirs.get(k) is None for k in ("kind", "decision", "id", "held_by"))
    assert line["holding_now"] == []
    claim(product, "C", team="product")
    assert [h["rule"] for h in mkt.get("/api/v1/customers/C/timeline").json()["holding_now"]] == ["three in 48 hours"]


def test_shadow_mode_allows_every_claim_and_records_what_it_would_have_held(tmp_path):
    root = small(tmp_path / "p", mode="shadow")
    c = client(root, token(root))
    answers = [claim(c, "C").json() for _ in range(5)]
    assert [a["decision"] for a in answers] == ["allow"] * 5 and {a["mode"] for a in answers} == {"shadow"}
    assert [len(a["would_have_held"]) for a in answers] == [0, 0, 0, 1, 1]
    rates = c.app.state.arbiter.hold_rates()
    assert rates["shadow"] and rates["claims"] == 5 and rates["held"] == 2
    assert rates["by_rule"][0] == {"rule": "three in 48 hours", "held": 2, "by_team": {"marketing": 2}}


def test_metrics_count_decisions_by_rule_and_team_with_a_latency_histogram(tmp_path):
    root = small(tmp_path / "p")
    c = client(root, token(root))
    for _ in range(4):
        claim(c, "C")
    text = c.get("/-/metrics").text
    assert 'accord_arbiter_decisions_total{decision="allow",rule="",team="marketing"} 3' in text
    assert 'accord_arbiter_decisions_total{decision="hold",rule="three in 48 hours",team="marketing"} 1' in text
    assert "accord_arbiter_claim_seconds_count 4" in text
    assert c.get("/-/healthz").text == "ok\n"


BAD = [
    ({"customer": "C", "team": "marketing", "channel": "email"}, 422, "idempotency_key: is missing"),
    ({"customer": "C", "team": "marketing", "channel": "email", "idempotency_key": "k", "colour": "red"}, 422,
     "colour: is not a field"),
    ({"customer": 7, "team": "marketing", "channel": "email", "idempotency_key": "k"}, 422, "customer:"),
    ({"customer": "C", "team": "marketing", "channel": "email", "idempotency_key": "k",
      "at": "2026-06-02T10:00:00"}, 422, "at: has no time zone"),
    ({"customer": "C", "team": "marketing", "channel": "email", "idempotency_key": "k", "at": 1780000000}, 422,
     "at:"),
    ({"customer": "C", "team": "legal", "channel": "email", "idempotency_key": "k"}, 422,
     "team 'legal' is not in the contact policy"),
    ({"customer": "C" * 201, "team": "marketing", "channel": "email", "idempotency_key": "k"}, 422, "customer:"),
]


@pytest.mark.parametrize("body,status,says", BAD)
def test_bad_requests_get_a_4xx_with_one_line(tmp_path, body, status, says):
    root = small(tmp_path / "p")
    r = client(root, token(root)).post("/api/v1/touches/claim", json=body)
    assert r.status_code == status and says in r.json()["detail"] and "\n" not in r.json()["detail"], r.text


def test_oversized_and_unreadable_bodies(tmp_path):
    root = small(tmp_path / "p")
    c = client(root, token(root))
    r = c.post("/api/v1/touches/claim", content=b'{"customer": "' + b"x" * 70_000 + b'"}',
               headers={"content-type": "application/json"})
    assert r.status_code == 413
    r = c.post("/api/v1/touches/claim", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"] == "the body is not valid JSON. send one JSON object"


def test_the_arbiter_is_part_of_accord_serve_under_one_openapi_schema(tmp_path):
    root = small(tmp_path / "p")
    secret = token(root)
    web = create_app(root, warm=False)
    c = TestClient(web, base_url="http://testserver", headers={"Authorization": f"Bearer {secret}"})
    assert claim(c, "C").json()["decision"] == "allow"
    paths = c.get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/touches/claim", "/api/v1/touches/check", "/api/v1/states", "/api/v1/findings",
            "/api/v1/customers/{customer}/timeline", "/api/v1/touches/{touch_id}"} <= set(paths)
    web.state.site.close()


def test_tokens_add_prints_the_token_alone_and_revoke_ends_it(tmp_path):
    root = small(tmp_path / "p")
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_STORE"}
    r = subprocess.run(ACCORD + ["tokens", "add", "hubspot", "--team", "marketing", "--team", "sales",
                                 "--project", str(root)], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    secret = r.stdout.strip()
    assert r.stdout == secret + "\n" and secret.startswith("acc_") and len(secret) > 40
    db = sqlite3.connect(root / ".accord" / "accord.db")
    assert secret not in json.dumps(db.execute("SELECT * FROM tokens").fetchall())     # kept hashed
    listed = subprocess.run(ACCORD + ["tokens", "list", "--project", str(root)], capture_output=True, text=True,
                            env=env).stdout
    assert listed.startswith("hubspot\tmarketing,sales\tclaim,check\t")
    bad = subprocess.run(ACCORD + ["tokens", "add", "x", "--team", "markting", "--project", str(root)],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "team 'markting' is not in the project" in bad.stderr
    assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    bad = subprocess.run(ACCORD + ["tokens", "add", "x", "--team", "sales", "--scope", "everything", "--project",
                                   str(root)], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "scope 'everything' is unknown" in bad.stderr
    assert subprocess.run(ACCORD + ["tokens", "revoke", "hubspot", "--project", str(root)], env=env).returncode == 0
    assert client(root, secret).post("/api/v1/touches/claim", json={}).status_code == 401


# ---------------------------------------------------------------- real servers: processes, crashes, PostgreSQL

def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`accord arbiter` in processes of its own."""

    def __init__(self, root: Path, env: dict, workers: int = 1):
        self.root, self.env, self.workers = root, env, workers
        self.port = _port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(ACCORD + ["arbiter", "--no-history", "--project", str(self.root), "--port",
                                               str(self.port), "--workers", str(self.workers)],
                                     env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/-/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode())
            time.sleep(0.2)
        raise RuntimeError("the arbiter did not start within 60 s")

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def _env(store: str | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "ACCORD_STORE"}
    if store:
        env["ACCORD_STORE"] = store
    return env


def _storm(url: str, secret: str, bodies: list[dict]) -> list[dict]:
    """Every body claimed at the same moment, each from a thread of its own."""
    start = threading.Barrier(len(bodies))

    def one(body):
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {secret}"}, timeout=60) as h:
            start.wait()
            r = h.post("/api/v1/touches/claim", json=body)
            assert r.status_code == 200, r.text
            return r.json()
    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def _concurrent_claims(root: Path, env: dict, count_sent) -> None:
    secret = token(root)        # the token lives in the store named by env (set by the caller for this process too)
    server = Server(root, env, workers=3)
    try:
        answers = _storm(server.url, secret, [{"customer": "same", "team": ("marketing", "product")[i % 2],
                                               "channel": "email",
                                               "idempotency_key": f"k{i}"} for i in range(200)])
        assert sorted(a["decision"] for a in answers) == ["allow"] * 3 + ["hold"] * 197
        assert count_sent("same") == 3
        again = _storm(server.url, secret, [{"customer": "other", "team": "product", "channel": "email",
                                             "idempotency_key": "one key"}] * 40)
        assert len({json.dumps(a, sort_keys=True) for a in again}) == 1 and again[0]["decision"] == "allow"
        assert count_sent("other") == 1
    finally:
        server.stop()


def test_200_concurrent_claims_for_one_customer_allow_exactly_the_cap_across_worker_processes(tmp_path, monkeypatch):
    root = small(tmp_path / "p")
    db_path = root / ".accord" / "accord.db"

    def count_sent(customer):
        with sqlite3.connect(db_path) as db:
            return db.execute("SELECT count(*) FROM arbiter_touches WHERE customer = ? AND sent = 1",
                              (customer,)).fetchone()[0]
    _concurrent_claims(root, _env(), count_sent)


def test_the_same_on_postgresql_shared_by_several_processes(tmp_path, monkeypatch):
    from servers import start_postgres
    server = start_postgres()
    try:
        store = f"postgresql://postgres@/postgres?host={server.dir}&port={server.port}"
        monkeypatch.setenv("ACCORD_STORE", store)
        root = small(tmp_path / "p")
        import psycopg

        def count_sent(customer):
            with psycopg.connect(store) as db:
                return db.execute("SELECT count(*) FROM arbiter_touches WHERE customer = %s AND sent = 1",
                                  (customer,)).fetchone()[0]
        _concurrent_claims(root, _env(store), count_sent)
    finally:
        server.stop()


def test_kill_9_during_load_loses_no_allowed_claim_and_puts_nobody_over_a_cap(tmp_path):
    root = small(tmp_path / "p")
    secret = token(root)
    server = Server(root, _env())
    allowed: list[tuple[int, str]] = []
    stop = threading.Event()

    def load(n: int):
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {secret}"}, timeout=5) as h:
            i = 0
            while not stop.is_set():
                customer = f"c{(n * 7919 + i) % 40}"
                i += 1
                try:
                    r = h.post("/api/v1/touches/claim", json={"customer": customer, "team": "product",
                                                              "channel": "app", "idempotency_key": f"{n}-{i}"})
                except httpx.HTTPError:
                    return                                  # the server is gone
                if r.status_code == 200 and r.json()["decision"] == "allow":
                    allowed.append((r.json()["id"], customer))
    threads = [threading.Thread(target=load, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    time.sleep(2)
    server.kill()                                           # SIGKILL, mid-load
    stop.set()
    for t in threads:
        t.join()
    assert len(allowed) >= 20
    server.start()                                          # restart on the same store
    try:
        with sqlite3.connect(root / ".accord" / "accord.db") as db:
            rows = dict(db.execute("SELECT id, customer FROM arbiter_touches WHERE sent = 1").fetchall())
            per = dict(db.execute("SELECT customer, count(*) FROM arbiter_touches WHERE sent = 1 "
                                  "GROUP BY customer").fetchall())
        assert all(rows.get(ident) == customer for ident, customer in allowed)
        assert max(per.values()) <= 3
        full = next(c for c, n in per.items() if n == 3)
        r = httpx.post(server.url + "/api/v1/touches/claim", headers={"Authorization": f"Bearer {secret}"},
                       json={"customer": full, "team": "product", "channel": "app", "idempotency_key": "after"})
        assert r.json()["decision"] == "hold"
    finally:
        server.stop()


# ---------------------------------------------------------------- seen by people: the web app

def test_the_touchpoints_page_shows_the_live_hold_rate_and_admins_manage_tokens(tmp_path):
    from test_web import PASSWORD, csrf_of, sign_in
    root = small(tmp_path / "p")
    project = app.load(root)
    db = app.store(project)
    app.add_user(project, db, "marketing@x.example", "admin", PASSWORD)
    db.close()
    web = create_app(root, warm=False)
    web.state.site.overview(wait=True)
    try:
        browser = sign_in(web, "marketing@x.example")
        page = browser.get("/admin").text
        made = browser.post("/admin/tokens/add", data={"csrf": csrf_of(page), "name": "crm", "team": ["marketing",
                                                                                                     "product"],
                                                       "scope": ["claim", "check"]})
        assert made.status_code == 200
        secret = made.text.split('<code class="token">')[1].split("</code>")[0]
        assert "crm</td><td>marketing, product</td><td>claim, check</td>" in made.text
        api = TestClient(web, base_url="http://testserver", headers={"Authorization": f"Bearer {secret}"})
        decisions = [claim(api, "C", team=("marketing", "product")[i % 2]).json()["decision"] for i in range(5)]
        assert decisions == ["allow", "allow", "allow", "hold", "hold"]
        page = browser.get("/touchpoints").text
        assert "The latest 5 claims" in page and "2 held, 40.0%" in page
        assert "<th scope=\"row\">product</th><td class=\"num\">2</td><td class=\"num\">1</td><td class=\"num\">50.0%</td>" \
            in page
        assert "<th scope=\"row\">three in 48 hours</th><td class=\"num\">2</td>" in page
        revoked = browser.post("/admin/tokens/revoke", data={"csrf": csrf_of(browser.get("/admin").text),
                                                             "name": "crm"}, follow_redirects=False)
        assert revoked.status_code == 303
        assert "crm</td><td>marketing, product</td>" not in browser.get("/admin").text
        assert claim(api, "D").status_code == 401 or time.sleep(2.1) or claim(api, "D").status_code == 401
    finally:
        web.state.site.close()

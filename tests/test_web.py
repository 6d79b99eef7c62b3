"""The web app, in process: sessions, CSRF, permissions, concurrency, the audit log, and writes that are the CLI's.

Every test signs in as real accounts in a real store (SQLite in the project's .accord/) on a small project in
a git repository; pages are read as a browser would get them (starlette's TestClient, no network).
"""
from __future__ import annotations

from urllib.parse import urlencode

import re
import shutil
import subprocess
import sys

import pytest
from factory import write_project

pytest.importorskip("httpx", reason="httpx is missing (pip install -e '.[test]')")
from starlette.testclient import TestClient  # noqa: E402

from accord import app  # noqa: E402
from accord.store import accounts, audit, tokens  # noqa: E402
from accord.web import create_app  # noqa: E402

DEFS = """
sources:
  - {name: crm, system: crm, path: data/crm.csv, entity: opportunity, key: id, time: created_at}
  - {name: ma, system: marketing_automation, path: data/ma.csv, entity: opportunity, key: id, time: created_at}
metrics:
  - name: sales_pipeline
    label: Pipeline
    team: sales
    level: function
    owner: ana@x.example
    decision: Weekly forecast
    confidence: decision-grade
    source: crm
    measure: sum(amount)
    include: [{name: qualified, sql: "stage in ('SQL', 'Proposal')"}]
  - name: marketing_pipeline
    label: Pipeline
    team: marketing
    level: function
    owner: jo@x.example
    decision: Channel budget
    source: ma
    measure: sum(amount)
"""
TEAMS = """
teams:
  - {name: marketing, lead: jo@x.example, members: [kim@x.example]}
  - {name: sales, lead: ana@x.example}
  - {name: revops, lead: dev@x.example, members: [admin@x.example]}
"""
CRM = "id,stage,amount,created_at\n1,SQL,100,2026-04-03\n2,Lost,50,2026-05-03\n3,Proposal,70,2026-02-10\n"
MA = "id,stage,amount,created_at\n1,SQL,100,2026-04-03\n2,Lost,50,2026-05-03\n4,SQL,30,2026-06-01\n"
PASSWORD = "a password long enough"
PEOPLE = {"jo@x.example": "member", "kim@x.example": "member", "ana@x.example": "member",
          "dev@x.example": "facilitator", "viewer@x.example": "viewer", "admin@x.example": "admin"}


def _git(root, *args):
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def make_project(root):
    write_project(root, {"metrics.yml": DEFS, "teams.yml": TEAMS, "data/crm.csv": CRM, "data/ma.csv": MA},
                  config="project: t\nsettings: {as_of: 2026-07-10, compare_grain: quarter}\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "-c", "user.email=setup@x.example", "-c", "user.name=setup", "add", "-A")
    _git(root, "-c", "user.email=setup@x.example", "-c", "user.name=setup", "commit", "-qm", "start")
    return root


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The project with its accounts, made once (argon2 is slow on purpose) and copied for each test."""
    root = make_project(tmp_path_factory.mktemp("template") / "p")
    proj = app.load(root)
    db = app.store(proj)
    for email, role in PEOPLE.items():
        app.add_user(proj, db, email, role, PASSWORD)
    db.close()
    return root


@pytest.fixture
def project(template, tmp_path, monkeypatch):
    monkeypatch.delenv("ACCORD_STORE", raising=False)
    monkeypatch.delenv("ACCORD_SECRET_KEY", raising=False)
    root = tmp_path / "p"
    shutil.copytree(template, root)
    return root


@pytest.fixture
def web(project):
    asgi = create_app(project, warm=False)
    asgi.state.site.overview(wait=True)
    yield asgi
    asgi.state.site.close()


def client(web) -> TestClient:
    return TestClient(web, base_url="http://testserver", follow_redirects=False)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def sign_in(web, email: str, password: str = PASSWORD) -> TestClient:
    c = client(web)
    token = csrf_of(c.get("/sign-in").text)
    r = c.post("/sign-in", data={"csrf": token, "email": email, "password": password, "next": "/"})
    assert r.status_code == 303, r.text
    return c


def form(c: TestClient, page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action` on `page`, as the browser would send them."""
    html = c.get(page).text
    start = html.index(f'action="{action}"')
    body = html[start:html.index("</form>", start)]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))


def audit_rows(project):
    db = app.store(app.load(project))
    try:
        return audit.entries(db)
    finally:
        db.close()


# ---------------------------------------------------------------- sessions, CSRF, headers

def test_every_page_asks_to_sign_in_first_and_health_does_not(web):
    c = client(web)
    for path in ("/", "/metrics", "/metrics/sales_pipeline", "/collisions", "/tree", "/touchpoints", "/findings",
                 "/workshop", "/workshop/Pipeline", "/admin"):
        r = c.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/sign-in?next="), path
    assert c.get("/-/healthz").text == "ok\n"


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_a_forged_one_opens_nothing(web):
    c = client(web)
    token = csrf_of(c.get("/sign-in").text)
    r = c.post("/sign-in", data={"csrf": token, "email": "jo@x.example", "password": PASSWORD, "next": "/metrics"})
    assert r.status_code == 303 and r.headers["location"] == "/metrics"
    cookie = r.headers["set-cookie"]
    assert "accord_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert c.get("/metrics").status_code == 200
    value = c.cookies.get("accord_session")
    forged = client(web)
    forged.cookies.set("accord_session", value[:-2] + ("00" if not value.endswith("00") else "11"))
    assert forged.get("/metrics").status_code == 303
    unsigned = client(web)
    unsigned.cookies.set("accord_session", value.rsplit(".", 1)[0])
    assert unsigned.get("/metrics").status_code == 303


def test_sign_in_goes_only_to_a_path_on_this_site(web):
    c = client(web)
    token = csrf_of(c.get("/sign-in").text)
    r = c.post("/sign-in", data={"csrf": token, "email": "jo@x.example", "password": PASSWORD,
                                 "next": "//evil.example/x"})
    assert r.headers["location"] == "/"


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(web, project):
    c = client(web)
    c.get("/sign-in")
    r = c.post("/sign-in", data={"email": "jo@x.example", "password": PASSWORD})
    assert r.status_code == 400 and "security token" in r.text and "accord_session" not in r.headers.get(
        "set-cookie", "")
    jo, ana = sign_in(web, "jo@x.example"), sign_in(web, "ana@x.example")
    fields = form(jo, "/workshop/Pipeline", "/workshop/Pipeline/prework/marketing")
    before = (project / "prework").exists()
    for csrf in ("", "nonsense", csrf_of(ana.get("/").text)):        # none, made up, another person's
        r = jo.post("/workshop/Pipeline/prework/marketing", data={**fields, "csrf": csrf,
                                                                  "marketing_pipeline.trusted_report": "x"})
        assert r.status_code == 400
    assert (project / "prework").exists() == before


def test_wrong_passwords_are_rate_limited_and_logged(web, project):
    c = client(web)
    for attempt in range(1, accounts.MAX_FAILURES_PER_ACCOUNT + 1):
        token = csrf_of(c.get("/sign-in").text)
        r = c.post("/sign-in", data={"csrf": token, "email": "jo@x.example", "password": "wrong password!"})
        if attempt < accounts.MAX_FAILURES_PER_ACCOUNT:
            assert r.status_code == 401 and "do not match" in r.text
        else:                 # the failure that reaches the limit says so
            assert r.status_code == 429
    token = csrf_of(c.get("/sign-in").text)
    r = c.post("/sign-in", data={"csrf": token, "email": "jo@x.example", "password": PASSWORD})
    assert r.status_code == 429 and "Too many failed attempts" in r.text
    refused = [e for e in audit_rows(project) if e.action == "sign-in" and e.outcome == "refused"]
    assert len(refused) == accounts.MAX_FAILURES_PER_ACCOUNT + 1


def test_security_headers_and_no_store(web):
    c = sign_in(web, "viewer@x.example")
    r = c.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"
    assert "<script" not in r.text and " on" + "click=" not in r.text


def test_oversized_and_unknown_fields_get_4xx_never_500(web):
    c = sign_in(web, "jo@x.example")
    fields = form(c, "/workshop/Pipeline", "/workshop/Pipeline/prework/marketing")
    r = c.post("/workshop/Pipeline/prework/marketing", data={**fields, "x": "y" * 70_000})
    assert r.status_code == 413
    r = c.post("/workshop/Pipeline/prework/marketing", data={**fields, "role": "admin"})
    assert r.status_code == 400 and "not part of this form" in r.text
    # a body sent in chunks, with no Content-Length, is counted as it arrives
    body = urlencode({**fields, "x": "y" * 70_000}).encode()
    r = c.post("/workshop/Pipeline/prework/marketing", content=(body[i:i + 8192] for i in range(0, len(body), 8192)),
               headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413 and "content-length" not in r.request.headers
    small = urlencode({**fields, "role": "admin"}).encode()
    r = c.post("/workshop/Pipeline/prework/marketing", content=iter([small[:10], small[10:]]),
               headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400 and "not part of this form" in r.text   # a small chunked body reaches the form
    assert c.get("/metrics/nope").status_code == 422
    assert c.get("/collisions/bridge", params={"a": "sales_pipeline", "b": "x", "period": "2026-Q2"}).status_code == 422


def test_an_expired_session_and_a_removed_account_sign_out(web, project):
    c = sign_in(web, "kim@x.example")
    assert c.get("/").status_code == 200
    db = web.state.site.db
    db.execute("UPDATE sessions SET expires_at = '2000-01-01T00:00:00+00:00' WHERE email = 'kim@x.example'")
    assert c.get("/").status_code == 303
    c = sign_in(web, "kim@x.example")
    accounts.remove_account(db, "kim@x.example")
    assert c.get("/").status_code == 303


# ---------------------------------------------------------------- permissions and the audit log

def test_a_viewer_is_refused_every_write_with_a_403_page_that_is_logged(web, project):
    c = sign_in(web, "viewer@x.example")
    page = c.get("/workshop/Pipeline").text
    assert "Send our pre-work" not in page and "Record the decision" not in page
    token = csrf_of(page)
    r = c.post("/workshop/Pipeline/prework/marketing", data={"csrf": token, "marketing_pipeline.definition": "x"})
    assert r.status_code == 403 and "Only members of marketing" in r.text
    r = c.post("/workshop/Pipeline/decide", data={"csrf": token, "canonical": "sales_pipeline"})
    assert r.status_code == 403 and "Only facilitators" in r.text
    assert c.get("/admin").status_code == 403
    refused = [(e.who, e.action, e.outcome) for e in audit_rows(project) if e.outcome == "refused"]
    assert refused == [("viewer@x.example", "admin", "refused"), ("viewer@x.example", "decide", "refused"),
                       ("viewer@x.example", "prework", "refused")]
    assert not (project / "prework").exists() and not (project / "decisions").exists()


def test_a_member_edits_only_their_own_teams_prework(web, project):
    c = sign_in(web, "ana@x.example")
    page = c.get("/workshop/Pipeline").text
    assert 'action="/workshop/Pipeline/prework/sales"' in page
    assert 'action="/workshop/Pipeline/prework/marketing"' not in page
    r = c.post("/workshop/Pipeline/prework/marketing", data={"csrf": csrf_of(page),
                                                             "marketing_pipeline.definition": "x"})
    assert r.status_code == 403
    assert not (project / "prework" / "pipeline" / "marketing.yml").exists()


def test_prework_problems_show_at_the_teams_form_with_what_was_typed_kept(web, project):
    jo = sign_in(web, "jo@x.example")
    fields = form(jo, "/workshop/Pipeline", "/workshop/Pipeline/prework/marketing")
    long = "x" * 2100
    r = jo.post("/workshop/Pipeline/prework/marketing", data={
        **fields, "marketing_pipeline.definition": "Every opportunity marketing touched",
        "marketing_pipeline.trusted_report": long, "others_wrong": "Sales drops Lost deals"})
    assert r.status_code == 422
    section = r.text[r.text.index('id="team-marketing"'):]
    section = section[:section.index("</section>")]
    problems = re.findall(r"<li>([^<]*)</li>", section)
    assert len(problems) == 1 and "2,100 characters, at most 2,000" in problems[0] and "(marketing_pipeline)" in \
        problems[0], problems
    assert "Every opportunity marketing touched</textarea>" in section and f"{long}</textarea>" in section
    # under the field it concerns, tied to it for screen readers
    field = section[section.index('name="marketing_pipeline.trusted_report"'):]
    assert re.match(r'name="marketing_pipeline.trusted_report" rows="2" maxlength="2000" aria-invalid="true" '
                    r'aria-describedby="marketing-marketing_pipeline-trusted_report-problem">x{2100}</textarea>\s*'
                    r'<p class="problem" id="marketing-marketing_pipeline-trusted_report-problem">2,100 characters',
                    field), field[:300]
    assert "Sales drops Lost deals</textarea>" in section
    assert not (project / "prework" / "pipeline" / "marketing.yml").exists()
    assert next(e for e in audit_rows(project) if e.action == "prework").outcome == "invalid"


def test_prework_is_written_committed_as_the_person_and_audited_and_others_see_it_after_their_own(web, project):
    jo = sign_in(web, "jo@x.example")
    fields = form(jo, "/workshop/Pipeline", "/workshop/Pipeline/prework/marketing")
    r = jo.post("/workshop/Pipeline/prework/marketing", data={
        **fields, "marketing_pipeline.definition": "Every opportunity marketing touched",
        "marketing_pipeline.trusted_report": "The HubSpot funnel board", "others_wrong": "Sales drops Lost deals"})
    assert r.status_code == 303
    from ruamel.yaml import YAML
    written = YAML(typ="safe").load((project / "prework" / "pipeline" / "marketing.yml").read_text())
    assert written["answered_by"] == "jo@x.example"
    assert written["answers"]["marketing_pipeline"]["trusted_report"] == "The HubSpot funnel board"
    assert written["others_wrong"] == "Sales drops Lost deals"
    log = subprocess.run(["git", "-C", str(project), "log", "-1", "--format=%an <%ae>|%s|", "--name-only"],
                         capture_output=True, text=True).stdout
    assert log.startswith("Jo <jo@x.example>|Pre-work on 'Pipeline' for marketing, by jo@x.example|")
    assert log.strip().endswith("prework/pipeline/marketing.yml")
    entry = next(e for e in audit_rows(project) if e.action == "prework")
    assert (entry.who, entry.target, entry.outcome) == ("jo@x.example", "Pipeline/marketing", "done")
    assert "The HubSpot funnel board" in entry.after and "The HubSpot funnel board" not in (entry.before or "")

    ana = sign_in(web, "ana@x.example")
    page = ana.get("/workshop/Pipeline").text
    assert "The HubSpot funnel board" not in page and "show once your team has sent its own" in page
    fields = form(ana, "/workshop/Pipeline", "/workshop/Pipeline/prework/sales")
    assert ana.post("/workshop/Pipeline/prework/sales", data={
        **fields, "sales_pipeline.trusted_report": "The forecast call sheet"}).status_code == 303
    assert "The HubSpot funnel board" in ana.get("/workshop/Pipeline").text
    # the kit reads the answers back, as `accord workshop kit` would
    from accord.workshop.prework import read_answers
    from accord.workshop.topic import topic
    proj = app.load(project)
    answers = read_answers(proj, topic(proj, "Pipeline"))
    assert answers["sales"].metrics["sales_pipeline"]["trusted_report"] == "The forecast call sheet"


def test_two_people_saving_one_answer_the_second_gets_a_conflict_and_nothing_is_lost(web, project):
    jo, kim = sign_in(web, "jo@x.example"), sign_in(web, "kim@x.example")
    jo_form = form(jo, "/workshop/Pipeline", "/workshop/Pipeline/prework/marketing")
    kim_form = form(kim, "/workshop/Pipeline", "/workshop/Pipeline/prework/marketing")
    assert jo_form["base"] == kim_form["base"]
    assert jo.post("/workshop/Pipeline/prework/marketing",
                   data={**jo_form, "marketing_pipeline.trusted_report": "Jo's board"}).status_code == 303
    r = kim.post("/workshop/Pipeline/prework/marketing",
                 data={**kim_form, "marketing_pipeline.trusted_report": "Kim's board"})
    assert r.status_code == 409 and "Someone else saved first" in r.text and "Jo&#39;s board" in r.text
    text = (project / "prework" / "pipeline" / "marketing.yml").read_text()
    assert "Jo's board" in text and "Kim's board" not in text
    assert [e.outcome for e in audit_rows(project) if e.who == "kim@x.example" and e.action == "prework"] == \
        ["conflict"]
    # with the page opened again, Kim's change goes on top of Jo's
    kim_form = form(kim, "/workshop/Pipeline", "/workshop/Pipeline/prework/marketing")
    assert kim.post("/workshop/Pipeline/prework/marketing",
                    data={**kim_form, "marketing_pipeline.trusted_report": "Kim's board"}).status_code == 303


def test_the_decision_form_writes_exactly_what_workshop_decide_writes(web, project, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(project, twin, ignore=shutil.ignore_patterns(".accord", ".git"))
    cli = subprocess.run([sys.executable, "-m", "accord.cli", "workshop", "decide", "Pipeline", "--project", str(twin),
                          "--canonical", "sales_pipeline", "--for", "weekly forecast", "--for", "board deck",
                          "--alternate", "marketing_pipeline|channel analysis|Marketing-sourced pipeline",
                          "--owner", "dev@x.example", "--caveat", "EUR deals at month-start FX",
                          "--follow-up", "Drop stage Nurture|ana@x.example|2026-09-01", "--review-every", "quarter",
                          "--no-input"], capture_output=True, text=True)
    assert cli.returncode == 0, cli.stderr

    dev = sign_in(web, "dev@x.example")
    fields = form(dev, "/workshop/Pipeline", "/workshop/Pipeline/decide")
    r = dev.post("/workshop/Pipeline/decide", data={
        **fields, "canonical": "sales_pipeline", "for": "weekly forecast; board deck",
        "alternates": "marketing_pipeline|channel analysis|Marketing-sourced pipeline", "owner": "dev@x.example",
        "caveats": "EUR deals at month-start FX", "unresolved": "", "follow_ups": "Drop stage Nurture|ana@x.example|2026-09-01",
        "review_every": "quarter"})
    assert r.status_code == 303, r.text
    assert (project / "decisions" / "pipeline.yml").read_bytes() == (twin / "decisions" / "pipeline.yml").read_bytes()
    # the collision is decided: info, no longer an error
    proj = app.load(project)
    collision = next(f for f in app.check(proj, app.today(proj)).findings if f.code == "label-collision")
    assert collision.severity == "info"
    log = subprocess.run(["git", "-C", str(project), "log", "-1", "--format=%ae %s"], capture_output=True,
                         text=True).stdout.strip()
    assert log == "dev@x.example Decide 'Pipeline', recorded by dev@x.example"


def test_a_bad_decision_form_shows_the_clis_one_line_problem_and_writes_nothing(web, project):
    dev = sign_in(web, "dev@x.example")
    fields = form(dev, "/workshop/Pipeline", "/workshop/Pipeline/decide")
    r = dev.post("/workshop/Pipeline/decide", data={**fields, "canonical": "sales_pipline", "owner": "dev@x.example"})
    assert r.status_code == 422 and "Did you mean &#39;sales_pipeline&#39;?" in r.text
    assert 'value="dev@x.example"' in r.text            # shown next to the form, with what was typed kept
    r = dev.post("/workshop/Pipeline/decide", data={**fields, "canonical": "sales_pipeline", "owner": "dev@x.example",
                                                    "follow_ups": "task without owner"})
    assert r.status_code == 422
    # a problem of one field shows under that field, tied to it for screen readers
    field = r.text[r.text.index('<textarea id="follow_ups"'):]
    assert re.match(r'<textarea id="follow_ups" name="follow_ups" rows="2" aria-invalid="true" '
                    r'aria-describedby="follow_ups-problem">task without owner</textarea>\s*'
                    r'<p class="problem" id="follow_ups-problem" role="alert">--follow-up &#39;task without owner&#39; '
                    r'is not TASK\|OWNER\|YYYY-MM-DD', field), field[:400]
    assert not (project / "decisions").exists()


def test_only_an_owner_approves_a_changed_definition(web, project):
    dev = sign_in(web, "dev@x.example")
    fields = form(dev, "/workshop/Pipeline", "/workshop/Pipeline/decide")
    assert dev.post("/workshop/Pipeline/decide", data={**fields, "canonical": "sales_pipeline",
                                                       "owner": "dev@x.example"}).status_code == 303
    metrics = project / "metrics.yml"
    metrics.write_text(metrics.read_text().replace("stage in ('SQL', 'Proposal')", "stage in ('SQL')"))
    web.state.site.overview(wait=True)
    jo = sign_in(web, "jo@x.example")
    page = jo.get("/metrics/sales_pipeline").text
    assert "Approve the current definition" not in page
    r = jo.post("/approve/sales_pipeline", data={"csrf": csrf_of(page)})
    assert r.status_code == 403
    ana = sign_in(web, "ana@x.example")
    page = ana.get("/metrics/sales_pipeline").text
    assert "Approve the current definition" in page
    r = ana.post("/approve/sales_pipeline", data=form(ana, "/metrics/sales_pipeline", "/approve/sales_pipeline"))
    assert r.status_code == 303
    proj = app.load(project)
    approval = proj.decisions[0].approvals[0]
    assert (approval.metric, approval.by) == ("sales_pipeline", "ana@x.example")
    assert not [f for f in app.check(proj, app.today(proj)).findings if f.code == "unapproved-change"]


def test_an_owner_accepts_a_finding_with_a_reason_and_expiry(web, project):
    jo = sign_in(web, "jo@x.example")
    page = jo.get("/findings", params={"code": "no-exclusions"}).text
    assert "Accept for now" in page
    fields = form(jo, "/findings?code=no-exclusions", "/findings/accept")
    assert fields["metrics"] == "marketing_pipeline"
    target = app.accept_paths(app.load(project))[0]
    before = target.read_bytes() if target.exists() else None
    r = jo.post("/findings/accept", data={**fields, "reason": "counts every deal by design", "until": "2026-07-01"})
    assert r.status_code == 422 and "not after today" in r.text
    # the problem shows under its field in the finding's form, open again, with what was typed kept
    form_html = r.text[r.text.index('<details open>'):]
    form_html = form_html[:form_html.index("</form>")]
    assert 'value="counts every deal by design"' in form_html and 'action="/findings/accept"' in form_html
    until = form_html[form_html.index('name="until"'):]
    assert 'value="2026-07-01" aria-invalid="true"' in until
    assert re.search(r'^[^<]*>\s*<p class="problem" id="until-\d+-problem" role="alert">2026-07-01 is not after today',
                     until), until[:400]
    assert (target.read_bytes() if target.exists() else None) == before
    r = jo.post("/findings/accept", data={**fields, "reason": "counts every deal by design", "until": "2026-12-31"})
    assert r.status_code == 303
    proj = app.load(project)
    assert [(a.code, a.metrics, a.owner, a.until.isoformat()) for a in proj.accept] == \
        [("no-exclusions", ("marketing_pipeline",), "jo@x.example", "2026-12-31")]
    ana = sign_in(web, "ana@x.example")
    fields["csrf"] = csrf_of(ana.get("/").text)
    r = ana.post("/findings/accept", data={**fields, "reason": "not mine", "until": "2026-12-31"})
    assert r.status_code in (403, 422)


def test_every_page_reads_for_a_viewer(web):
    c = sign_in(web, "viewer@x.example")
    for path in ("/", "/metrics", "/metrics?q=pipe&team=sales", "/metrics/sales_pipeline",
                 "/metrics/sales_pipeline?grain=month", "/collisions", "/tree", "/touchpoints", "/findings",
                 "/findings?severity=error", "/workshop", "/workshop/Pipeline"):
        r = c.get(path)
        assert r.status_code == 200, (path, r.text[:500])
        assert "Computing" not in r.text or path.endswith("grain=month")


def test_the_bridge_shows_example_records_only_to_the_owning_teams(web):
    params = {"a": "marketing_pipeline", "b": "sales_pipeline", "period": "2026-Q2"}
    jo = sign_in(web, "jo@x.example")
    jo.get("/collisions/bridge", params=params)
    web.state.site.result("bridge", lambda p, t, *a: app.reconcile(p, *a), *params.values(), wait=True)
    page = jo.get("/collisions/bridge", params=params).text
    assert "Examples:" in page
    viewer = sign_in(web, "viewer@x.example")
    page = viewer.get("/collisions/bridge", params=params).text
    assert "Examples:" not in page and "show to members of the teams" in page


# ---------------------------------------------------------------- the API

def test_the_api_takes_bearer_tokens_only(web):
    c = sign_in(web, "admin@x.example")
    assert c.get("/api/v1/findings").status_code == 401          # a session cookie opens nothing
    token = tokens.add_token(web.state.site.db, "dashboards", ("sales",), ("read",))
    r = c.get("/api/v1/findings", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    codes = {f["code"] for f in r.json()["findings"]}
    assert "label-collision" in codes
    assert client(web).get("/api/v1/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client(web).get("/api/v1/openapi.json").json()["paths"].keys() >= {"/api/v1/findings", "/api/v1/metrics"}


def test_a_metrics_history_links_to_what_changed_since_with_numbers(web, project):
    first = subprocess.run(["git", "-C", str(project), "rev-parse", "--short", "HEAD"], capture_output=True,
                           text=True).stdout.strip()
    metrics = project / "metrics.yml"
    metrics.write_text(metrics.read_text().replace("stage in ('SQL', 'Proposal')", "stage in ('SQL')"))
    _git(project, "-c", "user.email=ana@x.example", "-c", "user.name=Ana", "commit", "-qam", "SQL only")
    c = sign_in(web, "viewer@x.example")
    web.state.site.overview(wait=True)
    page = c.get("/metrics/sales_pipeline").text
    assert f'/metrics/sales_pipeline/since/{first}' in page and "SQL only" in page
    web.state.site.result("diff", lambda p, t, rev: app.diff(p, rev, t), first, wait=True)
    page = c.get(f"/metrics/sales_pipeline/since/{first}").text
    assert "What it means changed:" in page
    # by hand from the CSV: SQL's 100 in April is counted by both definitions
    assert re.search(r"2026-Q2</td><td class=\"num\">100</td><td class=\"num\">100</td>", page), page
    assert c.get("/metrics/sales_pipeline/since/not-a-rev;rm").status_code == 422


def test_an_admin_refreshes_the_results_and_others_may_not(web, project):
    site = web.state.site
    before, _ = site.project()
    viewer = sign_in(web, "viewer@x.example")
    r = viewer.post("/admin/refresh", data={"csrf": csrf_of(viewer.get("/").text)})
    assert r.status_code == 403 and site.project()[0] == before
    admin = sign_in(web, "admin@x.example")
    r = admin.post("/admin/refresh", data=form(admin, "/admin", "/admin/refresh"))
    assert r.status_code == 303 and site.project()[0] != before
    assert site.db.one("SELECT count(*) FROM cache")[0] == 0
    assert [e.action for e in audit_rows(project) if e.who == "admin@x.example"] == ["refresh", "sign-in"]


# ---------------------------------------------------------------- visible_to

@pytest.fixture
def restricted(project):
    """sales_pipeline with `visible_to: [sales]`: its values for sales, its owner, facilitators and admins."""
    defs = project / "metrics.yml"
    defs.write_text(defs.read_text().replace("    owner: ana@x.example\n",
                                             "    owner: ana@x.example\n    visible_to: [sales]\n"))
    asgi = create_app(project, warm=False)
    asgi.state.site.overview(wait=True)
    yield asgi
    asgi.state.site.close()


def _row(html: str, metric: str) -> str:
    start = html.index(f'href="/metrics/{metric}"')
    return html[html.rfind("<tr", 0, start):html.index("</tr>", start)]


def test_visible_to_hides_values_bridges_and_findings_from_other_teams(restricted):
    # 2026-Q2 by hand: crm rows in April-June at a qualified stage: id 1 (100); ma rows: 100 + 50 + 30
    sales_q2, marketing_q2 = "100", "180"
    kim = sign_in(restricted, "kim@x.example")          # a marketing member
    page = kim.get("/metrics").text
    assert "restricted" in _row(page, "sales_pipeline") and sales_q2 not in _row(page, "sales_pipeline")
    assert marketing_q2 in _row(page, "marketing_pipeline")
    metric = kim.get("/metrics/sales_pipeline", params={"grain": "month"}).text
    assert "restricted</span> to sales" in metric and "Values by period" not in metric
    bridge = kim.get("/collisions/bridge", params={"a": "marketing_pipeline", "b": "sales_pipeline",
                                                   "period": "2026-Q2"})
    assert bridge.status_code == 403 and "visible only to sales" in bridge.text
    collisions = kim.get("/collisions").text
    assert "restricted" in collisions and "spread" not in collisions
    assert "sales_pipeline" not in kim.get("/findings").text
    for email in ("ana@x.example", "dev@x.example", "admin@x.example"):   # the team (owner), a facilitator, admin
        c = sign_in(restricted, email)
        assert sales_q2 in _row(c.get("/metrics").text, "sales_pipeline"), email
        assert c.get("/collisions/bridge", params={"a": "marketing_pipeline", "b": "sales_pipeline",
                                                   "period": "2026-Q2"}).status_code == 200, email
    db = restricted.state.site.db
    for teams, value in ((("marketing",), None), (("sales",), 100.0)):
        token = tokens.add_token(db, f"dash-{teams[0]}", teams, ("read",))
        rows = kim.get("/api/v1/metrics", headers={"Authorization": f"Bearer {token}"}).json()["metrics"]
        row = next(r for r in rows if r["name"] == "sales_pipeline")
        assert (row["value"], row["restricted"]) == (value, value is None), teams
        listed = kim.get("/api/v1/findings", headers={"Authorization": f"Bearer {token}"}).json()["findings"]
        assert any("sales_pipeline" in f["metrics"] for f in listed) == (value is not None), teams


def test_visible_to_names_known_teams(project):
    defs = project / "metrics.yml"
    defs.write_text(defs.read_text().replace("    owner: ana@x.example\n",
                                             "    owner: ana@x.example\n    visible_to: [sales, finanse]\n"))
    r = subprocess.run([sys.executable, "-m", "accord.cli", "check", "--project", str(project)],
                       capture_output=True, text=True)
    line = 1 + DEFS.lstrip("\n").splitlines().index("    owner: ana@x.example") + 1
    assert r.returncode == 1 and f"metrics.yml:{line}" in r.stdout and "team 'finanse'" in r.stdout, r.stdout

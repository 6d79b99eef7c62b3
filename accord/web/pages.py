"""The pages: home, metrics, collisions and the bridge, tree, touchpoints, findings, the workshop, accounts."""
from __future__ import annotations

import datetime as dt
import re
import subprocess

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from accord import app
from accord.errors import UserError
from accord.project.writes import Conflict
from accord.store import accounts, audit, tokens
from accord.web import permissions as may
from accord.web.security import SESSION_COOKIE
from accord.web.page import BadForm, Refused, _local, form_of, redirect, render, require, site_of, today_of
from accord import visibility

router = APIRouter(include_in_schema=False)
SEVERITIES = ("error", "warning", "info")


def _computing(request: Request, what: str) -> HTMLResponse:
    return render(request, "computing.html.j2", {"what": what})


# ---------------------------------------------------------------- signing in and out

@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/"):
    return render(request, "sign_in.html.j2", {"next": _local(next), "error": None, "email": "",
                                               **_links(request)})


def _links(request: Request) -> dict:
    """Whether the page offers a sign-in link by email (smtp:, digest.from and serve.base_url are set)."""
    _, project = site_of(request).project()
    return {"links": app.sign_in_links_enabled(project), "sent": None}


@router.post("/sign-in")
async def sign_in(request: Request):
    site = site_of(request)
    data = await form_of(request, {"email", "password", "next"})
    email, address = data.get("email", "").strip(), request.client.host if request.client else "unknown"
    token = accounts.sign_in(site.db, email, data.get("password", ""), address) if email else None
    if token is None:
        limited = accounts.rate_limited(site.db, email, address)
        audit.record(site.db, email or "anonymous", "sign-in", address, outcome="refused")
        error = ("Too many failed attempts. Wait 15 minutes and try again." if limited else
                 "That email and password do not match an account.")
        return render(request, "sign_in.html.j2", {"next": _local(data.get("next", "/")), "error": error,
                                                   "email": email, **_links(request)},
                      status=429 if limited else 401)
    audit.record(site.db, accounts.normal_email(email), "sign-in", address)
    response = redirect(_local(data.get("next", "/")))
    response.set_cookie(SESSION_COOKIE, accounts.sign(site.key, token), httponly=True, samesite="lax",
                        secure=site.secure, path="/", max_age=int(accounts.SESSION_LIFETIME.total_seconds()))
    return response


@router.post("/sign-out")
async def sign_out(request: Request):
    person = require(request)
    await form_of(request, set(), person)
    site = site_of(request)
    token = accounts.unsign(site.key, request.cookies.get(SESSION_COOKIE, ""))
    if token:
        accounts.end_session(site.db, token)
    response = redirect("/sign-in")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# ---------------------------------------------------------------- reading

def _reader(person) -> visibility.Reader:
    return visibility.Reader(person.email, person.teams, staff=person.at_least("facilitator"))


def _hidden(request: Request, person) -> frozenset[str]:
    """The metrics whose values this person may not see (`visible_to`)."""
    _, project = site_of(request).project()
    return visibility.hidden(project, _reader(person))


def _report(request: Request, person, overview):
    return visibility.redact(overview.report, _hidden(request, person))


@router.get("/")
def home(request: Request):
    person = require(request)
    overview = site_of(request).overview()
    if overview is None:
        return _computing(request, "the overview")
    return render(request, "home.html.j2", {"report": _report(request, person, overview)})


@router.get("/metrics")
def metrics(request: Request, q: str = "", team: str = "", level: str = "", owner: str = "",
                  confidence: str = ""):
    person = require(request)
    overview = site_of(request).overview()
    if overview is None:
        return _computing(request, "the metrics")
    report = _report(request, person, overview)
    words = q.strip().lower()
    shown = [m for m in report.metrics
             if (not words or words in m.name.lower() or words in m.label.lower())
             and (not team or m.team == team) and (not level or m.level == level)
             and (not owner or (m.owner or "").lower() == owner.lower())
             and (not confidence or m.confidence == confidence)]
    ms = report.metrics
    choices = {"team": sorted({m.team for m in ms}), "level": ["company", "function", "role"],
               "owner": sorted({m.owner for m in ms if m.owner}),
               "confidence": sorted({m.confidence for m in ms if m.confidence})}
    return render(request, "metrics.html.j2", {"metrics": shown, "choices": choices, "total": len(ms),
                                               "q": q, "picked": {"team": team, "level": level, "owner": owner,
                                                                  "confidence": confidence}})


def _edges(report) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """(child, parent) -> (verdict, in words), from the tree section."""
    out = {}
    section = report.sections.get("tree")

    def walk(node, parent):
        if parent is not None:
            out[(node.metric, parent)] = (node.verdict, node.verdict_text)
        for child in node.children:
            walk(child, node.metric)
    for root in (section.items if section else ()):
        walk(root, None)
    return out


def _definition_yaml(project, m) -> str:
    path = project.root / m.location.file
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    start = max(m.location.line - 1, 0)
    indent = len(lines[start]) - len(lines[start].lstrip(" -"))
    out = [lines[start]]
    for line in lines[start + 1:]:
        stripped = line.lstrip(" ")
        if stripped and (len(line) - len(stripped) < indent or
                         (len(line) - len(stripped) <= indent - 2 and stripped.startswith("- "))):
            break
        if stripped.startswith("- ") and len(line) - len(stripped) == indent - 2:
            break
        out.append(line)
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out)


def _history(project, rel: str) -> list[dict]:
    try:
        run = subprocess.run(["git", "-C", str(project.root), "log", "-n", "10", "--format=%h%x1f%ad%x1f%an%x1f%s",
                              "--date=short", "--", rel], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    if run.returncode != 0:
        return []
    return [dict(zip(("rev", "date", "author", "subject"), line.split("\x1f"))) for line in run.stdout.splitlines()
            if line.count("\x1f") == 3]


def _values(project, today, name, grain):
    result = app.compute(project, [name], grain, today)
    return [r for r in result.as_dict()["rows"]][-12:]


@router.get("/metrics/{name}")
def metric(request: Request, name: str, grain: str = ""):
    person = require(request)
    site = site_of(request)
    overview = site.overview()
    if overview is None:
        return _computing(request, f"metric {name}")
    _, project = site.project()
    if not project.has_metric(name):
        raise UserError(f"metric '{name}' is not defined.{_near(name, [m.name for m in project.metrics])}")
    m = project.metric(name)
    hide = _hidden(request, person)
    report = visibility.redact(overview.report, hide)
    view = next(v for v in report.metrics if v.name == name)
    values = None
    if grain and name not in hide:
        from accord.compute.periods import GRAINS
        app.choose(grain, "grain", GRAINS)
        values = site.result("values", _values, name, grain)
        if values is None:
            return _computing(request, f"{name} by {grain}")
    edges = _edges(report)
    parents = [(p.metric, *edges.get((name, p.metric), (None, None))) for p in m.parents]
    children = [(c.name, *edges.get((c.name, name), (None, None))) for c in project.metrics
                if any(p.metric == name for p in c.parents)]
    findings = [f for f in overview.check.findings if name in f.metrics and not set(f.metrics) & hide]
    decisions = [d for d in project.decisions if any(u.metric == name for u in d.canonical + d.alternates)]
    return render(request, "metric.html.j2", {
        "m": m, "view": view, "values": values, "grain": grain, "parents": parents, "children": children,
        "findings": findings, "decisions": decisions, "yaml": _definition_yaml(project, m),
        "history": _history(project, m.location.file),
        "approve_base": app.content_hash(app.approval_paths(project, name)),
        "may_approve": may.may_approve(person, project, name) and any(
            metric == name for _, metric in app.pending_approvals(project))})


def _diff(project, today, rev):
    return app.diff(project, rev, today)


@router.get("/metrics/{name}/since/{rev}")
def metric_since(request: Request, name: str, rev: str):
    """What changed in the metric's definition since a git revision, with the numeric impact."""
    require(request)
    site = site_of(request)
    _, project = site.project()
    if not project.has_metric(name):
        raise UserError(f"metric '{name}' is not defined.{_near(name, [m.name for m in project.metrics])}")
    if not re.fullmatch(r"[0-9a-f]{4,40}", rev):
        raise UserError(f"'{rev[:20]}' is not a commit id. pick one from the metric's history")
    result = site.result("diff", _diff, rev)
    if result is None:
        return _computing(request, f"{name} since {rev}")
    change = next((c for c in result.changed if c.metric == name), None)
    return render(request, "metric_since.html.j2", {"m": project.metric(name), "rev": rev, "change": change,
                                                    "added": name in result.added})


def _near(word, choices):
    from accord.errors import did_you_mean
    return did_you_mean(word, choices)


@router.get("/collisions")
def collisions(request: Request):
    person = require(request)
    overview = site_of(request).overview()
    if overview is None:
        return _computing(request, "the collisions")
    section = _report(request, person, overview).sections.get("collisions")
    return render(request, "collisions.html.j2", {"items": section.items if section else ()})


def _bridge(project, today, a, b, period):
    return app.reconcile(project, a, b, period)


@router.get("/collisions/bridge")
def bridge(request: Request, a: str, b: str, period: str):
    person = require(request)
    site = site_of(request)
    _, project = site.project()
    for name in (a, b):
        if not project.has_metric(name):
            raise UserError(f"metric '{name}' is not defined.{_near(name, [m.name for m in project.metrics])}")
    if not re.fullmatch(r"[0-9A-Za-z-]{4,12}", period):
        raise UserError(f"period '{period[:20]}' is not a period. write 2026-Q3, 2026-07, 2026-W29 or 2026")
    closed = sorted({a, b} & _hidden(request, person))
    if closed:
        raise Refused("bridge", f"{a} {b} {period}", f"the values of {' and '.join(closed)} are visible only to "
                      f"{', '.join(project.metric(closed[0]).visible_to)}, their owner and facilitators")
    result = site.result("bridge", _bridge, a, b, period)
    if result is None:
        return _computing(request, f"the bridge from {a} to {b}")
    from accord.analyze.bridge_words import compact, sentence
    data = result.as_dict()
    teams = {m.name: m.team for m in project.metrics}
    entity = project.source(project.metric(a).source).entity
    owning = set().union(*(visibility.source_teams(project, project.metric(n).source) or {teams[n]}
                           for n in (a, b)))
    show_records = may.may_see_records(person, owning)
    steps = [{"delta": compact(s["delta"], project.metric(a).unit), "words": sentence(s, data["a"], data["b"],
                                                                                     entity, teams),
              "examples": s["examples"] if show_records else [], "records": s["records"]} for s in data["steps"]]
    return render(request, "bridge.html.j2", {"data": data, "steps": steps, "show_records": show_records,
                                              "unit": project.metric(a).unit, "compact": compact})


@router.get("/tree")
def tree(request: Request):
    person = require(request)
    overview = site_of(request).overview()
    if overview is None:
        return _computing(request, "the tree")
    section = _report(request, person, overview).sections.get("tree")
    return render(request, "tree.html.j2", {"section": section})


def _customer(project, today, customer):
    return app.touchpoints(project, today, customer=customer).timeline


@router.get("/touchpoints")
def touchpoints(request: Request, customer: str = ""):
    require(request)
    site = site_of(request)
    overview = site.overview()
    if overview is None:
        return _computing(request, "the touchpoints")
    section = overview.report.sections.get("touchpoints")
    timeline, problem = None, None
    customer = customer.strip()[:64]
    if customer:
        try:
            timeline = site.result("customer", _customer, customer, wait=True)
        except UserError as e:
            problem = " ".join(e.lines())
    live = app.hold_rates(site.project()[1], site.db)
    return render(request, "touchpoints.html.j2", {"section": section, "customer": customer,
                                                   "timeline": timeline, "problem": problem, "live": live})


@router.get("/findings")
def findings(request: Request, code: str = "", severity: str = "", team: str = "", owner: str = ""):
    person = require(request)
    overview = site_of(request).overview()
    if overview is None:
        return _computing(request, "the findings")
    return _findings(request, person, overview, code, severity, team, owner)


def _findings(request: Request, person, overview, code: str = "", severity: str = "", team: str = "",
              owner: str = "", refused: dict | None = None, status: int = 200):
    """The findings page; `refused` (code, metrics, what was typed, problems) opens that finding's accept form
    again with what was typed and the problems next to it."""
    site = site_of(request)
    _, project = site.project()
    hide = _hidden(request, person)
    all_ = [f for f in overview.check.findings if not set(f.metrics) & hide]
    shown = [f for f in all_ if (not code or f.code == code) and (not severity or f.severity == severity)
             and (not team or team in f.teams) and (not owner or (f.owner or "").lower() == owner.lower())]
    choices = {"code": sorted({f.code for f in all_}), "severity": list(SEVERITIES),
               "team": sorted({t for f in all_ for t in f.teams}), "owner": sorted({f.owner for f in all_ if f.owner})}
    acceptable = {i for i, f in enumerate(shown) if f.accepted is None and may.may_accept(person, project, f)}
    return render(request, "findings.html.j2", {
        "findings": shown, "choices": choices, "picked": {"code": code, "severity": severity, "team": team,
                                                          "owner": owner},
        "acceptable": acceptable, "base": app.content_hash(app.accept_paths(project)),
        "today": today_of(project), "total": len(all_), "refused": refused}, status=status)


# ---------------------------------------------------------------- writing

def _written(request: Request, person, action: str, target: str, written: app.Written) -> None:
    before = "\n".join(f"--- {k}\n{v}" for k, v in written.before.items())
    after = "\n".join(f"+++ {k}\n{v}" for k, v in written.after.items())
    audit.record(site_of(request).db, person.email, action, target, before, after)


def _conflict(request: Request, person, action: str, target: str, e: Conflict, back: str) -> HTMLResponse:
    audit.record(site_of(request).db, person.email, action, target, outcome="conflict")
    return render(request, "conflict.html.j2", {"current": e.current, "back": back, "message": e.lines()[0]},
                  status=409)


@router.post("/findings/accept")
async def accept(request: Request):
    person = require(request)
    data = await form_of(request, {"index", "code", "metrics", "reason", "until", "base"}, person)
    site = site_of(request)
    _, project = site.project()
    overview = site.overview(wait=True)
    metrics = tuple(x for x in data.get("metrics", "").split(",") if x)
    finding = next((f for f in overview.check.findings if f.code == data.get("code") and f.metrics == metrics), None)
    target = f"{data.get('code')} {','.join(metrics)}"
    if finding is None:
        raise UserError("that finding is no longer open. reload the findings")
    if not may.may_accept(person, project, finding):
        raise Refused("accept", target, f"Only the finding's owner ({finding.owner}) or the lead of a team it "
                                        "names may accept it.")
    today = today_of(project)
    problems = []
    until = None
    try:
        until = app.parse_date(data.get("until") or None, "until:")
    except UserError as e:
        problems += e.lines()
    if until is None and not problems:
        problems.append("until: give the date the acceptance ends, such as "
                        f"{(today + dt.timedelta(days=90)).isoformat()}")
    if not problems:
        try:
            written = app.accept_finding(project, finding.code, metrics, person.email, data.get("reason", ""),
                                         until, today, expected=data.get("base"))
        except Conflict as e:
            return _conflict(request, person, "accept", target, e, "/findings")
        except UserError as e:
            problems += e.lines()
        else:
            _written(request, person, "accept", target, written)
            return redirect("/findings?" + f"code={finding.code}")
    audit.record(site.db, person.email, "accept", target, outcome="invalid")
    return _findings(request, person, overview, code=finding.code, status=422, refused={
        "code": finding.code, "metrics": ",".join(metrics), "reason": data.get("reason", ""),
        "until": data.get("until", ""), "problems": [x for x in problems if not x.startswith(("until:", "reason"))],
        "at_field": {f: " ".join(x.split(": ", 1)[-1] for x in problems if x.startswith(f))
                     for f in ("until", "reason") if any(x.startswith(f) for x in problems)}})


@router.post("/approve/{name}")
async def approve(request: Request, name: str):
    person = require(request)
    data = await form_of(request, {"base", "back"}, person)
    site = site_of(request)
    _, project = site.project()
    if not may.may_approve(person, project, name):
        raise Refused("approve", name, "Only a decision's owner or the metric's owner may approve a change to it.")
    try:
        written = app.approve_as(project, name, person.email, today_of(project), expected=data.get("base"))
    except Conflict as e:
        return _conflict(request, person, "approve", name, e, f"/metrics/{name}")
    _written(request, person, "approve", name, written)
    return redirect(_local(data.get("back") or f"/metrics/{name}"))


# ---------------------------------------------------------------- the workshop

def _labels(overview, project) -> list[dict]:
    from accord.workshop.topic import slug
    seen: dict[str, dict] = {}
    for f in overview.check.findings:
        if f.code == "label-collision":
            label = f.evidence.get("label")
            seen.setdefault(slug(label), {"label": label, "severity": f.severity, "teams": f.teams})
    for d in project.decisions:
        seen.setdefault(slug(d.label), {"label": d.label, "severity": "info", "teams": ()})
    return list(seen.values())


@router.get("/workshop")
def workshop(request: Request):
    require(request)
    site = site_of(request)
    overview = site.overview()
    if overview is None:
        return _computing(request, "the workshop")
    _, project = site.project()
    items = []
    for item in _labels(overview, project):
        state = _state(project, item["label"])
        items.append({**item, "missing": [r.team for r in state["requests"] if r.team not in state["submitted"]],
                      "decided": state["topic"].decision is not None})
    return render(request, "workshop.html.j2", {"items": items})


def _state(project, label):
    from accord.workshop.prework import read_answers, requests
    from accord.workshop.topic import topic
    t = topic(project, label)
    reqs = requests(project, t)
    try:
        answers = read_answers(project, t)
    except UserError:
        answers = {}
    submitted = {team for team, a in answers.items() if a.answered_by}
    return {"topic": t, "requests": reqs, "answers": answers, "submitted": submitted}


def _prework_values(request_, answers) -> dict:
    """What the form shows: the team's answers as written, else the pre-filled ones."""
    out = {}
    for own in request_.own:
        given = answers.metrics.get(own["metric"], {}) if answers else {}
        out[own["metric"]] = {k: (given.get(k) if given.get(k) is not None else own["answers"].get(k))
                              for k in own["answers"]}
    return out


@router.get("/workshop/{label}")
def workshop_label(request: Request, label: str):
    person = require(request)
    _, project = site_of(request).project()
    return render(request, "workshop_label.html.j2", _workshop(person, project, label))


def _workshop(person, project, label: str, error: list[str] | None = None, given: dict | None = None,
              prework: tuple[str, dict, list[str], dict[str, str]] | None = None) -> dict:
    """The workshop page of a label: pre-work per team, approvals, and (for facilitators) the decision form with
    the problems of the last attempt next to it and what was typed kept; `prework` (team, what was typed,
    problems, field -> its problem) does the same for a team's pre-work form, each problem under its field."""
    state = _state(project, label)
    t = state["topic"]
    from accord.workshop.prework import QUESTIONS, SHARPER
    teams = []
    for r in state["requests"]:
        a = state["answers"].get(r.team)
        entry = {"request": r, "answers": a, "submitted": r.team in state["submitted"],
                 "editable": may.may_edit_prework(person, r.team),
                 "values": _prework_values(r, a), "problems": [], "at_field": {},
                 "others": a.others_wrong if a else None,
                 "base": app.content_hash(app.prework_paths(project, t.label, r.team))}
        if prework and prework[0] == r.team:
            typed, entry["problems"], entry["at_field"] = prework[1], prework[2], prework[3]
            entry["values"] = {o["metric"]: {k: typed.get(f"{o['metric']}.{k}") for k, _ in QUESTIONS}
                               for o in r.own}
            entry["others"] = typed.get(SHARPER[0])
            entry["base"] = typed.get("base") or entry["base"]
        teams.append(entry)
    names = {o["metric"] for r in state["requests"] for o in r.own}
    approvable = [metric for _, metric in app.pending_approvals(project) if metric in names]
    return {
        "t": t, "teams": teams, "questions": QUESTIONS, "sharper": SHARPER,
        "see_answers": may.may_see_answers(person, state["submitted"]),
        "may_decide": may.may_decide(person), "metrics": sorted(names),
        "decision_base": (given or {}).get("base") or app.content_hash(app.decision_paths(project, t.label)),
        "missing": [r.team for r in state["requests"] if r.team not in state["submitted"]],
        "approvable": [(metric, may.may_approve(person, project, metric),
                        app.content_hash(app.approval_paths(project, metric))) for metric in approvable],
        "error": [x for x in error or () if not x.startswith(DECIDE_PREFIXES)],
        "at_field": {field: " ".join(x for x in error or () if x.startswith(prefix))
                     for prefix, field in zip(DECIDE_PREFIXES, DECIDE_AT) if any(x.startswith(prefix) for x in error or ())},
        "form": given or {}}


@router.post("/workshop/{label}/prework/{team}")
async def prework(request: Request, label: str, team: str):
    person = require(request)
    site = site_of(request)
    _, project = site.project()
    state = _state(project, label)
    t = state["topic"]
    from accord.workshop.prework import QUESTIONS, SHARPER
    r = next((r for r in state["requests"] if r.team == team), None)
    if r is None:
        raise UserError(f"team '{team}' has no pre-work on '{t.label}'")
    fields = {"base", SHARPER[0]} | {f"{o['metric']}.{k}" for o in r.own for k, _ in QUESTIONS}
    data = await form_of(request, fields, person)
    target = f"{t.label}/{team}"
    if not may.may_edit_prework(person, team):
        raise Refused("prework", target, f"Only members of {team} may fill in {team}'s pre-work.")
    answers = {o["metric"]: {k: (data.get(f"{o['metric']}.{k}") or None) for k, _ in QUESTIONS} for o in r.own}
    questions = dict(QUESTIONS) | {SHARPER[0]: SHARPER[1]}
    at_field = {k: f"{len(v):,} characters, at most 2,000. shorten it" for k, v in data.items()
                if k != "base" and len(v) > 2000}
    problems = [f"“{questions.get(k.split('.', 1)[-1], k)}”" + (f" ({k.split('.')[0]})" if "." in k else "")
                + f": {why}" for k, why in at_field.items()]
    if not problems:
        try:
            written = app.submit_prework(project, t.label, team, person.email, answers,
                                         data.get(SHARPER[0]) or None, expected=data.get("base"))
        except Conflict as e:
            return _conflict(request, person, "prework", target, e, f"/workshop/{t.label}")
        except UserError as e:
            problems = e.lines()
    if problems:
        audit.record(site.db, person.email, "prework", target, outcome="invalid")
        return render(request, "workshop_label.html.j2",
                      _workshop(person, project, t.label, prework=(team, data, problems, at_field)), status=422)
    _written(request, person, "prework", target, written)
    return redirect(f"/workshop/{_q(t.label)}#team-{team}")


def _q(s: str) -> str:
    from urllib.parse import quote
    return quote(s, safe="")


# a decision's problems, by how they start (the command line's words), under the form field they concern
DECIDE_PREFIXES = ("--canonical", "for:", "--alternate", "--owner", "--follow-up", "--review-every")
DECIDE_AT = ("canonical", "for", "alternates", "owner", "follow_ups", "review_every")

DECIDE_FIELDS = {"base", "canonical", "for", "alternates", "owner", "caveats", "unresolved", "follow_ups",
                 "review_every"}


def _lines(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").splitlines() if x.strip()]


@router.post("/workshop/{label}/decide")
async def decide(request: Request, label: str):
    person = require(request)
    site = site_of(request)
    _, project = site.project()
    data = await form_of(request, DECIDE_FIELDS, person)
    from accord.workshop.decide import DecisionSpec, Use, parse_alternate, parse_follow_up
    from accord.workshop.topic import topic
    t = topic(project, label)
    if not may.may_decide(person):
        raise Refused("decide", t.label, "Only facilitators record decisions.")
    problems: list[str] = []
    spec = None
    try:
        uses = [u.strip() for u in re.split(r"[;\n]", data.get("for", "")) if u.strip()]
        alternates = []
        for line in _lines(data.get("alternates")):
            alternates.append(parse_alternate(line))
        follow_ups = [parse_follow_up(line) for line in _lines(data.get("follow_ups"))]
        canonical = data.get("canonical") or None
        spec = DecisionSpec(
            label=t.label, decided_on=today_of(project),
            canonical=Use(canonical, tuple(uses)) if canonical else None,
            alternates=alternates or None, owner=(data.get("owner") or "").strip() or None,
            caveats=_lines(data.get("caveats")) or None, unresolved=_lines(data.get("unresolved")) or None,
            follow_ups=follow_ups or None, review_every=data.get("review_every") or None)
        if uses and not canonical:
            raise UserError("for: names what the canonical metric is for. choose the canonical metric too")
        written = app.decide_as(project, spec, person.email, expected=data.get("base"))
    except Conflict as e:
        return _conflict(request, person, "decide", t.label, e, f"/workshop/{_q(t.label)}")
    except UserError as e:
        problems = e.lines()
    if problems:
        audit.record(site.db, person.email, "decide", t.label, outcome="invalid")
        return render(request, "workshop_label.html.j2", _workshop(person, project, t.label, problems, data),
                      status=422)
    _written(request, person, "decide", t.label, written)
    return redirect(f"/workshop/{_q(t.label)}#decision")


@router.get("/workshop/{label}/kit")
def kit(request: Request, label: str):
    person = require(request)
    if not person.at_least("member"):
        raise Refused("kit", label, "The facilitation kit is for the workshop's members and facilitators.")
    site = site_of(request)
    result = site.result("kit", _kit, label)
    if result is None:
        return _computing(request, f"the kit for '{label}'")
    return HTMLResponse(result)


def _kit(project, today, label):
    from accord.render.workshop import kit_html
    return kit_html(app.kit(project, [label], today))


# ---------------------------------------------------------------- accounts (admins)

@router.get("/admin")
def admin(request: Request):
    person = require(request)
    if not may.may_admin(person):
        raise Refused("admin", "accounts", "Only admins manage accounts.")
    return _admin_page(request)


def _admin_page(request: Request, new_token: tuple[str, str] | None = None):
    site = site_of(request)
    project = site.project()[1]
    teams = list(dict.fromkeys([t.name for t in project.teams] + (
        [t.team for t in project.contact_policy.touches] if project.contact_policy else [])))
    return render(request, "admin.html.j2", {"accounts": accounts.accounts(site.db), "roles": accounts.ROLES,
                                             "log": audit.entries(site.db, 50), "tokens": tokens.all_tokens(site.db),
                                             "teams": teams, "scopes": tokens.SCOPES,
                                             "default_scopes": tokens.DEFAULT_SCOPES, "new_token": new_token})


@router.post("/admin/tokens/add")
async def admin_token_add(request: Request):
    person = require(request)
    data = await form_of(request, {"name", "team", "scope"}, person)
    if not may.may_admin(person):
        raise Refused("tokens.add", data.get("name", ""), "Only admins manage tokens.")
    site = site_of(request)
    teams = tuple(t for t in data.get("team", "").split("\n") if t)
    scopes = tuple(s for s in data.get("scope", "").split("\n") if s) or tokens.DEFAULT_SCOPES
    if not teams:
        raise BadForm("a token needs at least one team. tick the teams it may act for")
    secret = app.add_token(site.project()[1], site.db, data.get("name", "").strip(), teams, scopes)
    audit.record(site.db, person.email, "tokens.add", data["name"], None,
                 f"teams {','.join(teams)}; scopes {','.join(scopes)}")
    return _admin_page(request, (data["name"].strip(), secret))


@router.post("/admin/tokens/revoke")
async def admin_token_revoke(request: Request):
    person = require(request)
    data = await form_of(request, {"name"}, person)
    if not may.may_admin(person):
        raise Refused("tokens.revoke", data.get("name", ""), "Only admins manage tokens.")
    site = site_of(request)
    tokens.revoke(site.db, data.get("name", ""))
    audit.record(site.db, person.email, "tokens.revoke", data.get("name", ""))
    return redirect("/admin")


@router.post("/admin/role")
async def admin_role(request: Request):
    person = require(request)
    data = await form_of(request, {"email", "role"}, person)
    if not may.may_admin(person):
        raise Refused("users.role", data.get("email", ""), "Only admins manage accounts.")
    site = site_of(request)
    before = accounts.get_account(site.db, data.get("email", ""))
    accounts.set_role(site.db, data.get("email", ""), data.get("role", ""))
    audit.record(site.db, person.email, "users.role", data.get("email", ""), before and before.role, data["role"])
    return redirect("/admin")


@router.post("/admin/remove")
async def admin_remove(request: Request):
    person = require(request)
    data = await form_of(request, {"email"}, person)
    if not may.may_admin(person):
        raise Refused("users.remove", data.get("email", ""), "Only admins manage accounts.")
    site = site_of(request)
    accounts.remove_account(site.db, data.get("email", ""))
    audit.record(site.db, person.email, "users.remove", data.get("email", ""))
    return redirect("/admin")


@router.post("/admin/refresh")
async def admin_refresh(request: Request):
    person = require(request)
    await form_of(request, set(), person)
    if not may.may_admin(person):
        raise Refused("refresh", "results", "Only admins refresh the results.")
    site = site_of(request)
    site.refresh()
    audit.record(site.db, person.email, "refresh", "results")
    return redirect("/")


@router.get("/-/healthz")
def healthz() -> Response:
    return Response("ok\n", media_type="text/plain")



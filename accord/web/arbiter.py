"""The contact arbiter's JSON API: sending systems ask before they contact a customer.

Part of `accord serve`, and alone as `accord arbiter` (`arbiter_app`). Bearer tokens scoped to teams and to what
they may do (claim, check, states, timeline, replay, monitor). Every answer to bad input is a 4xx with one line.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import PlainTextResponse

from accord import app as accord_app
from accord.errors import UserError
from accord.store import tokens
from accord.web.security import HEADERS, MAX_BODY

router = APIRouter(tags=["arbiter"])
bearer = HTTPBearer(auto_error=False, description="A token from `accord tokens add NAME --team TEAM`.")

REPLAY_BEFORE = dt.timedelta(minutes=5)
REPLAY_AFTER = dt.timedelta(minutes=1)
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1.0)
Text = Field(min_length=1, max_length=200, strict=True)
Name = Field(min_length=1, max_length=64, strict=True)


def _iso_text(value):
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 time as text, with a zone, such as 2026-06-01T09:30:00+02:00")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_iso_text)]


class ClaimIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: str = Text
    team: str = Name
    channel: str = Name
    kind: Optional[str] = Field(None, min_length=1, max_length=64, strict=True)
    at: Optional[Time] = Field(None, description="ISO 8601 with a zone or offset; default now")
    idempotency_key: str = Text


class Reason(BaseModel):
    rule: str
    detail: str
    until: Optional[str] = None


class Decision(BaseModel):
    id: Optional[int] = None
    decision: Literal["allow", "hold"]
    reasons: list[Reason]
    next_allowed_at: Optional[str] = None
    mode: Literal["enforce", "shadow"]
    would_have_held: list[Reason]


class StateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    customer: str = Text
    state: str = Name
    opened: Time
    resolved: Optional[Time] = None


class StateOut(BaseModel):
    customer: str
    state: str
    opened: str
    resolved: Optional[str] = None


class TimelineTouch(BaseModel):
    team: str
    channel: str
    at: str
    id: Optional[int] = None
    kind: Optional[str] = None
    decision: Optional[str] = None
    held_by: Optional[str] = None
    would_have_been_held_by: Optional[str] = None
    origin: Optional[str] = None


class Holding(BaseModel):
    rule: str
    until: Optional[str] = None


class TimelineOut(BaseModel):
    customer: str
    timezone: str
    touches: list[TimelineTouch]
    states: list[StateOut]
    holding_now: list[Holding]


class Released(BaseModel):
    id: int
    released: bool


class Problem(BaseModel):
    detail: str


ERRORS = {401: {"model": Problem}, 403: {"model": Problem}, 404: {"model": Problem}, 413: {"model": Problem},
          422: {"model": Problem}, 503: {"model": Problem}}


# ---------------------------------------------------------------- the arbiter of this process, and tokens

_build_lock = threading.Lock()


def arbiter_of(request: Request):
    return _arbiter(request.app.state)


def _arbiter(state):
    arb = getattr(state, "arbiter", None)
    if arb is None:
        with _build_lock:
            arb = getattr(state, "arbiter", None)
            if arb is None:
                site = state.site
                project = site.project()[1]
                if project.contact_policy is None:
                    raise HTTPException(404, "the project has no contact_policy, so there is no arbiter. add one "
                                             "to a definitions file")
                try:
                    arb = accord_app.arbiter(project, site.db)
                except UserError as e:
                    raise HTTPException(503, " ".join(e.lines())) from None
                state.arbiter = arb
    return arb


_token_cache: dict[str, tuple[float, tokens.Token | None]] = {}
TOKEN_TTL = 2.0          # a revoked token stops working within this many seconds


def _token(request: Request, secret: str) -> tokens.Token | None:
    return _token_in(request.app.state.site.db, secret)


def _token_in(db, secret: str) -> tokens.Token | None:
    hit = _token_cache.get(secret)
    clock = time.monotonic()
    if hit is not None and clock - hit[0] < TOKEN_TTL:
        return hit[1]
    found = tokens.token_for(db, secret)
    if len(_token_cache) > 10_000:
        _token_cache.clear()
    _token_cache[secret] = (clock, found)
    return found


def allowed(scope: str):
    async def check(request: Request,
                    credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> tokens.Token:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
        token = await run(request, _token, request, credentials.credentials)
        if token is None:
            raise HTTPException(401, "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"})
        if scope not in token.scopes:
            raise HTTPException(403, f"the token may not {scope}. make one with --scope {scope}")
        return token
    return check


def _team(token: tokens.Token, team: str, what: str) -> None:
    if team not in token.teams:
        raise HTTPException(403, f"the token may {what} only for {', '.join(token.teams) or 'no team'}, "
                                 f"not for '{team}'")


def _when(token: tokens.Token, at: dt.datetime | None) -> tuple[dt.datetime, bool]:
    moment = dt.datetime.now(dt.timezone.utc)
    if at is None:
        return moment, False
    if "replay" not in token.scopes and not (moment - REPLAY_BEFORE <= at <= moment + REPLAY_AFTER):
        raise HTTPException(403, "at is more than 5 minutes before or 1 minute after now. only a token with "
                                 "--scope replay may send such a time")
    return at, True


def _decide(request: Request, body: ClaimIn, token: tokens.Token, record: bool) -> dict:
    from accord.store.arbiter import Claim
    arb = arbiter_of(request)
    if body.team not in arb.teams:
        raise HTTPException(422, f"team '{body.team}' is not in the contact policy. use one of: "
                                 f"{', '.join(arb.teams)}")
    _team(token, body.team, "claim" if record else "check")
    at, given = _when(token, body.at)
    claim = Claim(body.customer, body.team, body.channel, body.kind, at, given, body.idempotency_key, token.name)
    try:
        return (arb.claim(claim) if record else arb.check(claim)).as_dict()
    except UserError as e:
        raise HTTPException(422, " ".join(e.lines())) from None


_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="accord-arbiter")


async def run(request: Request, fn, *args):
    """SQLite answers in tens of microseconds: on the event loop. PostgreSQL waits on the network: in one of a few
    threads of this process, each with its connection (a process never holds more than 8)."""
    if request.app.state.site.db.dialect == "sqlite":
        return fn(*args)
    return await asyncio.get_running_loop().run_in_executor(_POOL, functools.partial(fn, *args))


# ---------------------------------------------------------------- the routes

@router.post("/api/v1/touches/claim", response_model=Decision, responses=ERRORS)
async def claim(request: Request, body: ClaimIn, token: tokens.Token = Depends(allowed("claim"))):
    """Ask before contacting a customer; an `allow` records the touch in the same transaction (the slot is taken)."""
    started = time.perf_counter()
    answer = await run(request, _decide, request, body, token, True)
    request.app.state.arbiter_metrics.observe(time.perf_counter() - started)
    return answer


@router.post("/api/v1/touches/check", response_model=Decision, responses=ERRORS)
async def check(request: Request, body: ClaimIn, token: tokens.Token = Depends(allowed("check"))):
    """The answer a claim would get, recording nothing."""
    return await run(request, _decide, request, body, token, False)


@router.delete("/api/v1/touches/{touch_id}", response_model=Released, responses=ERRORS)
async def release(request: Request, touch_id: int = Path(..., ge=1, le=2**62),
                  token: tokens.Token = Depends(allowed("claim"))):
    """Give back the slot of a claim that was not sent."""
    arb = arbiter_of(request)
    outcome = await run(request, arb.release, touch_id, token.teams)
    if outcome == "unknown":
        raise HTTPException(404, f"no claim has id {touch_id}")
    if outcome == "not yours":
        raise HTTPException(403, "the claim is another team's. release it with a token of that team")
    return {"id": touch_id, "released": True}


@router.post("/api/v1/states", response_model=StateOut, responses=ERRORS)
async def states(request: Request, body: StateIn, token: tokens.Token = Depends(allowed("states"))):
    """Open a state of a customer (an open support case is `open_case`), or close it: the same opened, with resolved."""
    arb = arbiter_of(request)
    if body.state not in arb.states:
        raise HTTPException(422, f"state '{body.state}' is not in the contact policy. use one of: "
                                 f"{', '.join(arb.states) or 'none'}")
    owners = arb.state_teams.get(body.state, set())
    if not owners & set(token.teams):
        raise HTTPException(403, f"the token's teams do not own the source of state '{body.state}'. use a token of "
                                 f"{', '.join(sorted(owners)) or 'the team owning that source'}")
    try:
        return await run(request, arb.set_state, body.customer, body.state, body.opened, body.resolved)
    except UserError as e:
        raise HTTPException(422, " ".join(e.lines())) from None


@router.get("/api/v1/customers/{customer}/timeline", response_model=TimelineOut, responses=ERRORS)
async def timeline(request: Request, customer: str = Path(..., min_length=1, max_length=200),
                   days: int = Query(7, ge=1, le=90), token: tokens.Token = Depends(allowed("timeline"))):
    """The customer's recent touches across teams (others' as team, channel and time only), states, and the rules
    holding a touch of the token's teams now."""
    arb = arbiter_of(request)
    return await run(request, arb.timeline, customer, token.teams, dt.datetime.now(dt.timezone.utc), days)


@router.get("/-/metrics", responses={200: {"description": "Prometheus text",
                                           "content": {"text/plain": {"schema": {"type": "string"}}}}, **ERRORS})
def metrics(request: Request, token: tokens.Token = Depends(allowed("monitor"))):
    """Prometheus text: decisions of this process by decision, rule and team; claim latency."""
    arb = arbiter_of(request)
    return PlainTextResponse(request.app.state.arbiter_metrics.text(arb.counts),
                             media_type="text/plain; version=0.0.4")


class Metrics:
    """Claim latency as a Prometheus histogram."""

    def __init__(self):
        self.buckets = [0] * len(BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        for i, edge in enumerate(BUCKETS):
            if seconds <= edge:
                self.buckets[i] += 1

    def text(self, counts) -> str:
        out = ["# HELP accord_arbiter_decisions_total Claims answered, by decision, holding rule and team.",
               "# TYPE accord_arbiter_decisions_total counter"]
        for (decision, rule, team), n in sorted(counts.items()):
            out.append(f'accord_arbiter_decisions_total{{decision="{_esc(decision)}",rule="{_esc(rule)}",'
                       f'team="{_esc(team)}"}} {n}')
        out += ["# HELP accord_arbiter_claim_seconds Time to decide and record a claim.",
                "# TYPE accord_arbiter_claim_seconds histogram"]
        for edge, n in zip(BUCKETS, self.buckets):
            out.append(f'accord_arbiter_claim_seconds_bucket{{le="{edge}"}} {n}')
        out += [f'accord_arbiter_claim_seconds_bucket{{le="+Inf"}} {self.count}',
                f"accord_arbiter_claim_seconds_sum {self.total:.6f}", f"accord_arbiter_claim_seconds_count {self.count}"]
        return "\n".join(out) + "\n"


def _esc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


# ---------------------------------------------------------------- the claim's fast path

_JSON_HEADERS = [(b"content-type", b"application/json")] + \
    [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()] + [(b"cache-control", b"no-store")]


class FastClaims:
    """The common claim — a known token with the claim scope, a valid body, a team of the policy and of the token,
    on SQLite — answered without FastAPI's routing, dependency solving and the Guard middleware (about two
    thirds of a claim's time). Every other request, and any claim this path does not take whole, goes to the
    app unchanged, so errors have one source: the routes above. The answer is the same: the same functions
    decide and record it, with the same headers."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/api/v1/touches/claim":
            return await self.app(scope, receive, send)
        body, more = b"", True
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) <= MAX_BODY:
            chunks = []
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            answer = self._answer(scope, headers, body)
            if answer is not None:
                await send({"type": "http.response.start", "status": 200,
                            "headers": _JSON_HEADERS + [(b"content-length", str(len(answer)).encode())]})
                await send({"type": "http.response.body", "body": answer})
                return
        if more:          # not read: the app reads it (and refuses what is too large)
            return await self.app(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()
        return await self.app(scope, replay, send)

    def _answer(self, scope, headers: dict, body: bytes) -> bytes | None:
        from accord.store.arbiter import Claim
        started = time.perf_counter()
        state = scope["app"].state
        site = state.site
        auth = headers.get(b"authorization", b"")
        if site.db.dialect != "sqlite" or auth[:7].lower() != b"bearer ":
            return None
        token = _token_in(site.db, auth[7:].decode("latin-1").strip())
        if token is None or "claim" not in token.scopes:
            return None
        try:
            claim = ClaimIn.model_validate_json(body)
        except ValueError:
            return None
        try:
            arb = _arbiter(state)
        except HTTPException:
            return None
        if claim.team not in arb.teams or claim.team not in token.teams:
            return None
        moment = dt.datetime.now(dt.timezone.utc)
        if claim.at is not None and "replay" not in token.scopes and \
                not (moment - REPLAY_BEFORE <= claim.at <= moment + REPLAY_AFTER):
            return None
        try:
            answer = arb.claim(Claim(claim.customer, claim.team, claim.channel, claim.kind, claim.at or moment,
                                     claim.at is not None, claim.idempotency_key, token.name))
        except UserError:
            return None
        state.arbiter_metrics.observe(time.perf_counter() - started)
        return json.dumps(answer.as_dict(), separators=(",", ":")).encode()

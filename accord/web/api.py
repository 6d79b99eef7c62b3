"""The JSON API under /api/v1: bearer tokens only (a session cookie opens nothing here)."""
from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict
from starlette.requests import Request

from accord import visibility
from accord.numbers import plain, plain_data
from accord.store import tokens

router = APIRouter(prefix="/api/v1", tags=["read"])
bearer = HTTPBearer(auto_error=False, description="A token from `accord tokens add NAME --scope read`.")


class Location(BaseModel):
    file: Optional[str] = None
    line: Optional[int] = None


class FindingOut(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    severity: Literal["error", "warning", "info"]
    title: str
    metrics: list[str]
    teams: list[str]
    owner: Optional[str] = None
    evidence: dict
    location: Optional[Location] = None
    accepted: Optional[dict] = None


class Findings(BaseModel):
    findings: list[FindingOut]
    counts: dict[str, int]


class MetricOut(BaseModel):
    name: str
    label: str
    team: str
    level: str
    owner: Optional[str] = None
    unit: Optional[str] = None
    period: Optional[str] = None
    value: Optional[float] = None
    target_status: Optional[str] = None
    restricted: bool = False


class Metrics(BaseModel):
    metrics: list[MetricOut]


class Problem(BaseModel):
    detail: str


def token_of(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> tokens.Token:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    token = tokens.token_for(request.app.state.site.db, credentials.credentials)
    if token is None:
        raise HTTPException(401, "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"})
    if "read" not in token.scopes:
        raise HTTPException(403, "the token may not read")
    return token


def _overview(request: Request):
    overview = request.app.state.site.overview()
    if overview is None:
        raise HTTPException(503, "results are being computed; try again in a few seconds",
                            headers={"Retry-After": "5"})
    return overview


def _hidden(request: Request, token: tokens.Token) -> frozenset[str]:
    _, project = request.app.state.site.project()
    return visibility.hidden(project, visibility.Reader(None, token.teams))


ERRORS = {401: {"model": Problem}, 403: {"model": Problem}, 503: {"model": Problem}}


@router.get("/findings", response_model=Findings, responses=ERRORS)
def findings(request: Request, severity: Optional[Literal["error", "warning", "info"]] = Query(None),
             code: Optional[str] = Query(None, max_length=64), token: tokens.Token = Depends(token_of)):
    """Every finding of `accord check`, as its JSON."""
    result = _overview(request).check
    hide = _hidden(request, token)
    rows = [f.as_dict() for f in result.findings
            if (severity is None or f.severity == severity) and (code is None or f.code == code)
            and not set(f.metrics) & hide]
    return {"findings": plain_data(rows), "counts": result.counts()}


@router.get("/metrics", response_model=Metrics, responses=ERRORS)
def metrics(request: Request, team: Optional[str] = Query(None, max_length=64),
            token: tokens.Token = Depends(token_of)):
    """Each metric with its value for the last complete period and its target status (null, with
    `restricted: true`, for a metric whose `visible_to` leaves out every team of the token)."""
    report = visibility.redact(_overview(request).report, _hidden(request, token))
    return {"metrics": [{"name": m.name, "label": m.label, "team": m.team, "level": m.level, "owner": m.owner,
                         "unit": m.unit, "period": m.period,
                         "value": None if m.value is None else plain(m.value), "target_status": m.target_status,
                         "restricted": m.restricted}
                        for m in report.metrics if team is None or m.team == team]}

"""What every page shares: the signed-in person, forms (every field known, the CSRF token right), templates."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from accord.store import accounts
from accord.web.permissions import Person
from accord.web.security import PRE_COOKIE, SESSION_COOKIE, new_pre_token, same
from accord.web.site import Site

HERE = Path(__file__).parent


class Refused(Exception):
    """403: the signed-in person may not do this (logged)."""

    def __init__(self, action: str, target: str, why: str):
        super().__init__(why)
        self.action, self.target, self.why = action, target, why


class BadForm(Exception):
    """400: a form with fields the page does not have, or a missing CSRF token."""


@lru_cache(maxsize=1)
def templates() -> Environment:
    from accord.render.html import environment as report_environment
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    shared = report_environment()
    env.filters.update(shared.filters)
    env.globals.update(shared.globals)
    env.globals.update(quote=lambda s: quote(str(s), safe=""), urlencode=urlencode)
    env.filters["trend"] = _remembered(shared.filters["trend"])
    env.globals["weekly_touches_chart"] = _remembered(shared.globals["weekly_touches_chart"])
    return env


def _remembered(chart):
    """A chart drawn once per (metric view, size): views are frozen, and drawing is the slow part of a page."""
    drawn = lru_cache(maxsize=1024)(chart)

    def cached(m, *args):
        try:
            return drawn(m, *args)
        except TypeError:          # a view that cannot be hashed is drawn every time
            return chart(m, *args)
    return cached


# ---------------------------------------------------------------- the signed-in person

def site_of(request: Request) -> Site:
    return request.app.state.site


def person_of(request: Request) -> Person | None:
    if hasattr(request.state, "person"):
        return request.state.person
    site = site_of(request)
    person = None
    raw = request.cookies.get(SESSION_COOKIE)
    token = accounts.unsign(site.key, raw) if raw else None
    if token:
        s = accounts.session(site.db, token)
        if s is not None:
            from accord import app
            _, project = site.project()
            person = Person(s.email, s.role, app.people(project).get(s.email, ()), s.csrf)
    request.state.person = person
    return person


def require(request: Request) -> Person:
    person = person_of(request)
    if person is None:
        raise HTTPException(303, headers={"Location": "/sign-in?" + urlencode({"next": _local(str(request.url.path))})})
    return person


def _local(url: str) -> str:
    """Only a path on this site (never //host or a scheme) is followed after signing in."""
    return url if url.startswith("/") and not url.startswith("//") and "\\" not in url else "/"


async def form_of(request: Request, fields: set[str], person: Person | None = None) -> dict[str, str]:
    """The posted form: every field one the page has, the CSRF token right; else BadForm (400)."""
    try:
        form = await request.form(max_files=0, max_fields=200)
    except Exception:
        raise BadForm("the form could not be read. reload the page and send it again") from None
    data: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str):
            raise BadForm("files are not accepted here")
        if key != "csrf" and key not in fields:
            raise BadForm(f"field '{key}' is not part of this form. reload the page")
        data[key] = data[key] + "\n" + value if key in data and key != "csrf" else value
    expected = person.csrf if person is not None else request.cookies.get(PRE_COOKIE)
    if not same(data.pop("csrf", None), expected):
        raise BadForm("the form's security token is missing or out of date (a page open too long, or sent from "
                      "another site). reload the page and send it again")
    return data


def render(request: Request, template: str, context: dict, status: int = 200) -> HTMLResponse:
    person = person_of(request) if hasattr(request.app.state, "site") else None
    pre = None
    if person is None:
        pre = request.cookies.get(PRE_COOKIE) or new_pre_token()
    site = site_of(request)
    _, project = site.project()
    html = templates().get_template(template).render(
        request=request, person=person, csrf=person.csrf if person else pre, project_name=project.name,
        path=request.url.path, **context)
    response = HTMLResponse(html, status_code=status)
    if pre is not None and request.cookies.get(PRE_COOKIE) != pre:
        response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="lax", secure=site.secure, path="/")
    return response


def redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def today_of(project) -> dt.date:
    from accord import app
    return app.today(project)

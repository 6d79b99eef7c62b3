"""The ASGI app: the routers, the middleware, and the error pages (403 logged, 4xx never a 500)."""
from __future__ import annotations

import sys
import threading
from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.staticfiles import StaticFiles

from accord.errors import UserError
from accord.store import audit
from accord.web.page import HERE, BadForm, Refused, redirect, render
from accord.web.security import BodyLimit, Guard
from accord.web.site import Site


def build(root: Path, warm: bool = True, digests: bool = True) -> FastAPI:
    site = Site(root)
    web = FastAPI(title="accord", version="1", openapi_url="/api/v1/openapi.json", docs_url=None, redoc_url=None)
    web.state.site = site
    web.add_middleware(Guard)
    web.add_middleware(BodyLimit)        # added last, so it runs first
    web.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    from accord.web import api, arbiter, links, pages
    web.include_router(api.router)
    web.include_router(arbiter.router)
    web.include_router(links.router)
    web.include_router(pages.router)
    web.state.arbiter_metrics = arbiter.Metrics()
    web.add_middleware(arbiter.FastClaims)
    _one_line_errors(web)

    @web.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        person = getattr(request.state, "person", None)
        audit.record(site.db, person.email if person else "anonymous", exc.action, exc.target,
                     outcome="refused")
        return render(request, "refused.html.j2", {"why": exc.why}, status=403)

    @web.exception_handler(BadForm)
    async def bad_form(request: Request, exc: BadForm):
        return render(request, "problem.html.j2", {"title": "This form cannot be used", "lines": [str(exc)]},
                      status=400)

    @web.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        return render(request, "problem.html.j2", {"title": "Something needs fixing", "lines": exc.lines()},
                      status=422)

    @web.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 303:
            return redirect(exc.headers["Location"])
        if request.url.path.startswith(("/api/", "/-/metrics")):
            from fastapi.responses import JSONResponse
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        titles = {404: "Not found", 405: "Not allowed here", 401: "Sign in first"}
        return render(request, "problem.html.j2", {"title": titles.get(exc.status_code, "Refused"),
                                                   "lines": [str(exc.detail)]}, status=exc.status_code)

    stop = threading.Event()

    @web.on_event("shutdown")
    def close() -> None:
        stop.set()
        site.close()

    config = site.project()[1].config
    if digests and config.smtp is not None and config.digest.from_:
        # the morning digest, sent at digest.at by whichever serving process takes the day's run
        threading.Thread(target=_digest_schedule, args=(site, stop), daemon=True, name="accord-digest").start()

    if warm:       # start computing at once, so that the first page is served from the results
        threading.Thread(target=_warm, args=(site,), daemon=True, name="accord-warm").start()
    return web


def build_arbiter(root: Path) -> FastAPI:
    """The contact arbiter's API alone: claims, checks, states, timelines, /-/healthz and /-/metrics."""
    from fastapi.responses import JSONResponse

    from accord.web import arbiter
    site = Site(root)
    web = FastAPI(title="accord arbiter", version="1", openapi_url="/api/v1/openapi.json", docs_url=None,
                  redoc_url=None)
    web.state.site = site
    web.state.arbiter_metrics = arbiter.Metrics()
    web.add_middleware(Guard)
    web.add_middleware(BodyLimit)
    web.add_middleware(arbiter.FastClaims)       # added last, so it runs first; it reads at most 64 KiB itself
    web.include_router(arbiter.router)
    _one_line_errors(web)

    @web.get("/-/healthz", response_class=PlainTextResponse)
    async def healthz(request: Request):
        await arbiter.run(request, site.db.query, "SELECT 1")
        return PlainTextResponse("ok\n")

    @web.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @web.on_event("shutdown")
    def close() -> None:
        site.close()
    return web


def _one_line_errors(web: FastAPI) -> None:
    """A request the API cannot read is a 422 with one line: which field, what is wrong, what to send."""
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    @web.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        return JSONResponse({"detail": problem_line(exc.errors())}, status_code=422)


def problem_line(errors) -> str:
    """The first problem of a request, as one line."""
    if not errors:
        return "the request cannot be read. send JSON as the schema at /api/v1/openapi.json says"
    e = errors[0]
    where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
    kind = e.get("type", "")
    if kind == "json_invalid":
        return "the body is not valid JSON. send one JSON object"
    if kind == "extra_forbidden":
        return f"{where}: is not a field of this request. remove it (see /api/v1/openapi.json)"
    if kind == "missing":
        return f"{where}: is missing. add it"
    if kind == "timezone_aware":
        return f"{where}: has no time zone. write it as ISO 8601 with an offset, such as 2026-06-01T09:30:00+02:00"
    msg = str(e.get("msg", "is not valid")).replace("\n", " ")
    return f"{where}: {msg[0].lower() + msg[1:] if msg else msg}. fix the value (see /api/v1/openapi.json)"


def _warm(site: Site) -> None:
    """Compute the results, then draw the charts of the home page (drawing is the slow part of a page; the other
    pages draw theirs when first asked)."""
    site.warm()
    overview = site.overview()
    if overview is None:
        return
    from accord.web.page import templates
    env = templates()
    for m in overview.report.company:
        env.filters["trend"](m)



DIGEST_TICK = 60     # seconds between looks at the clock


def render_digest_for(project, db):
    """How `accord serve` renders a digest: the email with links to this site and a signed unsubscribe link."""
    from accord import app
    from accord.render import digest as render_digest
    sender = app.digest_sender(project)
    base = project.config.serve.base_url
    return lambda d: render_digest.message(d, sender, render_digest.Links(base, app.unsubscribe_link(project, db,
                                                                                                     d.person)))


def _digest_schedule(site: Site, stop: threading.Event) -> None:
    """Every minute: when the day's digests are due (digest.at in settings.timezone), send them unless another
    process has; failures are one line each on stderr, like `accord digest --send`."""
    from accord import app
    while not stop.wait(DIGEST_TICK):
        try:
            outcome = app.send_due_digests(site.project()[1], site.db, render_digest_for)
        except UserError as e:
            outcome = None
            for line in e.lines():
                print(f"accord serve: digest: {line}", file=sys.stderr)
        except Exception as e:      # the schedule must outlive one bad morning; the next tick tries again
            outcome = None
            print(f"accord serve: digest: {type(e).__name__}: {e}", file=sys.stderr)
        for line in outcome.lines() if outcome is not None else ():
            print(f"accord serve: digest: {line}", file=sys.stderr)
